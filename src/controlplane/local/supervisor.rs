//! The supervisor of a persistent local cluster: `up` starts it detached and waits until it is
//! ready; `serve` is what it runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{
    CLUSTER_FILE, ERROR_FILE, KUBECONFIG_FILE, LOG_FILE, LocalCluster, PID_FILE, STATE_DIR_ENV,
    Status, now, read_cluster, remove_dir, start_time, status, validate_name,
};
use crate::controlplane::{ControlPlane, ControlPlaneError, ControlPlaneOptions, assets, process};

/// How to start a persistent local cluster.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub nodes: usize,
    /// The apiserver's port; `None` picks a free one.
    pub port: Option<u16>,
    pub start_timeout: Duration,
    /// The rekube binary that runs the supervisor (`local serve`).
    pub exe: PathBuf,
}

/// Starts local cluster `name` and returns it once ready, with its admin kubeconfig. Blocking: the
/// binaries may have to be built first (minutes, with progress on stderr).
///
/// # Errors
/// An invalid name, a name in use, a port taken, missing binaries or Go, or a start that failed
/// (with the supervisor's error and log).
pub fn up(
    root: &Path,
    name: &str,
    opts: &UpOptions,
) -> Result<(LocalCluster, String), ControlPlaneError> {
    validate_name(name)?;
    let dir = root.join(name);
    match status(root, name) {
        Some(Status::Running(c)) => {
            return Err(ControlPlaneError::NameInUse {
                name: name.to_owned(),
                detail: format!("running at {} (supervisor pid {})", c.server, c.pid),
            });
        }
        Some(Status::Starting { pid }) => {
            return Err(ControlPlaneError::NameInUse {
                name: name.to_owned(),
                detail: format!("starting (supervisor pid {pid})"),
            });
        }
        Some(Status::Stopped) => remove_dir(&dir)?,
        None => {}
    }
    if let Some(port) = opts.port
        && std::net::TcpListener::bind(("127.0.0.1", port)).is_err()
    {
        return Err(ControlPlaneError::PortTaken { port });
    }
    let assets = assets::locate(None)?;
    std::fs::create_dir_all(root).map_err(|e| ControlPlaneError::io("creating", root, e))?;
    std::fs::DirBuilder::new()
        .mode_0700()
        .create(&dir)
        .map_err(|e| ControlPlaneError::io("creating", &dir, e))?;
    let log = std::fs::File::create(dir.join(LOG_FILE))
        .map_err(|e| ControlPlaneError::io("creating", dir.join(LOG_FILE), e))?;
    let mut command = Command::new(&opts.exe);
    command
        .args(["local", "serve", name, "--nodes", &opts.nodes.to_string()])
        .arg("--start-timeout")
        .arg(format!("{}s", opts.start_timeout.as_secs().max(1)))
        .arg("--assets")
        .arg(assets.dir())
        .env(STATE_DIR_ENV, root)
        .stdin(Stdio::null())
        .stdout(
            log.try_clone()
                .map_err(|e| ControlPlaneError::io("opening", dir.join(LOG_FILE), e))?,
        )
        .stderr(log);
    if let Some(port) = opts.port {
        command.arg("--port").arg(port.to_string());
    }
    // SAFETY: setsid is async-signal-safe and the closure allocates nothing. A new session detaches
    // the supervisor from the terminal (no SIGHUP, no Ctrl-C): this is the one process that must
    // outlive rekube.
    unsafe {
        use std::os::unix::process::CommandExt as _;
        command.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| ControlPlaneError::io("starting the supervisor", &opts.exe, e))?;
    let pid = child.id();
    let start = start_time(pid).unwrap_or_default();
    std::fs::write(dir.join(PID_FILE), format!("{pid} {start}\n"))
        .map_err(|e| ControlPlaneError::io("writing", dir.join(PID_FILE), e))?;
    // The build is done: the start itself, plus the supervisor's own start-up.
    let deadline = Instant::now() + opts.start_timeout + Duration::from_secs(30);
    loop {
        if let Some(cluster) = read_cluster(&dir) {
            let kubeconfig = std::fs::read_to_string(dir.join(KUBECONFIG_FILE))
                .map_err(|e| ControlPlaneError::io("reading", dir.join(KUBECONFIG_FILE), e))?;
            return Ok((cluster, kubeconfig));
        }
        let exited = child.try_wait().ok().flatten();
        if exited.is_some() || Instant::now() >= deadline {
            if exited.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
            let message = std::fs::read_to_string(dir.join(ERROR_FILE))
                .unwrap_or_else(|_| process::log_tail(&dir.join(LOG_FILE), 30));
            let message = if exited.is_none() {
                format!("not ready after {:?}; {message}", opts.start_timeout)
            } else {
                message
            };
            // The log would be gone with the folder: keep it in the message.
            remove_dir(&dir)?;
            return Err(ControlPlaneError::LocalStart {
                name: name.to_owned(),
                message: message.trim().to_owned(),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs the supervisor of local cluster `name` (the hidden `rekube local serve`): starts the control
/// plane, records it, and holds it until SIGTERM or SIGINT, or until a component exits.
///
/// # Errors
/// The start failed (also written to the state folder's `error` file for `up`), or a component
/// exited while the cluster ran.
pub async fn serve(
    root: &Path,
    name: &str,
    options: ControlPlaneOptions,
) -> Result<(), ControlPlaneError> {
    use tokio::signal::unix::{SignalKind, signal};
    let dir = root.join(name);
    let signal_error = |e| ControlPlaneError::io("installing signal handlers in", &dir, e);
    let mut terminate = signal(SignalKind::terminate()).map_err(signal_error)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_error)?;
    let nodes = options.nodes;
    let started = tokio::select! {
        started = ControlPlane::start(options) => started,
        // Stopped while starting: dropping the start stops what it started.
        _ = terminate.recv() => return Ok(()),
        _ = interrupt.recv() => return Ok(()),
    };
    let mut cp = match started {
        Ok(cp) => cp,
        Err(e) => {
            let _ = std::fs::write(dir.join(ERROR_FILE), crate::error::render(&e));
            return Err(e);
        }
    };
    let pid = std::process::id();
    let cluster = LocalCluster {
        name: name.to_owned(),
        pid,
        start_time: start_time(pid).unwrap_or_default(),
        server: cp.server_url().to_owned(),
        nodes,
        started: now(),
        ready_in_seconds: (cp.ready_in().as_secs_f64() * 100.0).round() / 100.0,
        control_plane_dir: cp.dir().to_owned(),
    };
    let record = || -> std::io::Result<()> {
        std::fs::copy(cp.kubeconfig(), dir.join(KUBECONFIG_FILE))?;
        let json = serde_json::to_vec_pretty(&cluster).map_err(std::io::Error::other)?;
        // Renamed into place: `up` never reads half a file.
        let tmp = dir.join(format!("{CLUSTER_FILE}.tmp"));
        std::fs::write(&tmp, json)?;
        std::fs::rename(tmp, dir.join(CLUSTER_FILE))
    };
    record().map_err(|e| ControlPlaneError::io("recording the cluster in", &dir, e))?;
    eprintln!("rekube: local cluster {name} ready at {}", cluster.server);
    let exited = tokio::select! {
        _ = terminate.recv() => None,
        _ = interrupt.recv() => None,
        exited = cp.first_exit() => Some(exited),
    };
    let _ = std::fs::remove_file(dir.join(CLUSTER_FILE));
    let stopped = cp.stop();
    eprintln!("rekube: local cluster {name} stopped");
    match exited {
        Some(e) => Err(e),
        None => stopped,
    }
}

trait Mode0700 {
    fn mode_0700(&mut self) -> &mut Self;
}

impl Mode0700 for std::fs::DirBuilder {
    fn mode_0700(&mut self) -> &mut Self {
        // It will hold the admin credentials.
        std::os::unix::fs::DirBuilderExt::mode(self, 0o700)
    }
}
