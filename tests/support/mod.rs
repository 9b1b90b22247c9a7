//! The one set of helpers every integration test uses (`mod support;` in `tests/*.rs`).
//!
//! - [`control_plane`]: the real local control plane, started once per test binary, and a Namespace per test.
//! - [`bin`]: the `rekube` binary under test, run as a user would, sealed off from the caller's environment.
//! - [`kubectl`]: the real kubectl, the peer in these tests.
//! - [`repo`]: repositories on disk: files, folder copies, Git commits.
//! - [`manifests`]: small manifests the tests write into those repositories.
//! - [`corpus`]: the public corpus of real manifests, for the acceptance tests that `REKUBE_CORPUS` enables.
//!
//! A missing prerequisite fails the tests with what to install, and a corpus test without `REKUBE_CORPUS` is
//! listed as ignored with how to run it: nothing skips silently.
#![allow(dead_code, unused_imports)] // Each test binary uses its own subset of the helpers.

pub mod bin;
pub mod control_plane;
pub mod corpus;
pub mod kubectl;
pub mod manifests;
pub mod repo;

pub mod helm;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use bin::{Background, Rekube, rekube, run_logged};
pub use control_plane::{assets, cluster, second, test_namespace};
pub use corpus::{corpus, corpus_repo, three_projects};
pub use kubectl::{exists, jsonpath, kubectl, kubectl_piped, kubectl_with, recorded};
pub use manifests::{annotate, app, config_map, deployment, namespace, two_cluster_repo};
pub use repo::{Repo, copy_dir, files, temp_repo, write, write_files};

/// The repository root (where `Cargo.toml` is): fixtures, examples and golden files are found from here.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/<rel>` of the repository.
pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// `target/test-output/<name>`, created: where tests keep files (reports, screenshots) for people to look
/// at after the run.
pub fn output_dir(name: &str) -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("test-output").join(name);
    std::fs::create_dir_all(&dir).expect("test output folder");
    dir
}

/// Loads the repository `dir` offline, with the default options; fails the test with its diagnostics.
pub fn load(dir: &Path) -> rekube::manifest::Manifest {
    match rekube::manifest::load_dir(dir, &rekube::manifest::LoadOptions::default()) {
        Ok(m) => m,
        Err(e) => panic!("{}: {e}", dir.display()),
    }
}

/// Runs the build script `rel` of a pinned test tool (`tests/<tool>/build.sh`: built from the Go module
/// proxy into the cache, a no-op once built) and returns the path it prints on its last line; the error
/// holds the script's stderr (exit 3: a prerequisite, such as Go, is missing and it says which).
pub fn build_tool(rel: &str) -> Result<PathBuf, String> {
    let script = root().join(rel);
    let out = std::process::Command::new("bash")
        .arg(&script)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run bash {}: {e}", script.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .map(|line| PathBuf::from(line.trim()))
            .ok_or_else(|| format!("{rel} printed no path")),
        Some(3) => Err(format!("{rel}: a prerequisite is missing: {stderr}")),
        _ => Err(format!("{rel} failed:\n{stderr}")),
    }
}

/// Fails the test, naming `what` and the value, when `text` holds any of `values` (secret values,
/// canaries).
pub fn assert_absent<S: AsRef<str>>(what: &str, text: &str, values: &[S]) {
    for value in values {
        let value = value.as_ref();
        assert!(!text.contains(value), "{what} shows {value:?}:\n{text}");
    }
}

/// The program `tool` on `PATH`, if any.
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// A name unique within this test binary, a valid DNS label: `<prefix>-<n>`.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut clean: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(50)
        .collect();
    clean = clean.trim_matches('-').to_owned();
    if clean.is_empty() {
        clean = "test".to_owned();
    }
    format!("{clean}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// An error with its chain of sources, one per line.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    text
}

/// A process's exit code, `-1` when a signal ended it.
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stdout and stderr together.
pub fn text(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

/// Polls `check` every 100 ms until it answers `Some`, or panics after `timeout` naming `what`.
pub async fn eventually<T>(
    timeout: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
