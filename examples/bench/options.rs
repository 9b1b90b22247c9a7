//! The benchmark's command line.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Options {
    pub sizes: Vec<usize>,
    /// Runs per size up to `once_above` objects; larger sizes run once (a 20,000-object run takes minutes).
    pub runs: usize,
    pub once_above: usize,
    /// kubectl and kpt are measured up to this many objects (at 5,000 they take over 10 minutes).
    pub peers_max: usize,
    /// Flux's engine is measured up to this many objects.
    pub flux_max: usize,
    pub smoke: bool,
    pub serve: bool,
    /// The result tables only.
    pub out: Option<PathBuf>,
    /// The whole BENCHMARKS.md: machine, commands, offline plan figures, tables, verdicts.
    pub write: Option<PathBuf>,
    pub rekube: Option<PathBuf>,
    pub kubectl: Option<PathBuf>,
    pub skip_kpt: bool,
    pub flux: Option<PathBuf>,
    pub skip_flux: bool,
    pub skip_charts: bool,
    /// How long a step waits for other processes to leave the CPUs alone.
    pub quiet_patience: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sizes: vec![1000, 5000, 20000],
            runs: 1,
            once_above: 1000,
            peers_max: 1000,
            flux_max: 5000,
            smoke: false,
            serve: false,
            out: None,
            write: None,
            rekube: None,
            kubectl: None,
            skip_kpt: false,
            flux: None,
            skip_flux: false,
            skip_charts: false,
            quiet_patience: Duration::from_secs(5),
        }
    }
}

impl Options {
    /// Runs at `n` objects.
    pub fn runs_at(&self, n: usize) -> usize {
        if n <= self.once_above { self.runs } else { 1 }
    }
}

pub const USAGE: &str = "usage: bench [--objects 1000,5000,20000] [--runs 1] [--once-above 1000] \
[--peers-max 1000] [--flux-max 5000] [--smoke] [--serve] [--out FILE] [--write BENCHMARKS.md] \
[--rekube PATH] [--kubectl PATH] [--skip-kpt] [--flux PATH] [--skip-flux] [--skip-charts] \
[--quiet-patience SECS]";

pub fn parse() -> Result<Options, String> {
    let mut o = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value; {USAGE}"));
        let number = |v: String| v.trim().parse::<usize>().map_err(|e| format!("{v}: {e}"));
        match arg.as_str() {
            "--objects" => {
                o.sizes = value()?
                    .split(',')
                    .map(|s| number(s.to_string()))
                    .collect::<Result<_, _>>()?
            }
            "--runs" => o.runs = number(value()?)?,
            "--once-above" => o.once_above = number(value()?)?,
            "--peers-max" => o.peers_max = number(value()?)?,
            "--flux-max" => o.flux_max = number(value()?)?,
            "--quiet-patience" => o.quiet_patience = Duration::from_secs(number(value()?)? as u64),
            "--out" => o.out = Some(PathBuf::from(value()?)),
            "--write" => o.write = Some(PathBuf::from(value()?)),
            "--rekube" => o.rekube = Some(PathBuf::from(value()?)),
            "--kubectl" => o.kubectl = Some(PathBuf::from(value()?)),
            "--skip-kpt" => o.skip_kpt = true,
            "--flux" => o.flux = Some(PathBuf::from(value()?)),
            "--skip-flux" => o.skip_flux = true,
            "--skip-charts" => o.skip_charts = true,
            "--smoke" => o.smoke = true,
            "--serve" => o.serve = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            _ => return Err(format!("unexpected argument {arg}; {USAGE}")),
        }
    }
    if o.smoke {
        o.sizes = vec![50];
        o.runs = 1;
    }
    if o.runs == 0 || o.sizes.is_empty() || o.sizes.contains(&0) {
        return Err("--runs and every size in --objects must be at least 1".into());
    }
    Ok(o)
}
