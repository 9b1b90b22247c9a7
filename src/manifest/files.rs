//! Files of a layer: `.yaml`/`.yml`/`.json` in sorted order, Kustomize folders, symlinks, size and
//! encoding checks.
//!
//! Hidden files and folders (`.git`, `.github`, `.gitlab-ci.yml`…) are skipped: they hold tooling, not
//! objects. A folder with a kustomization is one input, rendered by Kustomize, and a folder with a
//! `Chart.yaml` is one input, rendered by Helm; nothing below either is read one by one. Symlinks are followed when they stay inside the repository (each folder is read once, so
//! a link loop ends); a symlink that leaves the repository is an error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::diagnostics::Diagnostic;
use crate::object::Layer;

/// File names that make a folder a Kustomization.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Something to read: a manifest file or a folder to render with Kustomize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// `rel` is relative to the repository root, `/`-separated; `abs` is where to read it.
    File {
        rel: String,
        abs: PathBuf,
    },
    Kustomization {
        rel: String,
        abs: PathBuf,
    },
    /// A folder with a `Chart.yaml`: a Helm chart, rendered with its default values.
    Chart {
        rel: String,
        abs: PathBuf,
    },
}

/// What a walk over a layer found.
#[derive(Debug, Default)]
pub struct Walk {
    pub inputs: Vec<Input>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

/// Collects the inputs of `layer` under the canonical repository `root`.
pub fn collect(root: &Path, layer: &Layer) -> Walk {
    let mut walker = Walker {
        root,
        visited: BTreeSet::new(),
        walk: Walk::default(),
    };
    let rel = if layer.path == "." {
        String::new()
    } else {
        layer.path.clone()
    };
    walker.dir(&root.join(&rel), &rel);
    walker.walk
}

struct Walker<'a> {
    root: &'a Path,
    visited: BTreeSet<PathBuf>,
    walk: Walk,
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

fn display(rel: &str) -> &str {
    if rel.is_empty() { "." } else { rel }
}

/// True when `dir` (canonical) contains the link at `link`.
fn is_ancestor(dir: &Path, link: &Path) -> bool {
    link.parent()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .is_some_and(|p| p.starts_with(dir))
}

fn is_manifest(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

impl Walker<'_> {
    fn dir(&mut self, abs: &Path, rel: &str) {
        let real = match std::fs::canonicalize(abs) {
            Ok(real) => real,
            Err(e) => {
                let msg = format!("cannot read folder: {e}");
                self.walk.errors.push(Diagnostic::new(display(rel), msg));
                return;
            }
        };
        if !self.visited.insert(real.clone()) {
            let msg = "folder already read through another path (symlink?): skipped";
            self.walk.warnings.push(Diagnostic::new(display(rel), msg));
            return;
        }
        if abs.join(crate::helm::chart::CHART_FILE).is_file() {
            self.walk.inputs.push(Input::Chart {
                rel: display(rel).to_string(),
                abs: abs.to_path_buf(),
            });
            return;
        }
        if KUSTOMIZATION_FILES.iter().any(|f| abs.join(f).is_file()) {
            self.walk.inputs.push(Input::Kustomization {
                rel: display(rel).to_string(),
                abs: abs.to_path_buf(),
            });
            return;
        }
        let entries = match std::fs::read_dir(abs) {
            Ok(it) => it.filter_map(Result::ok).collect::<Vec<_>>(),
            Err(e) => {
                self.walk.errors.push(Diagnostic::new(
                    display(rel),
                    format!("cannot read folder: {e}"),
                ));
                return;
            }
        };
        let mut entries: Vec<(String, std::fs::DirEntry)> = entries
            .into_iter()
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, entry) in entries {
            // Hidden entries hold tooling; rekube.yaml at the root is the layer file, not an object.
            if name.starts_with('.') || (real == self.root && name == super::layers::CONFIG_FILE) {
                continue;
            }
            let path = entry.path();
            let entry_rel = join(rel, &name);
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_symlink() {
                self.symlink(&path, &entry_rel, &name);
            } else if file_type.is_dir() {
                self.dir(&path, &entry_rel);
            } else if file_type.is_file() && is_manifest(&name) {
                self.walk.inputs.push(Input::File {
                    rel: entry_rel,
                    abs: path,
                });
            }
        }
    }

    fn symlink(&mut self, path: &Path, rel: &str, name: &str) {
        let target = std::fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        let real = match std::fs::canonicalize(path) {
            Ok(real) => real,
            Err(_) => {
                if is_manifest(name) {
                    let msg = format!("broken symlink to {target:?}");
                    self.walk.errors.push(Diagnostic::new(rel, msg));
                }
                return;
            }
        };
        // Only links that would be read matter: folders and manifest files.
        if !(real.is_dir() || is_manifest(name)) {
            return;
        }
        if !real.starts_with(self.root) {
            let msg = format!(
                "symlink to {target:?} leaves the repository: only links inside it are followed"
            );
            self.walk.errors.push(Diagnostic::new(rel, msg));
        } else if real.is_dir() && is_ancestor(&real, path) {
            // A link to a folder that contains it would read that folder again, endlessly.
            let msg = format!("symlink to {target:?} points to a folder that contains it: skipped");
            self.walk.warnings.push(Diagnostic::new(rel, msg));
        } else if real.is_dir() {
            self.dir(path, rel);
        } else if real.is_file() {
            self.walk.inputs.push(Input::File {
                rel: rel.to_string(),
                abs: path.to_path_buf(),
            });
        }
    }
}

/// Reads a text file: at most `limit` bytes, UTF-8 (a leading BOM is dropped). `rel` names it in errors.
pub fn read_text(abs: &Path, rel: &str, limit: u64) -> Result<String, Diagnostic> {
    let size = std::fs::metadata(abs)
        .map_err(|e| Diagnostic::new(rel, format!("cannot read file: {e}")))?
        .len();
    if size > limit {
        return Err(Diagnostic::new(
            rel,
            format!(
                "file is too large: {size} bytes, over the limit of {limit} bytes (see LoadOptions::max_file_size)"
            ),
        ));
    }
    let bytes =
        std::fs::read(abs).map_err(|e| Diagnostic::new(rel, format!("cannot read file: {e}")))?;
    decode(bytes).map_err(|(offset, line, column, msg)| {
        Diagnostic::new(rel, format!("{msg} at byte offset {offset}")).at(line, Some(column))
    })
}

/// UTF-8 text without BOM, or (byte offset, line, column, message) of the first invalid byte.
fn decode(mut bytes: Vec<u8>) -> Result<String, (usize, usize, usize, String)> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let offset = e.utf8_error().valid_up_to();
        let before = &bytes[..offset];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + offset
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
        let msg = if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            "file is UTF-16, not UTF-8 (save it as UTF-8)"
        } else {
            "file is not valid UTF-8"
        };
        (offset, line, column, msg.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1\n".to_vec()).unwrap(), "a: 1\n");
        let (offset, line, column, _) = decode(b"a: 1\nb: \xFF\n".to_vec()).unwrap_err();
        assert_eq!((offset, line, column), (8, 2, 4));
        let (_, _, _, msg) = decode(b"\xFF\xFEa\x00".to_vec()).unwrap_err();
        assert!(msg.contains("UTF-16"));
    }

    #[test]
    fn manifest_extensions() {
        for (name, yes) in [
            ("a.yaml", true),
            ("b.YML", true),
            ("c.json", true),
            ("d.md", false),
            ("yaml", false),
        ] {
            assert_eq!(is_manifest(name), yes, "{name}");
        }
    }
}
