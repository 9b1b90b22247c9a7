//! What rekube reads of a chart folder itself: `Chart.yaml`'s name, version and dependencies, and
//! whether those dependencies are vendored in `charts/` (Helm renders nothing without them).

use std::path::Path;

use serde::Deserialize;

/// The file that makes a folder a chart.
pub const CHART_FILE: &str = "Chart.yaml";

/// The fields of `Chart.yaml` rekube uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ChartMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

/// One entry of `dependencies:`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Dependency {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
}

impl ChartMeta {
    /// Reads `Chart.yaml` of the chart folder `dir`.
    ///
    /// # Errors
    /// The file is missing or is not YAML of the expected shape (the message says which).
    pub fn read(dir: &Path) -> Result<ChartMeta, String> {
        let path = dir.join(CHART_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!("is not a chart: it has no {CHART_FILE}")
            }
            _ => format!("cannot read {CHART_FILE}: {e}"),
        })?;
        let meta: ChartMeta =
            serde_saphyr::from_str(&text).map_err(|e| format!("{CHART_FILE} is not valid: {e}"))?;
        if meta.name.is_empty() {
            return Err(format!("{CHART_FILE} has no name"));
        }
        Ok(meta)
    }

    /// `name version`.
    pub fn describe(&self) -> String {
        if self.version.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.name, self.version)
        }
    }

    /// Dependencies with neither a `charts/<name>/` folder nor a `charts/<name>-*.tgz` archive.
    pub fn missing_dependencies(&self, dir: &Path) -> Vec<String> {
        let vendored: Vec<String> = std::fs::read_dir(dir.join("charts"))
            .map(|it| {
                it.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        self.dependencies
            .iter()
            .filter(|d| {
                let folder = dir.join("charts").join(&d.name).join(CHART_FILE).is_file();
                let archive = vendored.iter().any(|f| {
                    f.strip_prefix(&d.name)
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|rest| rest.ends_with(".tgz"))
                });
                !folder && !archive
            })
            .map(|d| {
                if d.version.is_empty() {
                    d.name.clone()
                } else {
                    format!("{} {}", d.name, d.version)
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_must_be_vendored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CHART_FILE),
            "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 1.x\n  repository: https://x\n- name: db\n  version: 2.0.0\n- name: cache\n  version: 3.0.0\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("charts/db")).unwrap();
        std::fs::write(dir.path().join("charts/db").join(CHART_FILE), "name: db\n").unwrap();
        std::fs::write(dir.path().join("charts/cache-3.0.0.tgz"), "").unwrap();
        let meta = ChartMeta::read(dir.path()).unwrap();
        assert_eq!(meta.describe(), "web 1.0.0");
        assert_eq!(meta.missing_dependencies(dir.path()), ["redis 1.x"]);
    }

    #[test]
    fn a_folder_without_chart_yaml_is_not_a_chart() {
        let dir = tempfile::tempdir().unwrap();
        let err = ChartMeta::read(dir.path()).unwrap_err();
        assert!(err.contains("no Chart.yaml"), "{err}");
    }
}
