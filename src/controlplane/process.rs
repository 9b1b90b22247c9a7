//! Child processes that never outlive rekube, and cleanup at exit.
//!
//! Two guards, because Rust test binaries never drop statics (a shared control plane lives in one):
//! - Every child is forked by one dedicated thread that never exits, with `PR_SET_PDEATHSIG=SIGKILL`:
//!   the kernel kills the child when that thread dies, that is when the process dies, even by SIGKILL.
//!   (The signal follows the forking *thread*, so forking from short-lived runtime threads would kill
//!   children early.)
//! - An `atexit` hook kills and reaps the children still tracked and removes their folders (or says
//!   where the logs were kept), so temp folders do not pile up after `cargo test`.

use std::collections::BTreeMap;
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock, mpsc};

struct SpawnRequest {
    command: Command,
    reply: mpsc::SyncSender<io::Result<Child>>,
}

static SPAWNER: OnceLock<mpsc::Sender<SpawnRequest>> = OnceLock::new();

/// Spawns `command` from the spawner thread, so that it is SIGKILLed when this process dies.
pub(crate) fn spawn(mut command: Command) -> io::Result<Child> {
    let parent = std::process::id();
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe functions
    // (prctl, getppid, _exit); it allocates nothing.
    unsafe {
        use std::os::unix::process::CommandExt as _;
        command.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl: then nobody would kill us.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    let sender = SPAWNER.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<SpawnRequest>();
        // If the thread cannot start, `receiver` is dropped and every send below fails cleanly.
        let _ = std::thread::Builder::new()
            .name("rekube-spawner".to_owned())
            .spawn(move || {
                // The sender lives in a static that is never dropped, so this loop runs until the
                // process exits: exactly the lifetime PR_SET_PDEATHSIG needs.
                while let Ok(request) = receiver.recv() {
                    let mut command = request.command;
                    let _ = request.reply.send(command.spawn());
                }
            });
        sender
    });
    let (reply, answer) = mpsc::sync_channel(1);
    let unavailable = || io::Error::other("the process spawner thread is not running");
    sender
        .send(SpawnRequest { command, reply })
        .map_err(|_| unavailable())?;
    answer.recv().map_err(|_| unavailable())?
}

/// One running component: its process, its command line (to start it again) and its log file.
pub(crate) struct Component {
    pub name: &'static str,
    pub log: PathBuf,
    pub binary: PathBuf,
    pub args: Vec<String>,
    child: Child,
    reaped: Option<ExitStatus>,
}

impl Component {
    /// Starts `binary args…` with stdout and stderr appended to `log`, tracked by `cleanup`.
    pub(crate) fn start(
        name: &'static str,
        binary: &Path,
        args: &[String],
        log: PathBuf,
        cleanup: &Cleanup,
    ) -> io::Result<Self> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let mut command = Command::new(binary);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        // Own process group: a terminal's Ctrl-C reaches rekube only, which then tears down in order.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = spawn(command)?;
        cleanup.track(child.id());
        Ok(Self {
            name,
            log,
            binary: binary.to_owned(),
            args: args.to_vec(),
            child,
            reaped: None,
        })
    }

    /// Sends `signal` (e.g. `SIGSTOP`, `SIGCONT`) to the running process.
    pub(crate) fn signal(&self, signal: libc::c_int) -> io::Result<()> {
        if self.reaped.is_some() {
            return Err(io::Error::other(format!("{} is not running", self.name)));
        }
        let pid = libc::pid_t::try_from(self.child.id()).map_err(io::Error::other)?;
        // SAFETY: a plain syscall on our own unreaped child, so the pid cannot have been reused.
        if unsafe { libc::kill(pid, signal) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The exit status if the process has exited (it is reaped then, and no longer tracked).
    pub(crate) fn exited(&mut self, cleanup: &Cleanup) -> Option<ExitStatus> {
        if self.reaped.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            cleanup.untrack(self.child.id());
            self.reaped = Some(status);
        }
        self.reaped
    }

    /// SIGKILLs and reaps the process: the control plane is disposable, so no graceful shutdown.
    pub(crate) fn kill(&mut self, cleanup: &Cleanup) {
        if self.reaped.is_none() {
            let _ = self.child.kill();
            if let Ok(status) = self.child.wait() {
                self.reaped = Some(status);
            }
            cleanup.untrack(self.child.id());
        }
    }

    /// The RSS of the running process in KiB, from /proc.
    pub(crate) fn resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
    }
}

/// The last `lines` lines of a log file (at most its last 64 KiB), for error messages.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    let read = || -> io::Result<String> {
        let mut file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

/// Marks a folder whose logs were kept on purpose: [`sweep_orphans`] leaves it alone.
const KEPT_MARKER: &str = "KEPT";

