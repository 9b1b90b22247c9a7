//! One file per command: arguments → options → one library call → rendering → exit code.

use crate::cli::{Cli, Command};

pub mod apply;
pub mod audit;
pub mod clusters;
pub mod common;
pub mod diff;
pub mod drift;
pub mod drill;
pub mod explain;
pub mod export;
pub mod failover;
pub mod init;
pub mod local;
pub mod lock;
pub mod plan;
pub mod promote;
pub mod rebuild;
pub mod reconcile;
pub mod target;

/// Exit code: success, or in sync.
pub const EXIT_OK: i32 = 0;
/// Exit code: differences or drift found (as `kubectl diff`).
pub const EXIT_DIFF: i32 = 1;
/// Exit code: an error (invalid input, unreachable cluster, failed apply).
pub const EXIT_ERROR: i32 = 2;

/// The error type of the command layer: each library stage's error, rendered with its cause chain.
pub type CommandError = Box<dyn std::error::Error + Send + Sync>;

/// Runs a parsed command line and returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Plan(args) => plan::run(args).await,
        Command::Diff(args) => diff::run(args).await,
        Command::Apply(args) => apply::run(args).await,
        Command::Rebuild(args) => rebuild::run(args).await,
        Command::Explain(args) => explain::run(args).await,
        Command::Drift(args) => drift::run(args).await,
        Command::Drill(args) => drill::run(args).await,
        Command::Promote(args) => promote::run(args).await,
        Command::Reconcile(args) => reconcile::run(args).await,
        Command::Lock(args) => lock::run(args).await,
        Command::Export(args) => export::run(args).await,
        Command::Init(args) => init::run(args).await,
        Command::Local(args) => local::run(args).await,
        Command::Audit(args) => audit::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // Validation errors were printed one by one already; the summary still goes out.
            eprintln!("error: {}", render_error(e.as_ref()));
            EXIT_ERROR
        }
    }
}

pub use crate::error::render as render_error;
