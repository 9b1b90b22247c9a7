//! Persistent local clusters (`rekube local up|down|list`): a local control plane that outlives the
//! command that started it.
//!
//! A control plane's processes never outlive the rekube process that spawned them (see `process`), so
//! `up` deliberately detaches one process: a supervisor, `rekube local serve NAME`, started in a new
//! session (no terminal, no hang-up), which runs the control plane exactly as a drill does and stays
//! until SIGTERM. Its components die with it, so stopping that one process stops the cluster.
//!
//! Each cluster has a state folder `<root>/NAME/` ([`state_root`]):
//! - `supervisor.pid`: the supervisor's pid and start time, written by `up` as soon as it is spawned;
//! - `cluster.json` ([`LocalCluster`]) and `kubeconfig`, written by the supervisor once ready;
//! - `error`, written by the supervisor when the start failed; `supervisor.log`, its output.
//!
//! `down` reads the pid, checks it is still that supervisor (the start time: a pid can be reused),
//! sends SIGTERM, SIGKILLs it after a grace period, and removes the folder.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::ControlPlaneError;
pub(crate) use super::simulation::now;

mod supervisor;

pub use supervisor::{UpOptions, serve, up};

/// Environment variable naming the folder of local clusters' state folders.
pub const STATE_DIR_ENV: &str = "REKUBE_STATE_DIR";

pub(crate) const PID_FILE: &str = "supervisor.pid";
pub(crate) const CLUSTER_FILE: &str = "cluster.json";
pub(crate) const KUBECONFIG_FILE: &str = "kubeconfig";
pub(crate) const ERROR_FILE: &str = "error";
pub(crate) const LOG_FILE: &str = "supervisor.log";

/// A running local cluster, as its supervisor recorded it once ready.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalCluster {
    pub name: String,
    /// The supervisor process.
    pub pid: u32,
    /// Its start time (clock ticks after boot, from /proc): a recycled pid is not it.
    pub start_time: u64,
    pub server: String,
    pub nodes: usize,
    /// When it became ready (RFC 3339).
    pub started: String,
    pub ready_in_seconds: f64,
    /// The control plane's folder (one log per component in `logs/`).
    pub control_plane_dir: PathBuf,
}

/// Where a local cluster stands.
#[derive(Debug, Clone)]
pub enum Status {
    Running(LocalCluster),
    /// The supervisor runs but is not ready yet.
    Starting {
        pid: u32,
    },
    /// A state folder without a live supervisor (killed, or the machine restarted).
    Stopped,
}

/// The kubeconfig context (and cluster and user) of local cluster `name`.
pub fn context_name(name: &str) -> String {
    format!("rekube-{name}")
}

/// `$REKUBE_STATE_DIR`, else `$XDG_STATE_HOME/rekube/local`, else `~/.local/state/rekube/local`.
///
/// # Errors
/// None of these variables is set.
pub fn state_root() -> Result<PathBuf, ControlPlaneError> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var(STATE_DIR_ENV)
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("rekube").join("local")))
        .or_else(|| var("HOME").map(|d| d.join(".local/state/rekube/local")))
        .ok_or(ControlPlaneError::NoHome)
}

/// A name is a DNS label of at most 40 characters: it becomes a folder and a context name.
///
/// # Errors
/// [`ControlPlaneError::InvalidName`] saying what is wrong.
pub fn validate_name(name: &str) -> Result<(), ControlPlaneError> {
    let problem = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 40 {
        Some("it is longer than 40 characters")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Some("only lowercase letters, digits and '-' are allowed")
    } else if name.starts_with('-') || name.ends_with('-') {
        Some("it must start and end with a letter or digit")
    } else {
        None
    };
    match problem {
        Some(reason) => Err(ControlPlaneError::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// The status of local cluster `name`, `None` when it has no state folder.
pub fn status(root: &Path, name: &str) -> Option<Status> {
    let dir = root.join(name);
    if !dir.is_dir() {
        return None;
    }
    if let Some(cluster) = read_cluster(&dir)
        && is_alive(cluster.pid, cluster.start_time)
    {
        return Some(Status::Running(cluster));
    }
    match read_pid(&dir) {
        Some((pid, start)) if is_alive(pid, start) => Some(Status::Starting { pid }),
        _ => Some(Status::Stopped),
    }
}

/// Every local cluster with a state folder, by name.
pub fn list(root: &Path) -> Vec<(String, Status)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| validate_name(n).is_ok())
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|n| status(root, &n).map(|s| (n, s)))
        .collect()
}

pub(crate) fn read_cluster(dir: &Path) -> Option<LocalCluster> {
    let text = std::fs::read_to_string(dir.join(CLUSTER_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

fn read_pid(dir: &Path) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(dir.join(PID_FILE)).ok()?;
    let mut parts = text.split_whitespace();
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The start time of process `pid` (field 22 of /proc/PID/stat), if it exists.
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is running and started at `start` (a zombie is not running).
pub(crate) fn is_alive(pid: u32, start: u64) -> bool {
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .map(|i| s[i + 1..].trim_start().starts_with('Z'))
        });
    state == Some(false) && start_time(pid) == Some(start)
}

/// Stops local cluster `name` and removes its state folder; returns where it stood before
/// ([`Status::Stopped`]: its supervisor was already gone, only the folder was left).
///
/// # Errors
/// No such cluster, or the folder cannot be removed.
pub fn down(root: &Path, name: &str, grace: Duration) -> Result<Status, ControlPlaneError> {
    validate_name(name)?;
    let dir = root.join(name);
    let before = status(root, name).ok_or_else(|| ControlPlaneError::LocalNotFound {
        name: name.to_owned(),
    })?;
    let (pid, start) = match &before {
        Status::Stopped => (None, 0),
        Status::Starting { pid } => (
            Some(*pid),
            read_pid(&dir).map(|(_, s)| s).unwrap_or_default(),
        ),
        Status::Running(c) => (Some(c.pid), c.start_time),
    };
    if let Some(pid) = pid
        && let Ok(raw) = libc::pid_t::try_from(pid)
    {
        // SAFETY: a plain signal to the process checked above to be this cluster's supervisor.
        unsafe { libc::kill(raw, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while is_alive(pid, start) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if is_alive(pid, start) {
            // SAFETY: as above; its components die with it (PR_SET_PDEATHSIG).
            unsafe { libc::kill(raw, libc::SIGKILL) };
            while is_alive(pid, start) {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    remove_dir(&dir)?;
    Ok(before)
}

pub(crate) fn remove_dir(dir: &Path) -> Result<(), ControlPlaneError> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(ControlPlaneError::io("removing", dir, e))
        }
        _ => Ok(()),
    }
}

/// The log of a local cluster's supervisor (for messages).
pub fn log_path(root: &Path, name: &str) -> PathBuf {
    root.join(name).join(LOG_FILE)
}

#[cfg(test)]
mod tests;
