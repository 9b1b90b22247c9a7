//! `rekube lock`: pin the remote charts of rekube.yaml in rekube.lock; print each pin.

use crate::cli::LockArgs;
use crate::ops::lock::lock;

use super::{CommandError, EXIT_OK};

pub async fn run(args: LockArgs) -> Result<i32, CommandError> {
    let root = args.repository.clone();
    let pinned = tokio::task::spawn_blocking(move || lock(&root)).await??;
    if pinned.is_empty() {
        eprintln!("no remote chart in rekube.yaml: rekube.lock lists none");
    }
    for p in &pinned {
        let l = &p.locked;
        let what = match (&p.previous, p.new) {
            (_, true) => "pinned".to_string(),
            (Some(before), _) => format!("CHANGED (was {before})"),
            (None, false) => "unchanged".to_string(),
        };
        println!(
            "{} {} from {}: {} {what}",
            l.chart, l.version, l.repository, l.digest
        );
    }
    eprintln!(
        "wrote {}",
        args.repository.join(crate::helm::lock::LOCK_FILE).display()
    );
    Ok(EXIT_OK)
}
