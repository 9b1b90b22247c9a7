//! Rendering a Kustomize folder: `kustomize build DIR` when `kustomize` is on PATH, else
//! `kubectl kustomize DIR`, or the program given in [`LoadOptions::kustomize`](super::LoadOptions).
//! A kustomization with `helmCharts:` (itself or one it includes) is built with `--enable-helm` and
//! the pinned Helm, by a Kustomize that drives Helm v4 ([`crate::helm::Helm::kustomize`]).

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::diagnostics::Diagnostic;
use super::files::KUSTOMIZATION_FILES;
use super::yaml;

/// Which program renders Kustomize folders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Kustomize {
    /// `kustomize` on PATH, else `kubectl`.
    #[default]
    Auto,
    /// A `kustomize` binary, run as `PROGRAM build DIR`.
    Kustomize(PathBuf),
    /// A `kubectl` binary, run as `PROGRAM kustomize DIR`.
    Kubectl(PathBuf),
}

impl Kustomize {
    /// The command line for `dir`, or `None` when nothing can render Kustomize folders.
    fn command(&self, dir: &Path) -> Option<Command> {
        let (program, sub) = match self {
            Kustomize::Kustomize(p) => (p.clone(), "build"),
            Kustomize::Kubectl(p) => (p.clone(), "kustomize"),
            Kustomize::Auto => match find_on_path("kustomize") {
                Some(p) => (p, "build"),
                None => (find_on_path("kubectl")?, "kustomize"),
            },
        };
        let mut cmd = Command::new(program);
        cmd.arg(sub).arg(dir);
        Some(cmd)
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The rendered multi-document YAML of the Kustomize folder `abs` (`rel` names it in errors) of the
/// repository at `root` (canonical). A render that takes longer than `deadline` is killed (with what it started: Kustomize fetches remote
/// bases with `git`, and runs Helm for `helmCharts:`).
pub fn render(
    tool: &Kustomize,
    root: &Path,
    abs: &Path,
    rel: &str,
    deadline: Duration,
) -> Result<String, Diagnostic> {
    let uses_helm = check_references(root, abs, rel)?;
    let command = if uses_helm {
        Some(helm_command(abs).map_err(|e| Diagnostic::new(rel, format!("helmCharts: {e}")))?)
    } else {
        tool.command(abs)
    };
    let Some(mut cmd) = command else {
        return Err(Diagnostic::new(
            rel,
            "folder has a kustomization but neither kustomize nor kubectl is on PATH",
        ));
    };
    let program = cmd.get_program().to_string_lossy().into_owned();
    let output = match output_within(&mut cmd, deadline) {
        Ok(Some(output)) => output,
        Ok(None) => {
            return Err(Diagnostic::new(
                rel,
                format!(
                    "kustomize build ({program}) did not finish within {}s: killed",
                    deadline.as_secs()
                ),
            ));
        }
        Err(e) => return Err(Diagnostic::new(rel, format!("cannot run {program}: {e}"))),
    };
    if !output.status.success() {
        let stderr = clean_stderr(&String::from_utf8_lossy(&output.stderr), abs);
        return Err(Diagnostic::new(
            rel,
            format!(
                "kustomize build failed ({program}, {}): {stderr}",
                output.status
            ),
        ));
    }
    String::from_utf8(output.stdout)
        .map_err(|e| Diagnostic::new(rel, format!("kustomize output is not UTF-8: {e}")))
}

/// `kustomize build --enable-helm --helm-command HELM DIR` with the pinned Helm.
fn helm_command(dir: &Path) -> Result<Command, crate::helm::HelmError> {
    let helm = crate::helm::Helm::locate()?;
    let mut cmd = Command::new(helm.kustomize()?);
    cmd.args(["build", "--enable-helm", "--helm-command"])
        .arg(helm.path())
        .arg(dir);
    Ok(cmd)
}

/// Runs `cmd` to completion and collects its output, or kills its whole process group once `deadline`
/// has passed (`Ok(None)`).
fn output_within(cmd: &mut Command, deadline: Duration) -> std::io::Result<Option<Output>> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn()?;
    // Read both pipes meanwhile: a child writing more than a pipe holds would otherwise never exit.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() >= deadline {
            kill_group(&mut child);
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    Ok(status.map(|status| Output {
        status,
        stdout,
        stderr,
    }))
}

fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: signals the process group this function's child leads (process_group(0) above).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Local folders and files that kustomizations refer to (`resources`, `bases`, `components`, followed
/// through nested kustomizations) must stay in the repository: Kustomize itself would read `../..` of
/// the folder a commit was exported to. Unreadable entries are left to Kustomize to report. Returns
/// whether any of them inflates Helm charts (`helmCharts:`).
fn check_references(root: &Path, dir: &Path, rel: &str) -> Result<bool, Diagnostic> {
    let referenced = referenced(root, dir);
    for (file, entry, target) in &referenced {
        if !target.starts_with(root) {
            let file = file
                .strip_prefix(root)
                .unwrap_or(file)
                .display()
                .to_string();
            let msg = format!("{file} refers to {entry:?}, which is outside the repository");
            return Err(Diagnostic::new(rel, msg));
        }
    }
    let mut dirs = std::iter::once(dir.to_path_buf()).chain(
        referenced
            .into_iter()
            .map(|(_, _, t)| t)
            .filter(|t| t.is_dir()),
    );
    Ok(dirs.any(|d| inflates_charts(&d)))
}

/// The kustomization in `dir` inflates Helm charts (`helmCharts:`): it needs the pinned Helm.
fn inflates_charts(dir: &Path) -> bool {
    let Some(file) = KUSTOMIZATION_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
    else {
        return false;
    };
    std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| yaml::parse_single(&text).ok().flatten())
        .is_some_and(|tree| {
            tree.to_value()
                .get("helmCharts")
                .is_some_and(|v| !v.is_null())
        })
}

