//! `comfy-tui demo`: the built-in simulator on a free loopback port, and the demo
//! workflow run against it, so the product can be seen without a GPU or a server.

use crate::cli::{DemoArgs, RunArgs};
use crate::launch::{self, Face};
use crate::sim::{self, SimConfig};
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
    let run_args = RunArgs {
        workflow: workflow_file.path().to_owned(),
        server: sim.url(),
        out: args.out.clone(),
        sets: Vec::new(),
        seed: Some("random".into()),
        timeout: None,
        no_download: false,
        client_id: None,
        headers: Vec::new(),
        preview_method: Some("auto".into()),
        no_check: false,
        face: args.face.clone(),
    };
    let code = match launch::prepare(&run_args, face) {
        Ok(prepared) => launch::start(prepared, face, !args.face.no_notify).await,
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
