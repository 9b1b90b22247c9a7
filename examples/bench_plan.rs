//! Plan benchmark: generates N objects in memory (or loads a generated folder with `--dir`), builds the
//! graph and the plan, and prints the wall time and the peak resident memory (VmHWM).
//!
//! `cargo run --release --example bench_plan -- --objects 10000`
//!
//! Instructions per object, which noise on a shared machine cannot move (needs `valgrind`):
//!
//! `cargo run --release --example bench_plan -- --instructions --objects 10000 [--dir DIR]`
//!
//! runs this program under `valgrind --tool=callgrind` for each phase twice, with the phase's work and
//! without it (`--baseline`: the same setup, process start and exit), and prints the difference divided
//! by the objects: two lines, each
//! `instructions/object <phase>: <per object> (<total> for <objects> objects)`:
//! - `load+plan`: load the repository from disk (`--dir`, or a `generate`d copy of N objects written to
//!   a temporary folder first, not counted), validate, build the graph and the plan, render it as text:
//!   what `rekube plan` does;
//! - `decide`: the sync decision ([`rekube::diff::decide`]) and its [`Observation`] for every object
//!   against a recorded live object (synthesised: the desired body with the fields the server adds);
//!   1 in 100 was changed by hand and goes through the (in-memory) dry-run. No cluster is involved.
//!
//! `--phase load-plan|decide [--baseline]` runs one phase alone (what the counted runs do).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use rekube::Object;
use rekube::diff::{self, IgnoreRules, Observation, SyncOptions};
use rekube::graph::{GraphOptions, plan, render};
use rekube::manifest::{LoadOptions, load_dir};
use rekube::synth::{SynthOptions, generate, write};
use serde_json::{Value, json};

