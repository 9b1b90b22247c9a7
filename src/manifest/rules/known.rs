//! The kinds a rule may name: those of the repository's objects and CRDs, of discovery, built-in kinds,
//! and kinds with a built-in health rule.

use crate::builtin::is_builtin_group;
use crate::manifest::scope::{Scope, Scopes, builtin_scope, crd_scope};
use crate::object::{Object, split_api_version};

/// The kinds a rule may name.
pub(super) struct Known<'a> {
    pub(super) objects: &'a [Object],
    pub(super) scopes: &'a Scopes,
}

impl Known<'_> {
    /// `group`/`kind` is a kind of the repository, of its CRDs or discovery, a built-in kind, or a kind
    /// with a built-in health rule. `group: None` asks about the kind in any group.
    pub(super) fn has(&self, group: Option<&str>, kind: &str) -> bool {
        let group_ok = |g: &str| group.is_none_or(|want| want == g);
        self.candidates().any(|(g, k)| k == kind && group_ok(&g))
            || group
                .is_some_and(|g| !is_builtin_group(g) && self.scopes.scope_of(g, kind).is_some())
            || group.is_some_and(|g| builtin_scope(g, kind) == Some(Scope::Cluster))
    }

    /// Known `(group, kind)` pairs that can be listed.
    fn candidates(&self) -> impl Iterator<Item = (String, String)> + '_ {
        let objects = self.objects.iter().flat_map(|o| {
            let own = (o.id.group.clone(), o.id.kind.clone());
            let crd = crd_scope(o).map(|(g, k, _)| (g, k));
            std::iter::once(own).chain(crd)
        });
        let builtin = crate::manifest::schema::BUILTIN_TYPES
            .iter()
            .map(|(v, k)| (split_api_version(v).0.to_string(), k.to_string()));
        let rules = crate::readiness::health::builtin()
            .iter()
            .filter(|r| !r.kind.contains('*') && !r.group.contains('*'))
            .map(|r| (r.group.clone(), r.kind.clone()));
        objects.chain(builtin).chain(rules)
    }

    /// A kind spelt differently (case) that is known, for a hint.
    pub(super) fn near(&self, kind: &str) -> Option<String> {
        self.candidates()
            .map(|(_, k)| k)
            .find(|k| k.eq_ignore_ascii_case(kind) && k != kind)
    }
}
