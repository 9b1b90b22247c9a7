//! Which Helm runs: `REKUBE_HELM`, else a Helm v4 on PATH, else the pinned one, built on first use.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::{HelmError, assets};

/// Environment variable naming the Helm binary to use instead of the pinned one.
pub const HELM_ENV: &str = "REKUBE_HELM";
/// The Helm version rekube builds (go.mod of `tests/helm/`).
pub const PINNED_VERSION: &str = "v4.3.2";
/// Major version rekube's use of Helm is written for (flags, output, `--kube-version` semantics).
const REQUIRED_MAJOR: &str = "v4";

/// A Helm binary and the version it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helm {
    path: PathBuf,
    version: String,
}

static LOCATED: OnceLock<Result<Helm, String>> = OnceLock::new();

impl Helm {
    /// The Helm to use, found once per process: `$REKUBE_HELM` (which must be v4), else `helm` on PATH
    /// when it is v4, else the pinned Helm from the cache, built by the embedded script if needed.
    ///
    /// # Errors
    /// `REKUBE_HELM` is not Helm v4, or no Helm v4 is found and Go cannot build one.
    pub fn locate() -> Result<Helm, HelmError> {
        let found = LOCATED.get_or_init(|| Self::find().map_err(|e| e.to_string()));
        found
            .clone()
            .map_err(|message| HelmError::Command { message })
    }

    fn find() -> Result<Helm, HelmError> {
        if let Some(path) = std::env::var_os(HELM_ENV).filter(|v| !v.is_empty()) {
            return Helm::at(PathBuf::from(path));
        }
        if let Some(path) = on_path("helm")
            && let Ok(helm) = Helm::at(path)
        {
            return Ok(helm);
        }
        Helm::at(assets::build()?)
    }

    /// The Helm at `path`, checked to be v4.
    ///
    /// # Errors
    /// It cannot be run, or is not Helm v4 ([`HelmError::WrongVersion`]).
    pub fn at(path: PathBuf) -> Result<Helm, HelmError> {
        let output = Command::new(&path)
            .args(["version", "--template", "{{.Version}}"])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| HelmError::io("cannot run", &path, source))?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if !output.status.success() || !is_v4(&version) {
            let found = if version.is_empty() {
                "of an unknown version".to_string()
            } else {
                version
            };
            return Err(HelmError::WrongVersion { path, found });
        }
        Ok(Helm { path, version })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `v4.3.2`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// A Kustomize that drives this Helm for `helmCharts:` (Kustomize >= 5.8 speaks to Helm v4): the
    /// pinned one beside the pinned Helm, else a `kustomize` >= 5.8 on PATH, else the pinned one, built.
    ///
    /// # Errors
    /// None fits and it cannot be built.
    pub fn kustomize(&self) -> Result<PathBuf, HelmError> {
        if let Some(beside) = self.path.parent().map(|d| d.join("kustomize"))
            && beside.is_file()
        {
            return Ok(beside);
        }
        if let Some(path) = on_path("kustomize")
            && kustomize_fits(&path)
        {
            return Ok(path);
        }
        let built = assets::build()?;
        Ok(built.with_file_name("kustomize"))
    }

    /// A command running this Helm with `args`, its output captured.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = Command::new(&self.path);
        cmd.args(args).stdin(Stdio::null());
        cmd
    }
}

/// `v4.3.2`, `v4.0.0-rc.1`: any v4. Helm v3 renders differently (`--kube-version` checks, hooks output).
fn is_v4(version: &str) -> bool {
    version
        .strip_prefix(REQUIRED_MAJOR)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// `kustomize version` prints `v5.8.2`: 5.8 is the first that drives Helm v4.
fn kustomize_fits(path: &Path) -> bool {
    let Ok(out) = Command::new(path)
        .arg("version")
        .stdin(Stdio::null())
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .trim()
        .trim_start_matches("kustomize/")
        .trim_start_matches('v');
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (5, 8)
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_v4_fits() {
        for (v, fits) in [
            ("v4.3.2", true),
            ("v4.0.0-rc.1", true),
            ("v4", true),
            ("v3.19.0", false),
            ("v40.1.0", false),
            ("", false),
        ] {
            assert_eq!(is_v4(v), fits, "{v}");
        }
    }

    #[test]
    fn a_helm_that_is_not_v4_is_refused_by_path_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("helm");
        std::fs::write(&fake, "#!/bin/sh\necho v3.19.0\n").unwrap();
        let mut perms = std::fs::metadata(&fake).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&fake, perms).unwrap();
        let err = Helm::at(fake.clone()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("is Helm v3.19.0"), "{msg}");
        assert!(msg.contains(HELM_ENV), "{msg}");
        assert!(msg.contains(PINNED_VERSION), "{msg}");
    }
}
