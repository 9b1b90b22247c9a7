//! Finding the control plane's binaries, and building them when they are not there yet.
//!
//! The Go module and build script in `tests/control-plane/` are embedded into rekube with
//! `include_str!` rather than run from `CARGO_MANIFEST_DIR`: an installed `rekube` binary, far from
//! its source tree, can then build its own control plane for `--fresh local`. The script is the
//! single source of truth for the cache layout and for deciding whether a build is needed; it
//! answers at once when the binaries for these exact sources are already in the cache.

use std::path::{Path, PathBuf};

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
    use super::build_script::{Failure, run};
    run(
        "rekube-control-plane-src-",
        SOURCES,
        "control-plane build: ",
    )
    .map_err(|f| match f {
        Failure::Io(what, path, source) => ControlPlaneError::io(what, path, source),
        Failure::GoMissing(message) => ControlPlaneError::GoMissing { message },
        Failure::Build(status, tail) => ControlPlaneError::Build { status, tail },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of the Go module must be embedded, or an installed rekube would build without it.
    #[test]
    fn every_control_plane_source_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/control-plane");
        crate::controlplane::build_script::assert_all_embedded(&root, SOURCES);
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
