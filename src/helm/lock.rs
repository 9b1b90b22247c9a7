//! `rekube.lock`: the digest of every remote chart, written by `rekube lock` and checked by every
//! command, so that a chart changed upstream under the same version is an error, never a silent change.
//!
//! ```yaml
//! # Written by `rekube lock`: remote charts pinned by digest. Commit it.
//! charts:
//! - repository: https://stefanprodan.github.io/podinfo
//!   chart: podinfo
//!   version: 6.5.0
//!   digest: sha256:…
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The lock file at the repository root.
pub const LOCK_FILE: &str = "rekube.lock";

const HEADER: &str = "# Written by `rekube lock`: remote charts pinned by digest. Commit it.\n";

/// The content of `rekube.lock`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    #[serde(default)]
    pub charts: Vec<Locked>,
}

/// One pinned chart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Locked {
    /// `https://…` chart repository or `oci://…` registry path (without the chart name).
    pub repository: String,
    pub chart: String,
    pub version: String,
    /// `sha256:` of the packaged chart.
    pub digest: String,
}

impl LockFile {
    /// Reads `rekube.lock` under `root`; `Ok(None)` when there is none.
    ///
    /// # Errors
    /// The file cannot be read or is not a lock file (the message says which).
    pub fn read(root: &Path) -> Result<Option<LockFile>, String> {
        let path = root.join(LOCK_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read the lock file: {e}")),
        };
        if text.trim().is_empty() {
            return Ok(Some(LockFile::default()));
        }
        serde_saphyr::from_str::<LockFile>(&text)
            .map(Some)
            .map_err(|e| {
                format!("not a valid lock file (run `rekube lock` to write it again): {e}")
            })
    }

    /// The entry pinning `chart` at `version` from `repository`.
    pub fn find(&self, repository: &str, chart: &str, version: &str) -> Option<&Locked> {
        self.charts
            .iter()
            .find(|l| l.repository == repository && l.chart == chart && l.version == version)
    }

    /// The file's text: entries sorted, so that the same charts always give the same file.
    pub fn render(&self) -> String {
        let mut charts = self.charts.clone();
        charts.sort();
        charts.dedup();
        let body = serde_saphyr::to_string(&LockFile { charts }).unwrap_or_default();
        format!("{HEADER}{body}")
    }

    /// Writes `rekube.lock` under `root`.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write(&self, root: &Path) -> std::io::Result<()> {
        super::cache::write_atomic(&root.join(LOCK_FILE), self.render().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(LockFile::read(dir.path()).unwrap(), None);
        let lock = LockFile {
            charts: vec![
                Locked {
                    repository: "oci://registry.example/charts".into(),
                    chart: "web".into(),
                    version: "1.2.3".into(),
                    digest: "sha256:bb".into(),
                },
                Locked {
                    repository: "https://charts.example".into(),
                    chart: "db".into(),
                    version: "0.1.0".into(),
                    digest: "sha256:aa".into(),
                },
            ],
        };
        lock.write(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert!(text.starts_with("# Written by `rekube lock`"), "{text}");
        let back = LockFile::read(dir.path()).unwrap().unwrap();
        assert_eq!(back.charts.len(), 2);
        assert_eq!(back.charts[0].chart, "db", "sorted: {text}");
        assert_eq!(
            back.find("oci://registry.example/charts", "web", "1.2.3")
                .map(|l| l.digest.as_str()),
            Some("sha256:bb")
        );
        assert!(
            back.find("oci://registry.example/charts", "web", "1.2.4")
                .is_none()
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), "charts:\n- repo: x\n").unwrap();
        let err = LockFile::read(dir.path()).unwrap_err();
        assert!(err.contains("rekube lock"), "{err}");
    }
}
