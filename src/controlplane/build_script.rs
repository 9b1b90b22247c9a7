//! Running an embedded build script: the Go tools rekube builds itself from the Go module proxy (the
//! control plane, Helm). The sources are written to a temp folder, the script's progress goes to stderr
//! as it happens (a cold build takes minutes), and the path it prints on its last line is returned.

use std::io::{self, BufRead as _, BufReader, Write as _};
#[cfg(test)]
use std::path::Path;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

/// Exit code of the build scripts when Go is missing or too old.
const EXIT_GO_MISSING: i32 = 3;

/// Why a build script did not give a path.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A file could not be written or the script not run: `(what, path, error)`.
    Io(&'static str, PathBuf, io::Error),
    /// Go is missing or too old: the script's last line, without its prefix.
    GoMissing(String),
    /// The script failed, or printed no path: its status and last lines of stderr.
    Build(ExitStatus, String),
}

/// Writes `sources` (path under the module → text) to a temp folder named `prefix…`, runs its
/// `build.sh` and returns the path it printed last. `tag` is the prefix of the script's own messages
/// (`helm build: `), dropped from the Go-missing message.
pub(crate) fn run(prefix: &str, sources: &[(&str, &str)], tag: &str) -> Result<PathBuf, Failure> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| Failure::Io("creating a temp folder", PathBuf::new(), e))?;
    for (name, text) in sources {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::Io("creating", parent.to_path_buf(), e))?;
        }
        std::fs::write(&path, text).map_err(|e| Failure::Io("writing", path.clone(), e))?;
    }
    let script = dir.path().join("build.sh");
    let mut command = Command::new("bash");
    command
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = super::process::spawn(command)
        .map_err(|e| Failure::Io("running bash", script.clone(), e))?;
    let stderr = child.stderr.take();
    let forward = std::thread::spawn(move || {
        let mut tail = Vec::new();
        if let Some(stderr) = stderr {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(io::stderr(), "{line}");
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
        .map_err(|e| Failure::Io("running", script.clone(), e))?;
    let tail = forward.join().unwrap_or_default();
    if status.code() == Some(EXIT_GO_MISSING) {
        let message = tail.lines().last().unwrap_or_default();
        return Err(Failure::GoMissing(
            message.strip_prefix(tag).unwrap_or(message).to_owned(),
        ));
    }
    match stdout.lines().last() {
        Some(path) if status.success() && !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Err(Failure::Build(status, tail)),
    }
}

/// The files under `root`, as `/`-separated paths relative to it, sorted: what must be embedded.
#[cfg(test)]
pub(crate) fn files_under(root: &Path) -> Vec<String> {
    let mut on_disk = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                on_disk.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    on_disk.sort();
    on_disk
}

/// Fails unless `sources` are exactly the files under `root`: an installed rekube builds without its
/// source tree, so every file of the Go module must be embedded.
#[cfg(test)]
pub(crate) fn assert_all_embedded(root: &Path, sources: &[(&str, &str)]) {
    let mut embedded: Vec<String> = sources.iter().map(|(name, _)| (*name).to_owned()).collect();
    embedded.sort();
    assert_eq!(
        files_under(root),
        embedded,
        "the files of {}",
        root.display()
    );
}
