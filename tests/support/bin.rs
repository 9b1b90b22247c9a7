//! The `rekube` binary under test, run as a user would, sealed off from the caller's environment: no
//! `KUBECONFIG`, `REKUBE_INVENTORY` or SOPS key (`SOPS_AGE_KEY*`, sops's default key file under
//! `XDG_CONFIG_HOME`) leaks in, the cache folder is private, stdin is closed.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The runs of one test: the same kubeconfig, private cache folder and environment for each.
pub struct Rekube {
    kubeconfig: Option<PathBuf>,
    cache: TempDir,
    env: Vec<(String, OsString)>,
}

impl Rekube {
    /// Runs without a kubeconfig: offline commands, and `--fresh local` ones that start their own cluster.
    pub fn new() -> Rekube {
        Rekube {
            kubeconfig: None,
            cache: tempfile::tempdir().expect("a cache folder"),
            env: Vec::new(),
        }
    }

    /// Runs that talk to the cluster of `kubeconfig` (`--kubeconfig` follows the arguments).
    pub fn on(kubeconfig: &Path) -> Rekube {
        Rekube {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            ..Rekube::new()
        }
    }

    /// Runs that start their own local control plane (`--fresh local`, `drill`, `local up`): from the
    /// binaries found once for the test binary ([`assets`](super::assets)), with no kubeconfig to read.
    pub fn fresh_local() -> Rekube {
        let rekube = Rekube::new().env("KUBEBUILDER_ASSETS", super::assets());
        let none = rekube.cache().join("no-kubeconfig");
        rekube.env("KUBECONFIG", none)
    }

    /// `REKUBE_INVENTORY` for every run.
    pub fn inventory(self, name: &str) -> Rekube {
        self.env("REKUBE_INVENTORY", name)
    }

    /// An environment variable for every run.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Rekube {
        self.env.push((key.to_owned(), value.as_ref().to_owned()));
        self
    }

    /// The private cache folder (`REKUBE_CACHE_DIR`), kept across the runs: `--resume` reads it, and
    /// reports can be written there.
    pub fn cache(&self) -> &Path {
        self.cache.path()
    }

    /// `rekube ARGS`, ready to run or spawn.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rekube"));
        cmd.args(args);
        if let Some(kubeconfig) = &self.kubeconfig {
            cmd.arg("--kubeconfig").arg(kubeconfig);
        }
        cmd.env("REKUBE_CACHE_DIR", self.cache.path())
            .env("XDG_CONFIG_HOME", self.cache.path().join("no-config"))
            .env_remove("KUBECONFIG")
            .env_remove("REKUBE_INVENTORY")
            .env_remove("SOPS_AGE_KEY_FILE")
            .env_remove("SOPS_AGE_KEY")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `rekube ARGS` to its end (see [`run_logged`]).
    pub fn run(&self, args: &[&str]) -> Output {
        run_logged(&mut self.command(args))
    }

    /// [`Rekube::run`] with environment variables for this run only.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        run_logged(self.command(args).envs(env.iter().copied()))
    }

    /// [`Rekube::run`] in the working folder `dir`.
    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        run_logged(self.command(args).current_dir(dir))
    }

    /// `rekube plan -o json DIR`, which must succeed: the planned objects of its JSON.
    pub fn plan_objects(&self, dir: &Path) -> Vec<serde_json::Value> {
        let out = self.run(&["plan", "-o", "json", &dir.display().to_string()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "plan: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
        plan["objects"].as_array().expect("objects").clone()
    }

    /// Starts `rekube ARGS` in the background (see [`Background`]); `self` must outlive it, as it holds
    /// the cache folder.
    pub fn spawn(&self, name: &str, args: &[&str]) -> Background {
        Background::start(self.command(args), name)
    }
}

impl Default for Rekube {
    fn default() -> Rekube {
        Rekube::new()
    }
}

/// Runs `command` to its end. The command line and its output go to stderr, which the test harness
/// shows when the test fails.
pub fn run_logged(command: &mut Command) -> Output {
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program())
        .to_string_lossy()
        .into_owned();
    let args: Vec<String> = command
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{program} does not run: {e}"));
    eprintln!(
        "$ {program} {}\n--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One run of `rekube ARGS` without a kubeconfig (see [`Rekube::new`]).
pub fn rekube(args: &[&str]) -> Output {
    Rekube::new().run(args)
}

/// A process running in the background, killed when dropped: its stdout is discarded, its stderr is
/// echoed line by line as `[name] line` (shown when the test fails) and collected for [`Background::log`].
pub struct Background {
    child: Child,
    log: Arc<Mutex<String>>,
    name: String,
}

impl Background {
    pub fn start(mut command: Command, name: &str) -> Background {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        let prefix = name.to_owned();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[{prefix}] {line}");
                let mut log = sink.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        Background {
            child,
            log,
            name: name.to_owned(),
        }
    }

    /// Everything it has written to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (up to `timeout`) for it to exit; fails the test with its log otherwise.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {timeout:?}:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.kill();
    }
}
