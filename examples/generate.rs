//! Writes a synthetic repository of N valid Kubernetes objects (see `rekube::synth`).
//!
//! `cargo run --release --example generate -- --objects 10000 --out DIR`

use std::path::PathBuf;
use std::process::ExitCode;

use rekube::synth::{SynthOptions, generate, write};

fn main() -> ExitCode {
    let mut objects = 1000;
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--objects", Some(v)) => match v.parse() {
                Ok(n) => objects = n,
                Err(e) => return usage(&format!("--objects {v}: {e}")),
            },
            ("--out", Some(v)) => out = Some(PathBuf::from(v)),
            _ => return usage(&format!("unexpected argument {arg}")),
        }
    }
    let Some(out) = out else {
        return usage("--out DIR is required");
    };
    let repo = generate(&SynthOptions { objects });
    if let Err(e) = write(&repo, &out) {
        eprintln!("error: writing {}: {e}", out.display());
        return ExitCode::from(2);
    }
    println!("wrote {} objects to {}", repo.objects.len(), out.display());
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("error: {problem}\nusage: generate --objects N --out DIR");
    ExitCode::from(2)
}
