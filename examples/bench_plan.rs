//! Plan benchmark: generates N objects in memory (or loads a generated folder with `--dir`), builds the
//! graph and the plan, and prints the wall time and the peak resident memory (VmHWM).
//!
//! `cargo run --release --example bench_plan -- --objects 10000`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use rekube::graph::{GraphOptions, plan, render};
use rekube::manifest::{LoadOptions, load_dir};
use rekube::synth::{SynthOptions, generate};

fn main() -> ExitCode {
    let mut objects = 10_000;
    let mut dir: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--objects", Some(v)) => match v.parse() {
                Ok(n) => objects = n,
                Err(e) => return fail(&format!("--objects {v}: {e}")),
            },
            ("--dir", Some(v)) => dir = Some(PathBuf::from(v)),
            _ => {
                return fail(&format!(
                    "unexpected argument {arg}; usage: bench_plan [--objects N | --dir DIR]"
                ));
            }
        }
    }
    let start = Instant::now();
    let (layers, objects) = match dir {
        Some(dir) => match load_dir(&dir, &LoadOptions::default()) {
            Ok(m) => (m.layers, m.objects),
            Err(e) => return fail(&e.to_string()),
        },
        None => {
            let repo = generate(&SynthOptions { objects });
            (repo.layers, repo.objects)
        }
    };
    let input = start.elapsed();

    let start = Instant::now();
    let plan = match plan(&layers, &objects, &GraphOptions::default()) {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string()),
    };
    let planned = start.elapsed();
    let start = Instant::now();
    let text = render::text(&plan);
    let rendered = start.elapsed();

    let g = plan.graph();
    println!("objects: {}", g.object_count());
    println!(
        "edges: {} (barriers: {})",
        g.edges().len(),
        g.nodes().len() - g.object_count()
    );
    println!("waves: {}", plan.waves().len());
    println!("externals: {}", g.externals().len());
    println!("digest: {}", plan.digest());
    println!("input (generate or load): {:.3} s", input.as_secs_f64());
    println!(
        "plan (graph + waves + digest): {:.3} s",
        planned.as_secs_f64()
    );
    println!(
        "render text ({} bytes): {:.3} s",
        text.len(),
        rendered.as_secs_f64()
    );
    println!(
        "peak RSS (VmHWM): {}",
        peak_rss().unwrap_or_else(|| "unknown".to_string())
    );
    ExitCode::SUCCESS
}

/// `VmHWM` from /proc/self/status (Linux): the peak resident set size of this process.
fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.1} MB", kb / 1024.0))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}
