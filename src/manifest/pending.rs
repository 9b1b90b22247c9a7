//! Objects of unknown scope, placed once the cluster's discovery answered (cluster commands only: see
//! [`ScopeLookup::Discovery`](super::ScopeLookup)). Pure: the caller looks the kinds up and passes their
//! scopes in.

use std::collections::BTreeSet;

use super::Manifest;
use super::diagnostics::{self, Diagnostic, Diagnostics};
use super::resolve::{Placement, Reporter, check_duplicates, enact, place};
use super::scope::Scopes;

impl Manifest {
    /// `(group, kind)` of every object whose scope only discovery can tell; empty when nothing waits.
    pub fn unresolved_kinds(&self) -> BTreeSet<(String, String)> {
        self.unresolved
            .iter()
            .filter_map(|u| self.objects.get(u.index))
            .map(|o| (o.id.group.clone(), o.id.kind.clone()))
            .collect()
    }

    /// Places the objects of unknown scope with `scopes` (from discovery) as [`load`](super::load)
    /// places every other object: namespace defaults, stray namespaces dropped, objects defined twice.
    /// Returns the new warnings (also added to [`Manifest::warnings`]).
    ///
    /// # Errors
    /// [`Diagnostics`] naming each object without a namespace whose kind `scopes` does not know either
    /// (not served by the cluster, no CRD in the repository), each namespaced one without a namespace to
    /// default to, and each now defined twice.
    pub fn resolve_scopes(&mut self, scopes: &Scopes) -> Result<Vec<Diagnostic>, Diagnostics> {
        if self.unresolved.is_empty() {
            return Ok(Vec::new());
        }
        let rendered: BTreeSet<String> = self
            .unresolved
            .iter()
            .filter(|u| u.rendered)
            .filter_map(|u| self.objects.get(u.index))
            .map(|o| o.source.path.clone())
            .collect();
        let mut r = Reporter {
            rendered: &rendered,
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        let pending: BTreeSet<usize> = self.unresolved.iter().map(|u| u.index).collect();
        for u in std::mem::take(&mut self.unresolved) {
            let Some(o) = self.objects.get_mut(u.index) else {
                continue;
            };
            let scope = scopes.scope_of(&o.id.group, &o.id.kind);
            match place(scope, o.id.namespace.as_deref(), u.default.as_deref()) {
                // Its own namespace says it is namespaced: the API server will tell if not.
                Placement::Unknown if o.id.namespace.is_some() => {}
                Placement::Unknown => {
                    let msg = format!(
                        "{} is not served by the cluster and no CustomResourceDefinition in the repository defines \
                         it, so whether it is namespaced is unknown: add its CustomResourceDefinition to the \
                         repository, install it, or set metadata.namespace if it is namespaced",
                        o.id.group_kind()
                    );
                    r.errors.push(r.at(&o.source, &o.id, msg));
                }
                placement => enact(o, placement, &mut r),
            }
        }
        check_duplicates(&self.objects, |_| true, |i| pending.contains(&i), &mut r);
        let Reporter {
            mut errors,
            mut warnings,
            ..
        } = r;
        diagnostics::sort(&mut errors);
        diagnostics::sort(&mut warnings);
        self.warnings.extend(warnings.iter().cloned());
        if errors.is_empty() {
            Ok(warnings)
        } else {
            Err(Diagnostics { errors, warnings })
        }
    }
}
