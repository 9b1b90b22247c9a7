//! Helpers of the reconcile tests: `rekube reconcile` processes with their log, metrics and signals.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use crate::support::{Background, Rekube};

/// A running `rekube reconcile`, killed when dropped.
pub struct Reconciler {
    process: Background,
    pub addr: String,
    pub identity: String,
    /// Holds the private cache folder while the process runs.
    _rekube: Rekube,
}

impl Reconciler {
    /// Starts `rekube reconcile --repo URL --ref main ARGS` on a free port with a private Git cache, and
    /// waits until it serves its endpoints.
    pub fn start(kubeconfig: &Path, repo: &str, identity: &str, args: &[&str]) -> Reconciler {
        let rekube = Rekube::on(kubeconfig);
        let mut command = rekube.command(&["reconcile", "--repo", repo, "--ref", "main"]);
        command
            .args(["--listen", "127.0.0.1:0", "--identity", identity])
            .args(args)
            .env_remove("POD_NAME");
        let mut process = Background::start(command, identity);
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let text = process.log();
            if let Some(rest) = text.split("on http://").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
            if let Some(status) = process.exited() {
                panic!("rekube reconcile {identity} exited with {status}:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "{identity} did not start serving within 60 s:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Reconciler {
            process,
            addr,
            identity: identity.to_string(),
            _rekube: rekube,
        }
    }

    pub fn log(&self) -> String {
        self.process.log()
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
        self.process.running()
    }

    /// SIGKILL: no chance to release the Lease.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// SIGTERM, then waits (up to 60 s) for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = libc::pid_t::try_from(self.process.pid()).expect("pid");
        // SAFETY: signalling a child process this test started and has not reaped.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        self.process.wait(Duration::from_secs(60))
    }

    /// Resident memory (VmRSS) in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.pid()))
            .expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS")
    }
}

/// The value of `series` in an exposition text.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The median of some durations.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