fn main() -> ExitCode {
    let mut objects = 10_000;
    let mut dir: Option<PathBuf> = None;
    let mut phase: Option<String> = None;
    let mut instructions = false;
    let mut baseline = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--instructions" || arg == "--baseline" {
            instructions |= arg == "--instructions";
            baseline |= arg == "--baseline";
            continue;
        }
        match (arg.as_str(), args.next()) {
            ("--objects", Some(v)) => match v.parse() {
                Ok(n) => objects = n,
                Err(e) => return fail(&format!("--objects {v}: {e}")),
            },
            ("--dir", Some(v)) => dir = Some(PathBuf::from(v)),
            ("--phase", Some(v)) => phase = Some(v),
            _ => {
                return fail(&format!(
                    "unexpected argument {arg}; usage: bench_plan [--objects N | --dir DIR] [--instructions | --phase load-plan|decide]"
                ));
            }
        }
    }
    if instructions {
        return count_instructions(objects, dir.as_deref());
    }
    match phase.as_deref() {
        None => {}
        Some("load-plan") => {
            let Some(dir) = dir else {
                return fail("--phase load-plan needs --dir");
            };
            if baseline {
                println!("objects: 0");
                return ExitCode::SUCCESS;
            }
            return match phase_load_plan(&dir) {
                Ok(n) => {
                    println!("objects: {n}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            };
        }
        Some("decide") => {
            let (inputs, ignore) = decide_inputs(objects);
            let (in_sync, changed) = if baseline {
                (0, 0)
            } else {
                phase_decide(&inputs, &ignore)
            };
            println!("objects: {}", inputs.len());
            println!("in sync: {in_sync}, changed: {changed}");
            return ExitCode::SUCCESS;
        }
        Some(other) => return fail(&format!("unknown phase {other:?}: load-plan or decide")),
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

/// The counted phase of `rekube plan`: load, validate, graph, plan, render. Returns the object count.
fn phase_load_plan(dir: &Path) -> Result<usize, String> {
    let m = load_dir(dir, &LoadOptions::default()).map_err(|e| e.to_string())?;
    let p = plan(&m.layers, &m.objects, &GraphOptions::default()).map_err(|e| e.to_string())?;
    let text = render::text(&p);
    std::hint::black_box(text);
    Ok(m.objects.len())
}

/// One object as diff and drift decide it: what would be applied, and the live object a LIST returned.
struct DecideInput {
    object: Object,
    desired: Value,
    live: Value,
}

/// Synthesised objects with their live copies: the server's fields added, and 1 in 100 changed by hand
/// (a label added and an older digest: the fast path fails, the dry-run shows the change).
fn decide_inputs(objects: usize) -> (Vec<DecideInput>, IgnoreRules) {
    let repo = generate(&SynthOptions { objects });
    let labels = [(
        "applyset.kubernetes.io/part-of".to_string(),
        "bench".to_string(),
    )]
    .into();
    let inputs = repo
        .objects
        .into_iter()
        .enumerate()
        .map(|(i, object)| {
            let desired = rekube::apply::desired(&object, Some("0123456789abcdef"), &labels);
            let mut live = desired.clone();
            if let Some(meta) = live.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("resourceVersion".into(), json!(format!("{}", 1000 + i)));
                meta.insert("uid".into(), json!(format!("00000000-0000-0000-0000-{i:012}")));
                meta.insert("creationTimestamp".into(), json!("2026-01-01T00:00:00Z"));
                meta.insert(
                    "managedFields".into(),
                    json!([{"manager": "rekube", "operation": "Apply", "apiVersion": object.api_version,
                        "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}]),
                );
                if i % 100 == 0 {
                    meta.insert("labels".into(), json!({"edited": "by-hand"}));
                    if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                        a.insert(rekube::keys::ANNOTATION_DIGEST.into(), json!("sha256:old"));
                    }
                }
            }
            DecideInput {
                object,
                desired,
                live,
            }
        })
        .collect();
    (inputs, IgnoreRules::default())
}

/// The counted phase of the diff decision: every object decided against its live copy (moved in, as
/// from the live index) and turned into the observation diff and drift keep. Returns (in sync, changed).
fn phase_decide(inputs: &[DecideInput], ignore: &IgnoreRules) -> (usize, usize) {
    let (mut in_sync, mut changed) = (0, 0);
    for input in inputs {
        let live = input.live.clone();
        let ignored = ignore.for_object(&input.object.id, &input.object.body);
        // The dry-run of an edited object: what the server would store, the body over the live object.
        let dry_run = |body: Value| {
            let mut stored = body;
            if let (Some(m), Some(l)) = (stored.get_mut("metadata"), input.live.get("metadata")) {
                m["resourceVersion"] = l["resourceVersion"].clone();
            }
            std::future::ready(Ok::<_, String>(stored))
        };
        let read = || std::future::ready(Ok::<_, String>(None));
        let decided = futures::executor::block_on(diff::decide(
            Some(live),
            &input.desired,
            &ignored,
            SyncOptions::default(),
            read,
            dry_run,
        ));
        match decided.map(|d| Observation::of(d, &input.desired)) {
            Ok(Observation {
                dry_run: diff::DryRun::InSync,
                ..
            }) => in_sync += 1,
            _ => changed += 1,
        }
    }
    (in_sync, changed)
}

/// Runs each phase under callgrind with and without its work, and prints instructions per object.
fn count_instructions(objects: usize, dir: Option<&Path>) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return fail(&format!("this program's path: {e}")),
    };
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => return fail(&format!("temporary folder: {e}")),
    };
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            let d = tmp.path().join("repo");
            if let Err(e) = write(&generate(&SynthOptions { objects }), &d) {
                return fail(&format!("writing {}: {e}", d.display()));
            }
            d
        }
    };
    let dir_arg = dir.display().to_string();
    let objects_arg = objects.to_string();
    let phases: [(&str, Vec<&str>); 2] = [
        ("load+plan", vec!["--phase", "load-plan", "--dir", &dir_arg]),
        (
            "decide",
            vec!["--phase", "decide", "--objects", &objects_arg],
        ),
    ];
    for (label, args) in phases {
        let with = callgrind(&exe, &args, tmp.path());
        let without = callgrind(&exe, &[&args[..], &["--baseline"]].concat(), tmp.path());
        match (with, without) {
            (Ok((total, n)), Ok((base, _))) if n > 0 => {
                let work = total.saturating_sub(base);
                println!(
                    "instructions/object {label}: {} ({work} for {n} objects)",
                    work / n
                );
            }
            (Ok(_), Ok(_)) => return fail(&format!("{label}: no objects")),
            (Err(e), _) | (_, Err(e)) => return fail(&format!("{label}: {e}")),
        }
    }
    ExitCode::SUCCESS
}

/// Instructions of the whole run of this program with `args` under callgrind, and the objects it said
/// it handled.
fn callgrind(exe: &Path, args: &[&str], tmp: &Path) -> Result<(u64, u64), String> {
    let out = tmp.join(format!("callgrind.{}", args.join("_").replace('/', "_")));
    let run = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .args(args)
        .output()
        .map_err(|e| format!("valgrind (apt-get install valgrind): {e}"))?;
    if !run.status.success() {
        let err = String::from_utf8_lossy(&run.stderr);
        return Err(format!(
            "valgrind {}: {}\n{err}",
            args.join(" "),
            run.status
        ));
    }
    let objects = String::from_utf8_lossy(&run.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("objects: ")?.trim().parse::<u64>().ok())
        .ok_or("no object count in the output")?;
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary: ")
                .or_else(|| l.strip_prefix("totals: "))
        })
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("no instruction total in {}", out.display()))?;
    Ok((total, objects))
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
