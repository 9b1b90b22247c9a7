//! Running the tools under test: wall time from spawn to exit, and peak resident memory from the
//! kernel's accounting (`wait4` rusage, which also covers the children a tool waited for, such as the
//! binary a kubectl dispatcher runs or the `diff` kubectl diff runs).

use std::fs::File;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// How one process ended.
#[derive(Debug, Clone)]
pub struct Exit {
    pub code: i32,
    pub elapsed: Duration,
    /// Peak resident set size, KiB.
    pub max_rss_kib: u64,
    /// User + system CPU time (with the children it waited for).
    pub cpu: Duration,
    /// Where stdout and stderr went.
    pub log: PathBuf,
}

impl Exit {
    /// The last lines of the log, for error messages.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

/// Runs `program args` to completion with stdin closed and both outputs in `log` (overwritten).
/// Blocks: call it from `spawn_blocking`.
pub fn run(
    program: &Path,
    args: &[String],
    envs: &[(&str, &Path)],
    log: &Path,
    timeout: Duration,
) -> Result<Exit, Error> {
    let out = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let err = out.try_clone()?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        // The kubeconfig is always explicit: an ambient one must not change what is measured.
        .env_remove("KUBECONFIG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    // SAFETY: prctl is async-signal-safe. A tool must not outlive a benchmark that was killed: the
    // spawning thread stays blocked in wait4 for the child's whole life, so its death means ours.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let started = Instant::now();
    let child = cmd
        .spawn()
        .map_err(|e| format!("starting {}: {e}", program.display()))?;
    let pid = libc::pid_t::try_from(child.id())?;
    let timed_out = !wait_exit(pid, timeout);
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // The child is reaped here, not by `Child::wait` (which would report no rusage); dropping a
    // `Child` neither waits nor kills.
    let reaped = loop {
        // SAFETY: pid is our own child; status and usage outlive the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let elapsed = started.elapsed();
    drop(child);
    if reaped != pid {
        return Err(format!(
            "waiting for {}: {}",
            program.display(),
            std::io::Error::last_os_error()
        )
        .into());
    }
    if timed_out {
        return Err(format!(
            "{} {} did not finish within {timeout:?} and was killed; its log: {}",
            program.display(),
            args.join(" "),
            log.display()
        )
        .into());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        // Killed by a signal: 128 + signal, as shells report it.
        128 + libc::WTERMSIG(status)
    };
    Ok(Exit {
        code,
        elapsed,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        log: log.to_path_buf(),
    })
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
        + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
}

/// Waits until `pid` exits or `timeout` passes, then kills it through a pidfd (which cannot hit a
/// recycled pid). Returns false when it had to be killed. Without pidfds (old kernels), waits forever.
fn wait_exit(pid: libc::pid_t, timeout: Duration) -> bool {
    // SAFETY: plain syscalls on our own child's pid; the fd is closed below.
    unsafe {
        let fd = libc::syscall(libc::SYS_pidfd_open, pid, 0) as libc::c_int;
        if fd < 0 {
            return true;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let deadline = Instant::now() + timeout;
        let exited = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
            let r = libc::poll(&mut pfd, 1, ms);
            if r > 0 {
                break true;
            }
            if r == 0 && left.is_zero() {
                break false;
            }
            // r == 0 early (rounding) or EINTR: poll again.
        };
        if !exited {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                fd,
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            );
        }
        libc::close(fd);
        exited
    }
}

/// A sequence of processes measured as one user action (e.g. kubectl: apply the CRDs, wait for them,
/// apply the rest): times add up, peak memory is the largest.
#[derive(Debug, Clone, Default)]
pub struct Steps {
    pub elapsed: Duration,
    pub max_rss_kib: u64,
    pub cpu: Duration,
}

impl Steps {
    pub fn add(&mut self, exit: &Exit) {
        self.elapsed += exit.elapsed;
        self.max_rss_kib = self.max_rss_kib.max(exit.max_rss_kib);
        self.cpu += exit.cpu;
    }
}

/// The first line of `program args` output, or why not (for the versions table).
pub fn first_line(program: &Path, args: &[&str]) -> String {
    match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) => {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        }
        Err(e) => format!("unavailable ({e})"),
    }
}
