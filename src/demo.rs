//! `comfy-tui demo`: the built-in simulator on a free loopback port, and the demo
//! workflow run against it, so the product can be seen without a GPU or a server.

use crate::cli::DemoArgs;
use crate::launch::{self, Face};
use crate::sim::{self, SimConfig};
use clap::Parser;
use std::time::Duration;

/// The demo workflow, shipped inside the binary.
pub const DEMO_WORKFLOW: &str = include_str!("../assets/workflows/demo.json");

pub async fn run(args: DemoArgs) -> i32 {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("comfy-tui demo: cannot open a loopback port: {e}");
            return crate::exit::UNREACHABLE;
        }
    };
    let config = SimConfig {
        step_delay: Duration::from_millis(args.step_ms),
        ..SimConfig::default()
    };
    let sim = match sim::start(listener, config).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("comfy-tui demo: cannot start the simulator: {e}");
            return crate::exit::UNREACHABLE;
        }
    };
    let workflow_file = match write_demo_workflow() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("comfy-tui demo: cannot write the demo workflow: {e}");
            return crate::exit::USAGE;
        }
    };
    let face = Face::choose(&args.face);
    // The same arguments a user would type, so that every `run` option keeps its default.
    let mut argv: Vec<std::ffi::OsString> = vec![
        "comfy-tui".into(),
        "run".into(),
        workflow_file.path().into(),
        "--server".into(),
        sim.url().into(),
        "--out".into(),
        args.out.clone().into(),
        "--seed".into(),
        "random".into(),
        "--preview-method".into(),
        "auto".into(),
    ];
    if args.face.no_notify {
        argv.push("--no-notify".into());
    }
    let mut run_args = match crate::cli::Cli::try_parse_from(argv).map(|cli| cli.command) {
        Ok(crate::cli::Command::Run(run_args)) => run_args,
        _ => {
            eprintln!("comfy-tui demo: cannot prepare the demo run");
            return crate::exit::USAGE;
        }
    };
    run_args.face = args.face.clone();
    let code = match launch::prepare(&run_args, face) {
        Ok(mut prepared) => {
            // The simulator lives on a new port each time: nothing to find again there.
            prepared.context.state = None;
            launch::start(prepared, face, &args.face).await
        }
        Err(e) => launch::report_usage(&e, face),
    };
    sim.shutdown().await;
    code
}

fn write_demo_workflow() -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut file = tempfile::Builder::new()
        .prefix("comfy-tui-demo-")
        .suffix(".json")
        .tempfile()?;
    file.write_all(DEMO_WORKFLOW.as_bytes())?;
    Ok(file)
}
