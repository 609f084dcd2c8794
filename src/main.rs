//! The binary: parse the command line, set up logging, run, and exit with the run's code.

use clap::Parser;
use comfy_tui::cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    let log_guard = match cli.log_file.as_deref().map(comfy_tui::logging::init) {
        Some(Err(e)) => {
            eprintln!("comfy-tui: {e}");
            std::process::exit(comfy_tui::exit::USAGE);
        }
        Some(Ok(guard)) => Some(guard),
        None => None,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("comfy-tui: cannot start the async runtime: {e}");
            std::process::exit(comfy_tui::exit::USAGE);
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Run(args) => comfy_tui::launch::run(args).await,
            Command::Attach(args) => comfy_tui::attach::run(args).await,
            Command::Watch(args) => comfy_tui::watch::run(args).await,
            Command::Workflows(args) => comfy_tui::workflows::run(args).await,
            Command::Check(args) => comfy_tui::check::command::run(args).await,
            Command::Convert(args) => comfy_tui::convert_cmd::run(args).await,
            Command::Jobs(args) => comfy_tui::jobs::run(&args),
            Command::Stats(args) => comfy_tui::discover::stats::run(args).await,
            Command::Queue(args) => comfy_tui::discover::queue::run(args).await,
            Command::History(args) => comfy_tui::discover::history::run(args).await,
            Command::Models(args) => comfy_tui::discover::models::run(args).await,
            Command::Nodes(args) => comfy_tui::discover::nodes::run(args).await,
            Command::Embeddings(args) => comfy_tui::discover::embeddings::run(args).await,
            Command::Features(args) => comfy_tui::discover::features::run(args).await,
            Command::Schema => comfy_tui::schema::run(),
            Command::Demo(args) => comfy_tui::demo::run(args).await,
            Command::Sim(args) => match comfy_tui::sim::run_cli(args).await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("comfy-tui sim: {e:#}");
                    comfy_tui::exit::UNREACHABLE
                }
            },
        }
    });
    // Tasks still writing to a closed channel do not matter now; their partial files do.
    runtime.shutdown_background();
    comfy_tui::output::remove_partial_files();
    // `exit` runs no destructors: flush the log first.
    drop(log_guard);
    std::process::exit(code);
}
