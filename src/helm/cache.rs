//! The Helm cache under `${REKUBE_CACHE_DIR:-~/.cache/rekube}/helm/`: renderings by (chart digest,
//! values digest, Kubernetes version, API versions, options) in `renders/`, pulled charts by digest in
//! `charts/`. Entries are written to a temp file and renamed, so a reader never sees half of one;
//! an unreadable cache is a miss, never an error.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Helm;
use super::template::TemplateRequest;

/// The Helm cache folder, when a cache folder is known.
pub fn dir() -> Option<PathBuf> {
    crate::source::default_cache_dir().map(|d| d.join("helm"))
}

/// `sha256:<hex>` of a chart: the archive's bytes, or every file of the folder (paths and contents,
/// in path order; `.git` left out).
///
/// # Errors
/// A file cannot be read.
pub fn chart_digest(path: &Path) -> std::io::Result<String> {
    let mut h = Sha256::new();
    if path.is_file() {
        h.update(std::fs::read(path)?);
    } else {
        let mut files = Vec::new();
        walk(path, path, &mut files)?;
        files.sort();
        for rel in files {
            h.update(rel.as_bytes());
            h.update([0]);
            let bytes = std::fs::read(path.join(&rel))?;
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
    }
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// The cache key of a rendering: everything `helm template` output depends on, lookup aside.
///
/// # Errors
/// The chart or a values file cannot be read.
pub fn render_key(helm: &Helm, r: &TemplateRequest) -> std::io::Result<String> {
    let mut h = Sha256::new();
    let mut line = |k: &str, v: &str| {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([b'\n']);
    };
    line("helm", helm.version());
    line("chart", &chart_digest(&r.chart)?);
    for f in &r.values_files {
        let bytes = std::fs::read(f)?;
        line("values", &hex::encode(Sha256::digest(&bytes)));
    }
    if let Some(v) = &r.values {
        line("inline", &v.to_string());
    }
    line("kube", &r.kube_version);
    let mut apis = r.api_versions.clone();
    apis.sort();
    line("apis", &apis.join(","));
    line("release", &r.release);
    line("namespace", &r.namespace);
    line(
        "flags",
        &format!("crds={} skip-tests={}", r.include_crds, r.skip_tests),
    );
    Ok(hex::encode(h.finalize()))
}

fn render_path(key: &str) -> Option<PathBuf> {
    dir().map(|d| d.join("renders").join(format!("{key}.yaml")))
}

/// A cached rendering.
pub fn get_render(key: &str) -> Option<String> {
    std::fs::read_to_string(render_path(key)?).ok()
}

/// Stores a rendering; a failure only costs a later render.
pub fn put_render(key: &str, text: &str) {
    if let Some(path) = render_path(key)
        && let Err(e) = write_atomic(&path, text.as_bytes())
    {
        tracing::debug!("cannot cache a Helm rendering in {}: {e}", path.display());
    }
}

/// Writes `bytes` to `path` through a temp file in the same folder.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_digest_follows_content_not_time() {
        let a = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(a.path().join("templates")).unwrap();
        std::fs::write(a.path().join("Chart.yaml"), "name: x\n").unwrap();
        std::fs::write(a.path().join("templates/cm.yaml"), "kind: ConfigMap\n").unwrap();
        let first = chart_digest(a.path()).unwrap();
        assert_eq!(chart_digest(a.path()).unwrap(), first);
        std::fs::write(a.path().join("templates/cm.yaml"), "kind: Secret\n").unwrap();
        assert_ne!(chart_digest(a.path()).unwrap(), first);
        assert!(first.starts_with("sha256:"));
    }
}