/// Removes the folders `<dir>/<prefix><pid>-*` whose process is gone (killed before its cleanup),
/// except those kept on purpose.
pub(crate) fn sweep_orphans(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<libc::pid_t>().ok());
        // SAFETY: signal 0 only checks whether the process exists.
        if let Some(pid) = pid
            && unsafe { libc::kill(pid, 0) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
            && !entry.path().join(KEPT_MARKER).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[derive(Default)]
struct Entry {
    pids: Vec<u32>,
    /// Removed at cleanup.
    scratch: Vec<PathBuf>,
    /// Removed at cleanup unless `keep` is set.
    logs: PathBuf,
    keep: bool,
}

static LIVE: Mutex<BTreeMap<u64, Entry>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static AT_EXIT: Once = Once::new();

fn live() -> std::sync::MutexGuard<'static, BTreeMap<u64, Entry>> {
    // A panic while holding the lock leaves the map consistent (every update is one call).
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The processes and folders of one control plane, cleaned up by [`Cleanup::finish`] or at exit.
pub(crate) struct Cleanup {
    id: u64,
}

impl Cleanup {
    /// Registers a control plane whose `logs` folder is kept on request and whose `scratch`
    /// folders are always removed.
    pub(crate) fn register(logs: PathBuf, scratch: Vec<PathBuf>) -> Self {
        AT_EXIT.call_once(|| {
            // SAFETY: `cleanup_at_exit` is an `extern "C" fn()` that never unwinds.
            unsafe {
                libc::atexit(cleanup_at_exit);
            }
        });
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        live().insert(
            id,
            Entry {
                logs,
                scratch,
                ..Entry::default()
            },
        );
        Self { id }
    }

    fn track(&self, pid: u32) {
        if let Some(entry) = live().get_mut(&self.id) {
            entry.pids.push(pid);
        }
    }

    fn untrack(&self, pid: u32) {
        if let Some(entry) = live().get_mut(&self.id) {
            entry.pids.retain(|p| *p != pid);
        }
    }

    /// Keeps the logs folder when the control plane stops.
    pub(crate) fn keep_logs(&self) {
        if let Some(entry) = live().get_mut(&self.id) {
            entry.keep = true;
        }
    }

    /// Removes the folders (all but the logs when kept) once the processes were killed; returns
    /// the kept logs folder, if any.
    pub(crate) fn finish(&self, keep: bool) -> io::Result<Option<PathBuf>> {
        let entry = live().remove(&self.id);
        match entry {
            Some(entry) => remove(entry, keep),
            None => Ok(None),
        }
    }
}

/// Whether `REKUBE_KEEP_LOGS` asks to keep the logs (set, not empty, not `0`).
pub(crate) fn keep_requested() -> bool {
    std::env::var_os(super::KEEP_LOGS_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

fn remove(entry: Entry, keep: bool) -> io::Result<Option<PathBuf>> {
    let mut result = Ok(());
    for dir in &entry.scratch {
        result = result.and(remove_dir(dir));
    }
    if keep || entry.keep {
        let marker = entry.logs.join(KEPT_MARKER);
        result
            .and(std::fs::write(marker, "logs kept for inspection\n"))
            .map(|()| Some(entry.logs))
    } else {
        result.and(remove_dir(&entry.logs)).map(|()| None)
    }
}

fn remove_dir(dir: &Path) -> io::Result<()> {
    // A few tries: a process that was just killed may still be releasing files as we walk.
    let mut tries = 0;
    loop {
        match std::fs::remove_dir_all(dir) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(_) if tries < 3 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            result => return result,
        }
    }
}

extern "C" fn cleanup_at_exit() {
    // try_lock: a thread that holds the lock at exit is frozen mid-update; PDEATHSIG still kills
    // the children then, only the folders stay behind.
    let entries = match LIVE.try_lock() {
        Ok(mut live) => std::mem::take(&mut *live),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => {
            std::mem::take(&mut *poisoned.into_inner())
        }
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    for entry in entries.into_values() {
        for pid in &entry.pids {
            let Ok(pid) = libc::pid_t::try_from(*pid) else {
                continue;
            };
            // SAFETY: plain syscalls on our own unreaped children (tracked pids are never reaped
            // elsewhere without being untracked, so they cannot have been reused).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
        let logs = entry.logs.clone();
        let message = match remove(entry, keep_requested()) {
            Ok(Some(kept)) => format!(
                "rekube: control plane logs kept in {}\n",
                kept.join("logs").display()
            ),
            Ok(None) => continue,
            Err(err) => format!("rekube: cleaning up {}: {err}\n", logs.display()),
        };
        // Not eprintln!: it panics when stderr is closed, and a panic here would abort.
        let _ = io::stderr().write_all(message.as_bytes());
    }
}

#[cfg(test)]
#[path = "process_tests.rs"]
mod tests;