/// Every local folder and file the kustomization in `dir` uses, directly or through the kustomizations
/// it uses, as `(kustomization file, entry as written, canonical target)`. Remote and unreadable entries
/// are left out (Kustomize reports them); folders outside the repository at `root` (canonical) are listed,
/// not followed.
pub fn referenced(root: &Path, dir: &Path) -> Vec<(PathBuf, String, PathBuf)> {
    let mut out = Vec::new();
    let mut queue = vec![dir.to_path_buf()];
    let mut seen = BTreeSet::new();
    while let Some(dir) = queue.pop() {
        let Ok(dir) = std::fs::canonicalize(&dir) else {
            continue;
        };
        if !seen.insert(dir.clone()) {
            continue;
        }
        let Some((file, entries)) = entries(&dir) else {
            continue;
        };
        for entry in entries {
            let Ok(target) = std::fs::canonicalize(dir.join(&entry)) else {
                continue;
            };
            if target.is_dir() && target.starts_with(root) {
                queue.push(target.clone());
            }
            out.push((file.clone(), entry, target));
        }
    }
    out
}

/// The kustomization file of `dir` and its local `resources`, `bases` and `components` entries.
fn entries(dir: &Path) -> Option<(PathBuf, Vec<String>)> {
    let file = KUSTOMIZATION_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())?;
    let text = std::fs::read_to_string(&file).ok()?;
    let value = yaml::parse_single(&text).ok()??.to_value();
    let entries = ["resources", "bases", "components"]
        .iter()
        .filter_map(|key| value.get(key).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .filter(|entry| !is_remote(entry))
        .map(str::to_string)
        .collect();
    Some((file, entries))
}

/// Remote resources (Git URLs, `github.com/org/repo//path?ref=x`) are fetched by Kustomize.
fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.contains("?ref=")
}

/// kustomize's message, without kubectl's log prefix (`E1121 08:22:17.797 123 run.go:72] "command failed"
/// err="…"`) and with paths relative to the kustomization folder; continuation lines indented.
fn clean_stderr(stderr: &str, dir: &Path) -> String {
    let dir = format!("{}/", dir.display());
    stderr
        .trim()
        .lines()
        .map(|line| match line.split_once(" err=\"") {
            Some((_, err)) => err.strip_suffix('"').unwrap_or(err).replace("\\\"", "\""),
            None => line.to_string(),
        })
        .map(|line| line.replace(&dir, ""))
        .collect::<Vec<_>>()
        .join("\n      ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_past_its_deadline_is_killed_with_what_it_started() {
        let started = Instant::now();
        // The shell starts a child that would outlive it: the whole group goes.
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & sleep 30"]);
        let out = output_within(&mut cmd, Duration::from_millis(300)).expect("sh runs");
        assert!(out.is_none(), "killed");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo rendered; echo warning >&2"]);
        let out = output_within(&mut cmd, Duration::from_secs(30))
            .expect("sh runs")
            .expect("in time");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "rendered\n");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "warning\n");
    }

    #[test]
    fn stderr_is_cleaned() {
        let dir = Path::new("/repo/app");
        let kubectl = "E1121 08:22:17.797714   12113 run.go:72] \"command failed\" err=\"accumulating resources: lstat /repo/app/missing.yaml: no such file\"\n";
        assert_eq!(
            clean_stderr(kubectl, dir),
            "accumulating resources: lstat missing.yaml: no such file"
        );
        let kustomize = "Error: accumulating resources: '/repo/app/x.yaml'\n";
        assert_eq!(
            clean_stderr(kustomize, dir),
            "Error: accumulating resources: 'x.yaml'"
        );
    }
}
