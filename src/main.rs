//! The `rekube` binary: thin glue over the library (parse arguments, run one command, exit with its code).

use clap::Parser;
use std::io::IsTerminal;

use rekube::cli::{Cli, Command, LocalArgs, LocalCommand};

fn main() {
    let cli = Cli::parse();
    // The reconciler's log of what it does is at info; other commands speak on stderr themselves.
    // By default the client's own log of each failed request is off: rekube retries transient
    // failures, counts them in its summary, and reports every final error itself.
    let filter = match (&cli.command, cli.log.as_str()) {
        (Command::Reconcile(_), "warn") => "warn,rekube=info,kube_client=off",
        // A local cluster's supervisor: its log says when the control plane started and stopped.
        (
            Command::Local(LocalArgs {
                command: LocalCommand::Serve(_),
            }),
            "warn",
        ) => "warn,rekube=info,kube_client=off",
        (_, "warn") => "warn,kube_client=off",
        (_, filter) => filter,
    };
    init_tracing(filter);
    // Before any thread starts: libgit2's timeouts are process-wide.
    rekube::source::set_git_timeouts(match &cli.command {
        Command::Reconcile(args) => args.git_timeout,
        _ => rekube::source::DEFAULT_GIT_TIMEOUT,
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(rekube::commands::EXIT_ERROR);
        }
    };
    let code = runtime.block_on(rekube::commands::run(cli));
    std::process::exit(code);
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
