//! A release: what the rest of the pipeline knows of one rendered chart.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::hooks::{Hook, Operation};
use crate::object::{Object, ObjectId};

/// One chart rendered as a release. Its objects are ordinary objects of the manifest (applied,
/// inventoried, pruned and checked for drift like any other); its hooks are runs, kept here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Release {
    /// Release name (`.Release.Name`).
    pub name: String,
    /// Release namespace (`.Release.Namespace`), the default of its namespaced objects.
    pub namespace: String,
    /// Layer the release belongs to.
    pub layer: String,
    /// `name version` from Chart.yaml.
    pub chart: String,
    /// Where the chart comes from: its folder in the repository, or its repository URL.
    pub origin: String,
    /// Values files, in the order given to Helm (repository paths).
    pub values: Vec<String>,
    /// The chart's objects other than hooks, in rendering order.
    pub members: Vec<ObjectId>,
    /// Hooks, in rendering order (test hooks only when the chart entry asks for tests).
    pub hooks: Vec<Hook>,
    /// `sha256:` over the rendering (objects and hooks): a changed digest means an upgrade.
    pub digest: String,
}

impl Release {
    /// `namespace/name`: unique in a cluster, as Helm's release names are.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// `sha256:` over the canonical JSON of the chart's objects and hooks, in identity order, so that the
/// same rendering always gives the same digest.
pub fn release_digest<'a>(objects: impl IntoIterator<Item = &'a Object>, hooks: &[Hook]) -> String {
    let mut all: Vec<(&str, &Object)> = objects.into_iter().map(|o| ("object", o)).collect();
    all.extend(hooks.iter().map(|h| ("hook", &h.object)));
    all.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    let mut h = Sha256::new();
    for (what, o) in all {
        h.update(format!("{what} {}\n", crate::graph::object_key(&o.id)).as_bytes());
        crate::graph::canonical::write(&o.body, &mut h);
        h.update(b"\n");
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// What a run does with each release's hooks: install hooks when none of its objects are in the
/// inventory (`present`: the members found before the apply), none when its digest is the one
/// recorded after the last complete apply, upgrade hooks otherwise.
pub fn operations(
    releases: &[Release],
    present: &BTreeSet<ObjectId>,
    recorded: &BTreeMap<String, String>,
) -> Vec<Operation> {
    releases
        .iter()
        .map(|r| {
            let known = recorded.get(&r.key());
            let installed = if r.members.is_empty() {
                known.is_some()
            } else {
                r.members.iter().any(|id| present.contains(id))
            };
            match (installed, known) {
                (false, _) => Operation::Install,
                (true, Some(d)) if *d == r.digest => Operation::Unchanged,
                (true, _) => Operation::Upgrade,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_upgrade_or_nothing_from_the_inventory() {
        let member = ObjectId::new("apps", "Deployment", Some("web"), "api");
        let release = |members: Vec<ObjectId>, digest: &str| Release {
            name: "api".into(),
            namespace: "web".into(),
            layer: "apps".into(),
            chart: "api 1.0.0".into(),
            origin: "apps/api".into(),
            values: Vec::new(),
            members,
            hooks: Vec::new(),
            digest: digest.into(),
        };
        let present = BTreeSet::from([member.clone()]);
        let recorded = BTreeMap::from([("web/api".to_string(), "sha256:a".to_string())]);
        let cases = [
            (
                "new to the inventory",
                release(vec![member.clone()], "sha256:a"),
                BTreeSet::new(),
                Operation::Install,
            ),
            (
                "rendering unchanged",
                release(vec![member.clone()], "sha256:a"),
                present.clone(),
                Operation::Unchanged,
            ),
            (
                "rendering changed",
                release(vec![member.clone()], "sha256:b"),
                present.clone(),
                Operation::Upgrade,
            ),
            (
                "only hooks, recorded",
                release(Vec::new(), "sha256:a"),
                BTreeSet::new(),
                Operation::Unchanged,
            ),
        ];
        for (name, r, present, want) in cases {
            let got = operations(std::slice::from_ref(&r), &present, &recorded);
            assert_eq!(got, [want], "{name}");
        }
        let got = operations(
            &[release(Vec::new(), "sha256:a")],
            &present,
            &BTreeMap::new(),
        );
        assert_eq!(got, [Operation::Install], "only hooks, nothing recorded");
    }
}
