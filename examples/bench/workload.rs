//! The benchmark's workloads: `rekube::synth` repositories renamed with a per-run prefix, so every cold run
//! writes objects the API server has never seen (Namespaces, CRD groups and inventories are all new), the
//! 1% change used by the diff scenario, and the folder layout each tool reads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rekube::synth::{self, SynthOptions, SynthRepo};
use rekube::{Object, ObjectId};
use serde_json::Value;

use crate::Error;

/// Annotation added by the 1% change.
const CHANGE_ANNOTATION: &str = "bench.rekube.dev/change";
/// Label naming the run on every object, for selectors (`kubectl wait -l`).
pub const RUN_LABEL: &str = "bench.rekube.dev/run";

/// One run's repository: objects named under `prefix`, and where it is written.
pub struct Workload {
    pub prefix: String,
    pub repo: SynthRepo,
    pub dir: PathBuf,
}

impl Workload {
    /// Generates `objects` objects with Namespaces `<prefix>-synth-NNNN` and the CRD group
    /// `<prefix>.synth.rekube.dev`, and writes them to `root/<prefix>` (layers `cluster/` and `apps/`).
    pub fn new(objects: usize, prefix: &str, root: &Path) -> Result<Self, Error> {
        let mut repo = synth::generate(&SynthOptions { objects });
        for o in &mut repo.objects {
            rename(o, prefix);
        }
        let w = Workload {
            prefix: prefix.to_string(),
            repo,
            dir: root.join(prefix),
        };
        w.write()?;
        Ok(w)
    }

    /// (Re)writes the repository's files.
    pub fn write(&self) -> Result<(), Error> {
        synth::write(&self.repo, &self.dir)
            .map_err(|e| format!("writing {}: {e}", self.dir.display()))?;
        Ok(())
    }

    /// Annotates 1% of the objects (at least one; never a CRD or a Namespace, which a diff of an app
    /// change would not touch) and rewrites the files. Returns how many changed.
    pub fn change_one_percent(&mut self) -> Result<usize, Error> {
        let n = self.repo.objects.len();
        let want = n.div_ceil(100).max(1);
        let candidates: Vec<usize> = (0..n)
            .filter(|&i| self.repo.objects[i].source.layer == "apps")
            .collect();
        // Spread over the repository: every k-th app object.
        let step = (candidates.len() / want).max(1);
        let mut changed = 0;
        for &i in candidates.iter().step_by(step).take(want) {
            let meta = &mut self.repo.objects[i].body["metadata"];
            if !meta["annotations"].is_object() {
                meta["annotations"] = Value::Object(Default::default());
            }
            meta["annotations"][CHANGE_ANNOTATION] = Value::String("2".into());
            changed += 1;
        }
        self.write()?;
        Ok(changed)
    }

    /// The Namespaces the repository declares.
    pub fn namespaces(&self) -> Vec<String> {
        self.names_of("Namespace")
    }

    /// The CustomResourceDefinitions the repository declares.
    pub fn crds(&self) -> Vec<String> {
        self.names_of("CustomResourceDefinition")
    }

    /// Lower-case plural resource names of every kind in the repository (to filter apiserver metrics).
    pub fn resources(&self) -> BTreeSet<String> {
        self.repo.objects.iter().map(|o| plural(o.kind())).collect()
    }

    /// Number of Deployments, the objects whose readiness takes the longest.
    pub fn deployments(&self) -> usize {
        self.repo
            .objects
            .iter()
            .filter(|o| o.kind() == "Deployment")
            .count()
    }

    fn names_of(&self, kind: &str) -> Vec<String> {
        self.repo
            .objects
            .iter()
            .filter(|o| o.kind() == kind)
            .map(|o| o.name().to_string())
            .collect()
    }

    /// Adds what `kpt live apply` needs: no `rekube.yaml` (kpt would read it as a resource) and a
    /// Kptfile; `kpt live init` then adds the inventory (run by the caller, it needs the binary).
    pub fn prepare_for_kpt(&self) -> Result<(), Error> {
        let rekube_yaml = self.dir.join("rekube.yaml");
        std::fs::remove_file(&rekube_yaml)
            .map_err(|e| format!("removing {}: {e}", rekube_yaml.display()))?;
        let kptfile = format!(
            "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: {}\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
            self.prefix
        );
        let path = self.dir.join("Kptfile");
        std::fs::write(&path, kptfile).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(())
    }
}

/// The plural resource name of the kinds synth generates (all regular: lower case + "s").
pub fn plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower.ends_with('s') {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

/// Moves an object into the run's namespaces and CRD group.
fn rename(o: &mut Object, prefix: &str) {
    let group = format!("{prefix}.{}", synth::GROUP);
    let body = &mut o.body;
    match o.id.kind.as_str() {
        "Namespace" => prefix_string(&mut body["metadata"]["name"], prefix),
        "CustomResourceDefinition" => {
            body["spec"]["group"] = Value::String(group.clone());
            if let Some(name) = body["metadata"]["name"].as_str() {
                let renamed = name.replace(synth::GROUP, &group);
                body["metadata"]["name"] = Value::String(renamed);
            }
        }
        _ => {}
    }
    let meta = &mut body["metadata"];
    if !meta["labels"].is_object() {
        meta["labels"] = Value::Object(Default::default());
    }
    meta["labels"][RUN_LABEL] = Value::String(prefix.to_string());
    if body["metadata"]["namespace"].is_string() {
        prefix_string(&mut body["metadata"]["namespace"], prefix);
    }
    if o.id.group == synth::GROUP {
        o.api_version = o.api_version.replace(synth::GROUP, &group);
        body["apiVersion"] = Value::String(o.api_version.clone());
    }
    let meta = &body["metadata"];
    o.id = ObjectId::new(
        rekube::object::split_api_version(&o.api_version).0,
        &o.id.kind,
        meta["namespace"].as_str(),
        meta["name"].as_str().unwrap_or_default(),
    );
}

fn prefix_string(v: &mut Value, prefix: &str) {
    if let Some(s) = v.as_str() {
        *v = Value::String(format!("{prefix}-{s}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renamed_under_the_prefix() {
        let dir = tempfile::tempdir().expect("temp dir");
        let w = Workload::new(100, "b-x-1", dir.path()).expect("writes");
        assert!(w.namespaces().iter().all(|n| n.starts_with("b-x-1-synth-")));
        assert!(
            w.crds()
                .iter()
                .all(|n| n.ends_with(".b-x-1.synth.rekube.dev"))
        );
        assert!(w.repo.objects.iter().all(|o| o.id.group != synth::GROUP));
        assert!(w.dir.join("rekube.yaml").is_file());
    }
}
