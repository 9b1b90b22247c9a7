//! Tests of [`load`](super::load), by topic: one small repository per validation rule ([`rules`]), how
//! loading behaves as a whole ([`loading`]), and scopes and namespaces ([`scope`]).

use std::path::Path;

use super::{LoadOptions, Manifest, load_dir};

mod loading;
mod rules;
mod scope;

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: web}\n";

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (rel, content) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    dir
}

fn load(dir: &Path) -> Result<Manifest, Vec<String>> {
    load_dir(dir, &LoadOptions::default())
        .map_err(|e| e.errors.iter().map(ToString::to_string).collect())
}
