//! `rekube local up|down|list`: persistent local control planes to try rekube on by hand, each with a
//! `rekube-NAME` context in the kubeconfig. Exit 0 on success, 2 on any error.

use std::time::Duration;

use crate::cli::{LocalArgs, LocalCommand, LocalDownArgs, LocalServeArgs, LocalUpArgs};
use crate::controlplane::local::{self, Status, UpOptions};
use crate::controlplane::{ControlPlaneOptions, kubeconfig};

use super::{CommandError, EXIT_OK};

/// How long `down` waits for a graceful stop before SIGKILL.
const GRACE: Duration = Duration::from_secs(20);

pub async fn run(args: LocalArgs) -> Result<i32, CommandError> {
    match args.command {
        LocalCommand::Up(a) => up(a).await,
        LocalCommand::Down(a) => down(a).await,
        LocalCommand::List => list(),
        LocalCommand::Serve(a) => serve(a).await,
    }
}

async fn up(args: LocalUpArgs) -> Result<i32, CommandError> {
    let root = local::state_root()?;
    let files = kubeconfig::files();
    let opts = UpOptions {
        nodes: usize::from(args.nodes),
        port: args.port,
        start_timeout: args.timeout,
        exe: std::env::current_exe().map_err(|e| format!("cannot find the rekube binary: {e}"))?,
    };
    let name = args.name.clone();
    let (cluster, admin) =
        tokio::task::spawn_blocking(move || local::up(&root, &name, &opts)).await??;
    let context = local::context_name(&cluster.name);
    let written = kubeconfig::merge(&files, &admin, &context)?;
    println!(
        "local cluster {} is up at {} ({} node(s), ready in {:.1}s)",
        cluster.name, cluster.server, cluster.nodes, cluster.ready_in_seconds
    );
    println!("context {context} added to {}", written.display());
    println!("  kubectl --context {context} get nodes");
    println!("  rekube apply REPO --context {context}");
    println!("stop it with: rekube local down {}", cluster.name);
    Ok(EXIT_OK)
}

async fn down(args: LocalDownArgs) -> Result<i32, CommandError> {
    let root = local::state_root()?;
    let files = kubeconfig::files();
    let context = local::context_name(&args.name);
    let name = args.name.clone();
    let stopped = tokio::task::spawn_blocking(move || local::down(&root, &name, GRACE)).await?;
    let before = match stopped {
        Ok(before) => Some(before),
        // A context left behind (its state folder removed by hand) is still cleaned up.
        Err(crate::controlplane::ControlPlaneError::LocalNotFound { .. })
            if kubeconfig::has_context(&files, &context) =>
        {
            None
        }
        Err(e) => return Err(e.into()),
    };
    let removed = kubeconfig::remove(&files, &context)?;
    match before {
        Some(Status::Running(c)) => println!("local cluster {} at {} stopped", c.name, c.server),
        Some(Status::Starting { pid }) => {
            println!(
                "local cluster {} stopped while starting (pid {pid})",
                args.name
            );
        }
        Some(Status::Stopped) => println!(
            "local cluster {} was not running any more; its state was removed",
            args.name
        ),
        None => println!("local cluster {} had no state left", args.name),
    }
    for path in removed {
        println!("context {context} removed from {}", path.display());
    }
    Ok(EXIT_OK)
}

fn list() -> Result<i32, CommandError> {
    let root = local::state_root()?;
    let clusters = local::list(&root);
    if clusters.is_empty() {
        println!("no local clusters (start one with: rekube local up [NAME])");
        return Ok(EXIT_OK);
    }
    println!(
        "{:<20} {:<9} {:<27} {:>5}  {:<21} CONTEXT",
        "NAME", "STATUS", "SERVER", "NODES", "STARTED"
    );
    for (name, status) in clusters {
        let (state, server, nodes, started) = match &status {
            Status::Running(c) => (
                "running",
                c.server.clone(),
                c.nodes.to_string(),
                c.started.clone(),
            ),
            Status::Starting { .. } => ("starting", String::new(), String::new(), String::new()),
            Status::Stopped => ("stopped", String::new(), String::new(), String::new()),
        };
        println!(
            "{name:<20} {state:<9} {server:<27} {nodes:>5}  {started:<21} {}",
            local::context_name(&name)
        );
    }
    Ok(EXIT_OK)
}

async fn serve(args: LocalServeArgs) -> Result<i32, CommandError> {
    let root = local::state_root()?;
    let options = ControlPlaneOptions {
        assets: args.assets,
        nodes: usize::from(args.nodes),
        apiserver_port: args.port,
        start_timeout: args.start_timeout,
        ..ControlPlaneOptions::default()
    };
    local::serve(&root, &args.name, options).await?;
    Ok(EXIT_OK)
}
