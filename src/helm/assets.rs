//! Building the pinned Helm. The Go module and build script in `tests/helm/` are embedded with
//! `include_str!`, so that an installed rekube, far from its source tree, can build its own Helm (as it
//! builds its own control plane). The script decides whether a build is needed: it answers at once
//! when the binary for these exact sources is already in the cache.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::HelmError;

/// The Go sources and build script, by their path under `tests/helm/`.
pub(crate) const SOURCES: &[(&str, &str)] = &[
    ("build.sh", include_str!("../../tests/helm/build.sh")),
    ("go.mod", include_str!("../../tests/helm/go.mod")),
    ("go.sum", include_str!("../../tests/helm/go.sum")),
    (
        "kustomize/go.mod",
        include_str!("../../tests/helm/kustomize/go.mod"),
    ),
    (
        "kustomize/go.sum",
        include_str!("../../tests/helm/kustomize/go.sum"),
    ),
];

/// Exit code of build.sh when Go is missing or too old.
const EXIT_GO_MISSING: i32 = 3;

/// Runs the embedded build script and returns the binary it printed on its last line. Its progress
/// goes to stderr as it happens (a cold build takes minutes, the user should see why).
pub(crate) fn build() -> Result<PathBuf, HelmError> {
    let sources = tempfile::Builder::new()
        .prefix("rekube-helm-src-")
        .tempdir()
        .map_err(|source| HelmError::io("creating a temp folder", "", source))?;
    for (name, text) in SOURCES {
        let path = sources.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| HelmError::io("creating", parent, source))?;
        }
        std::fs::write(&path, text).map_err(|source| HelmError::io("writing", &path, source))?;
    }
    let script = sources.path().join("build.sh");
    let mut child = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| HelmError::io("running bash", &script, source))?;
    let stderr = child.stderr.take();
    let forward = std::thread::spawn(move || {
        let mut tail = Vec::new();
        if let Some(stderr) = stderr {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(std::io::stderr(), "{line}");
                tail.push(line);
                if tail.len() > 20 {
                    tail.remove(0);
                }
            }
        }
        tail.join("\n")
    });
    let mut stdout = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            stdout.push_str(&line);
            stdout.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|source| HelmError::io("running", &script, source))?;
    let tail = forward.join().unwrap_or_default();
    if status.code() == Some(EXIT_GO_MISSING) {
        let message = tail.lines().last().unwrap_or_default();
        let message = message.strip_prefix("helm build: ").unwrap_or(message);
        return Err(HelmError::Missing {
            message: message.to_owned(),
        });
    }
    if !status.success() {
        return Err(HelmError::Build { status, tail });
    }
    match stdout.lines().last() {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Err(HelmError::Build { status, tail }),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every file of the Go module must be embedded, or an installed rekube would build without it.
    #[test]
    fn every_helm_source_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(&root).unwrap();
                    on_disk.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> =
            SOURCES.iter().map(|(name, _)| (*name).to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    /// The version the binary reports is the one go.mod pins.
    #[test]
    fn pinned_version_matches_go_mod() {
        let go_mod = SOURCES.iter().find(|(n, _)| *n == "go.mod").unwrap().1;
        let pinned = go_mod
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("helm.sh/helm/v4 "))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap();
        assert_eq!(pinned, super::super::PINNED_VERSION);
    }
}
