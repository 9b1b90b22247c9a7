//! Finding the control plane's binaries, and building them when they are not there yet.
//!
//! The Go module and build script in `tests/control-plane/` are embedded into rekube with
//! `include_str!` rather than run from `CARGO_MANIFEST_DIR`: an installed `rekube` binary, far from
//! its source tree, can then build its own control plane for `--fresh local`. The script is the
//! single source of truth for the cache layout and for deciding whether a build is needed; it
//! answers at once when the binaries for these exact sources are already in the cache.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::ControlPlaneError;

/// Environment variable naming a folder of prebuilt binaries, as in controller-runtime's envtest.
pub const ASSETS_ENV: &str = "KUBEBUILDER_ASSETS";

/// The Go sources and build script, by their path under `tests/control-plane/`.
pub(crate) const SOURCES: &[(&str, &str)] = &[
    (
        "build.sh",
        include_str!("../../tests/control-plane/build.sh"),
    ),
    ("go.mod", include_str!("../../tests/control-plane/go.mod")),
    ("go.sum", include_str!("../../tests/control-plane/go.sum")),
    (
        "cmd/etcd/main.go",
        include_str!("../../tests/control-plane/cmd/etcd/main.go"),
    ),
    (
        "cmd/kube-apiserver/main.go",
        include_str!("../../tests/control-plane/cmd/kube-apiserver/main.go"),
    ),
    (
        "cmd/kube-controller-manager/main.go",
        include_str!("../../tests/control-plane/cmd/kube-controller-manager/main.go"),
    ),
    (
        "cmd/kube-scheduler/main.go",
        include_str!("../../tests/control-plane/cmd/kube-scheduler/main.go"),
    ),
    (
        "kwok/go.mod",
        include_str!("../../tests/control-plane/kwok/go.mod"),
    ),
    (
        "kwok/go.sum",
        include_str!("../../tests/control-plane/kwok/go.sum"),
    ),
    (
        "kwok/main.go",
        include_str!("../../tests/control-plane/kwok/main.go"),
    ),
];

/// Exit code of build.sh when Go is missing or too old.
const EXIT_GO_MISSING: i32 = 3;

/// The binaries every control plane needs.
const REQUIRED: [&str; 2] = ["etcd", "kube-apiserver"];

/// The kwok Stage configuration (node and pod lifecycles) that build.sh puts beside kwok.
pub(crate) const KWOK_STAGES: &str = "kwok-stages.yaml";

/// A folder holding the control plane's binaries (the KUBEBUILDER_ASSETS layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assets {
    dir: PathBuf,
}

impl Assets {
    /// Checks that `dir` holds at least etcd and kube-apiserver.
    ///
    /// # Errors
    /// [`ControlPlaneError::MissingBinary`] naming the first binary that is not there.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Result<Self, ControlPlaneError> {
        let assets = Self { dir: dir.into() };
        for binary in REQUIRED {
            if assets.binary(binary).is_none() {
                return Err(ControlPlaneError::MissingBinary {
                    binary,
                    dir: assets.dir,
                });
            }
        }
        Ok(assets)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `name` in the folder, if it is a file there.
    pub fn binary(&self, name: &str) -> Option<PathBuf> {
        let path = self.dir.join(name);
        path.is_file().then_some(path)
    }
}

/// The binaries to use: `explicit`, else `$KUBEBUILDER_ASSETS`, else the cache, built if needed
/// (blocking: a cold build takes minutes, its progress on stderr).
///
/// # Errors
/// Missing binaries, Go missing or too old, or a failed build.
pub fn locate(explicit: Option<&Path>) -> Result<Assets, ControlPlaneError> {
    if let Some(dir) = explicit {
        return Assets::from_dir(dir);
    }
    match std::env::var_os(ASSETS_ENV) {
        Some(dir) if !dir.is_empty() => Assets::from_dir(PathBuf::from(dir)),
        _ => build().and_then(Assets::from_dir),
    }
}

/// Runs the embedded build script and returns the folder it printed on its last line.
///
/// The script's progress goes to stderr as it happens (a cold build takes many minutes, and the
/// user should see why); its last lines are kept for the error.
fn build() -> Result<PathBuf, ControlPlaneError> {
    let sources = tempfile::Builder::new()
        .prefix("rekube-control-plane-src-")
        .tempdir()
        .map_err(|source| ControlPlaneError::io("creating a temp folder", "", source))?;
    for (name, text) in SOURCES {
        let path = sources.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| ControlPlaneError::io("creating", parent, source))?;
        }
        std::fs::write(&path, text)
            .map_err(|source| ControlPlaneError::io("writing", &path, source))?;
    }
    let script = sources.path().join("build.sh");
    let mut command = Command::new("bash");
    command
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = super::process::spawn(command)
        .map_err(|source| ControlPlaneError::io("running bash", &script, source))?;

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
        .map_err(|source| ControlPlaneError::io("running", &script, source))?;
    let tail = forward.join().unwrap_or_default();
    if status.code() == Some(EXIT_GO_MISSING) {
        let message = tail.lines().last().unwrap_or_default();
        let message = message
            .strip_prefix("control-plane build: ")
            .unwrap_or(message);
        return Err(ControlPlaneError::GoMissing {
            message: message.to_owned(),
        });
    }
    if !status.success() {
        return Err(ControlPlaneError::Build { status, tail });
    }
    match stdout.lines().last() {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => Err(ControlPlaneError::Build { status, tail }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of the Go module must be embedded, or an installed rekube would build without it.
    #[test]
    fn every_control_plane_source_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/control-plane");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    on_disk.push(rel);
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> =
            SOURCES.iter().map(|(name, _)| (*name).to_owned()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn a_folder_without_the_apiserver_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("etcd"), "").unwrap();
        let err = Assets::from_dir(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                ControlPlaneError::MissingBinary {
                    binary: "kube-apiserver",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("kube-apiserver"), "{err}");
    }
}
