//! The pipeline flows one way: a stage never reaches up into a later one, and nothing below the command
//! layer imports `crate::commands`. Read from the source text, so a new `use` that breaks the shape fails
//! here, naming the file and the line.

use std::path::{Path, PathBuf};

/// (folder or file under src/, module paths it must not use, why).
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "",
        &["crate::commands", "super::commands", "rekube::commands"],
        "only src/commands and src/main.rs render for users",
    ),
    (
        "cluster",
        &[
            "crate::diff",
            "crate::readiness",
            "crate::apply",
            "crate::ops",
        ],
        "the cluster edge does I/O for the stages above it, never their logic",
    ),
    (
        "inventory",
        &["crate::apply", "crate::ops"],
        "the inventory is read and written by the apply operation, not the other way round",
    ),
    (
        "diff",
        &["crate::cluster", "crate::apply", "crate::ops"],
        "the sync decision is pure: the caller passes the I/O in",
    ),
    (
        "readiness",
        &["crate::cluster", "crate::apply", "crate::ops"],
        "readiness rules are pure",
    ),
    (
        "graph",
        &["crate::cluster", "crate::apply", "crate::ops"],
        "ordering is pure",
    ),
    (
        "audit",
        &["crate::cluster", "crate::apply", "crate::ops"],
        "audit rules are pure: the live state is observed by ops::audit",
    ),
];

/// Files allowed to use what their folder's rule forbids (the command layer itself).
const EXEMPT: &[&str] = &["src/commands/", "src/main.rs"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn stages_never_reach_up() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut violations = Vec::new();
    for (folder, forbidden, why) in RULES {
        let dir = root.join("src").join(folder);
        let mut files = Vec::new();
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(dir.with_extension("rs"));
        }
        files.sort();
        for file in files {
            let rel = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            if EXEMPT.iter().any(|e| rel.starts_with(e)) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for f in *forbidden {
                    if code.contains(f) {
                        violations.push(format!("{rel}:{}: uses {f} ({why})", n + 1));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "modules reach up the pipeline:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_rule_finds_a_violation() {
    // The scan itself: a line that uses a forbidden path is seen, one in a comment is not.
    let code = |line: &str| line.split("//").next().unwrap_or_default().to_string();
    assert!(code("use crate::commands::render_error;").contains("crate::commands"));
    assert!(!code("// see crate::commands for rendering").contains("crate::commands"));
}
