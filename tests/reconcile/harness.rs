//! Helpers of the reconcile tests: a Git repository the test commits to, and `rekube reconcile` processes
//! with their log, metrics and signals.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use git2::{Repository, RepositoryInitOptions, Signature};
use tempfile::TempDir;

pub use crate::support::kubectl;

/// A Git repository on branch `main`, followed through its `file://` URL.
pub struct Repo {
    dir: TempDir,
    repo: Repository,
}

impl Repo {
    pub fn new() -> Repo {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).expect("git init");
        Repo { dir, repo }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    pub fn write(&self, rel: &str, content: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.dir.path().join(rel)).expect("remove");
    }

    /// Commits every change (additions, edits, deletions) and returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        let mut index = self.repo.index().expect("index");
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .expect("add");
        index.update_all(["*"], None).expect("update");
        index.write().expect("write index");
        let tree = self
            .repo
            .find_tree(index.write_tree().expect("tree"))
            .expect("find tree");
        let sig = Signature::now("rekube test", "test@example.com").expect("signature");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .expect("commit")
            .to_string()
    }
}

/// A running `rekube reconcile`, killed when dropped.
pub struct Reconciler {
    child: Child,
    log: Arc<Mutex<String>>,
    pub addr: String,
    pub identity: String,
    _cache: TempDir,
}

impl Reconciler {
    /// Starts `rekube reconcile --repo URL --ref main ARGS` on a free port with a private Git cache, and
    /// waits until it serves its endpoints.
    pub fn start(kubeconfig: &Path, repo: &str, identity: &str, args: &[&str]) -> Reconciler {
        let cache = tempfile::tempdir().expect("cache");
        let mut child = Command::new(env!("CARGO_BIN_EXE_rekube"))
            .args(["reconcile", "--repo", repo, "--ref", "main"])
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["--listen", "127.0.0.1:0", "--identity", identity])
            .args(args)
            .env("REKUBE_CACHE_DIR", cache.path())
            .env_remove("KUBECONFIG")
            .env_remove("POD_NAME")
            .env_remove("REKUBE_INVENTORY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the rekube binary starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = log.clone();
        let name = identity.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[{name}] {line}");
                let mut log = sink.lock().unwrap_or_else(|p| p.into_inner());
                log.push_str(&line);
                log.push('\n');
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let text = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
            if let Some(rest) = text.split("on http://").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("rekube reconcile {identity} exited with {status}:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "{identity} did not start serving within 60 s:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Reconciler {
            child,
            log,
            addr,
            identity: identity.to_string(),
            _cache: cache,
        }
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// `GET path`: status code and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).expect("connect to the reconciler");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .expect("request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("response");
        let code = response
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (code, body)
    }

    pub fn metrics(&self) -> String {
        let (code, body) = self.get("/metrics");
        assert_eq!(code, 200, "/metrics of {}", self.identity);
        body
    }

    /// The value of the series `series` (`name` or `name{labels}`), if present.
    pub fn metric(&self, series: &str) -> Option<f64> {
        metric(&self.metrics(), series)
    }

    /// The commit of `rekube_applied_revision_info`.
    pub fn applied(&self) -> Option<String> {
        let text = self.metrics();
        let line = text
            .lines()
            .find(|l| l.starts_with("rekube_applied_revision_info{"))?;
        Some(line.split('"').nth(1)?.to_string())
    }

    pub fn is_leader(&self) -> bool {
        self.metric("rekube_leader") == Some(1.0)
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL: no chance to release the Lease.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (up to 60 s) for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid");
        // SAFETY: signalling a child process this test started and has not reaped.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within 60 s of SIGTERM",
                self.identity
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resident memory (VmRSS) in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS")
    }
}

impl Drop for Reconciler {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The value of `series` in an exposition text.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
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

/// `kubectl get -o jsonpath=...`, or `None` when the object does not exist.
pub fn jsonpath(kubeconfig: &Path, what: &[&str], path: &str) -> Option<String> {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("get")
        .args(what)
        .arg(format!("-o=jsonpath={path}"))
        .output()
        .expect("kubectl is installed");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The median of some durations.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
