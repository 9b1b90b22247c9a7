//! The offline figures (no cluster): `rekube plan` of a 10,000-object repository on disk end to end, and
//! the plan benchmark (`examples/bench_plan.rs`) whose own output is recorded as it prints it, among them
//! its instructions per object (`--instructions`, under valgrind).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rekube::synth::{self, SynthOptions};

use crate::report::median;
use crate::{Error, procs, setup};

/// Objects of the offline repository.
pub const OBJECTS: usize = 10_000;
const RUNS: usize = 3;

#[derive(Debug, Default)]
pub struct Offline {
    /// `rekube plan DIR`: median seconds, per-run seconds, median peak MiB.
    pub plan_secs: Option<f64>,
    pub plan_runs: Vec<f64>,
    pub plan_mib: Option<f64>,
    /// (command, its output) of each bench_plan run.
    pub bench_plan: Vec<(String, String)>,
    pub errors: Vec<String>,
}

/// Generates the repository under `work`, times `rekube plan` on it and runs bench_plan.
pub async fn run(work: &Path, rekube: &Path) -> Offline {
    let mut o = Offline::default();
    let dir = work.join(format!("offline-{OBJECTS}"));
    let repo = synth::generate(&SynthOptions { objects: OBJECTS });
    if let Err(e) = synth::write(&repo, &dir) {
        o.errors.push(format!("writing {}: {e}", dir.display()));
        return o;
    }
    eprintln!("bench: offline: rekube plan of {OBJECTS} objects, {RUNS} runs");
    let (mut secs, mut mib) = (Vec::new(), Vec::new());
    for run in 1..=RUNS {
        let args = vec!["plan".to_string(), dir.display().to_string()];
        match exec(
            rekube,
            &args,
            &work.join(format!("logs/offline-plan-{run}.log")),
        )
        .await
        {
            Ok(exit) if exit.code == 0 => {
                secs.push(exit.elapsed.as_secs_f64());
                mib.push(exit.max_rss_kib as f64 / 1024.0);
            }
            Ok(exit) => o.errors.push(format!(
                "rekube plan exited {}:\n{}",
                exit.code,
                exit.tail()
            )),
            Err(e) => o.errors.push(format!("rekube plan: {e}")),
        }
    }
    o.plan_secs = median(secs.clone());
    o.plan_runs = secs;
    o.plan_mib = median(mib);

    match setup::cargo_build(&setup::TARGETS, "examples/bench_plan").await {
        Ok(bench_plan) => {
            let dir_arg = dir.display().to_string();
            for args in [
                vec!["--objects".to_string(), OBJECTS.to_string()],
                vec!["--dir".to_string(), dir_arg.clone()],
                // Instructions per object under valgrind (callgrind): counts that noise cannot move.
                vec![
                    "--instructions".to_string(),
                    "--objects".to_string(),
                    OBJECTS.to_string(),
                    "--dir".to_string(),
                    dir_arg.clone(),
                ],
            ] {
                let log = work.join("logs/offline-bench-plan.log");
                let shown = args.join(" ").replace(&dir_arg, "DIR");
                let command = format!("cargo run --release --example bench_plan -- {shown}");
                match exec(&bench_plan, &args, &log).await {
                    Ok(exit) => {
                        let text = std::fs::read_to_string(&exit.log).unwrap_or_default();
                        o.bench_plan.push((command, text.replace(&dir_arg, "DIR")));
                    }
                    Err(e) => o.errors.push(format!("{command}: {e}")),
                }
            }
        }
        Err(e) => o.errors.push(format!("building bench_plan: {e}")),
    }
    o
}

async fn exec(program: &Path, args: &[String], log: &Path) -> Result<procs::Exit, Error> {
    let (program, args, log): (PathBuf, Vec<String>, PathBuf) =
        (program.to_path_buf(), args.to_vec(), log.to_path_buf());
    tokio::task::spawn_blocking(move || {
        procs::run(&program, &args, &[], &log, Duration::from_secs(300))
    })
    .await?
}
