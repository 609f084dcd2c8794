//! `comfy-tui convert` as a whole: against the simulator's `/object_info`, against a saved
//! one, API files passing through, and the exit codes for bad input and a dead server.

mod common;

use common::sim::{requests_to, start_sim, within};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_comfy-tui"));
    command.env_remove("COMFYUI_URL").kill_on_drop(true);
    command
}

fn asset(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("json")
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(args: &[&str]) -> Output {
    let output = within(binary().args(args).stdin(Stdio::null()).output())
        .await
        .expect("binary runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_ui_file_converts_against_the_simulator_to_the_demo_prompt() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let demo_ui = asset("assets/workflows/demo.ui.json");
    let out = run(&[
        "convert",
        demo_ui.to_str().expect("utf-8 path"),
        "--server",
        &sim.url(),
    ])
    .await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let prompt: Value = serde_json::from_str(&out.stdout).expect("stdout is the bare prompt");
    assert_eq!(prompt, read_json(&asset("assets/workflows/demo.json")));
    assert_eq!(
        requests_to(&sim, "GET", "/object_info").len(),
        1,
        "fetched once"
    );
    assert!(
        requests_to(&sim, "POST", "/prompt").is_empty(),
        "nothing is queued"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_info_from_a_file_and_output_to_a_file_with_picks_on_stderr() {
    let dir = tempfile::tempdir().expect("dir");
    let mut ui = read_json(&asset("assets/workflows/demo.ui.json"));
    let positive = ui["nodes"]
        .as_array_mut()
        .and_then(|nodes| nodes.iter_mut().find(|n| n["id"] == 6))
        .expect("positive prompt node");
    positive["widgets_values"][0] = json!("a {lighthouse|castle|windmill} at dusk");
    let ui_path = dir.path().join("dynamic.ui.json");
    std::fs::write(&ui_path, ui.to_string()).expect("write");
    let out_path = dir.path().join("prompt.json");
    let object_info = asset("assets/sim/object_info.json");
    let args = [
        "convert",
        ui_path.to_str().expect("utf-8"),
        "--object-info",
        object_info.to_str().expect("utf-8"),
        "-o",
        out_path.to_str().expect("utf-8"),
        "--seed",
        "7",
    ];
    let first = run(&args).await;
    assert_eq!(first.code, 0, "stderr: {}", first.stderr);
    assert!(first.stdout.is_empty(), "the prompt went to the file");
    assert!(
        first.stderr.contains("dynamic prompt picked"),
        "{}",
        first.stderr
    );
    let prompt = read_json(&out_path);
    let text = prompt["6"]["inputs"]["text"].as_str().expect("text");
    assert!(
        [
            "a lighthouse at dusk",
            "a castle at dusk",
            "a windmill at dusk"
        ]
        .contains(&text),
        "{text}"
    );
    let again = run(&args).await;
    assert_eq!(again.code, 0);
    assert_eq!(read_json(&out_path), prompt, "the same seed picks the same");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_file_passes_through_unchanged() {
    let demo = asset("assets/workflows/demo.json");
    // No server runs on this address: an API file needs none.
    let out = run(&[
        "convert",
        demo.to_str().expect("utf-8"),
        "--server",
        "http://127.0.0.1:9",
    ])
    .await;
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let prompt: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(prompt, read_json(&demo));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_classes_and_bad_files_exit_2_and_a_dead_server_exits_4() {
    let dir = tempfile::tempdir().expect("dir");
    let object_info = asset("assets/sim/object_info.json");
    let mut ui = read_json(&asset("assets/workflows/demo.ui.json"));
    let nodes = ui["nodes"].as_array_mut().expect("nodes");
    nodes[0]["type"] = json!("FancyCustomLoader");
    nodes[1]["type"] = json!("FancyCustomLoader");
    nodes[2]["type"] = json!("OtherMissingNode");
    let missing = dir.path().join("missing.ui.json");
    std::fs::write(&missing, ui.to_string()).expect("write");
    let out = run(&[
        "convert",
        missing.to_str().expect("utf-8"),
        "--object-info",
        object_info.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert!(out.stdout.is_empty());
    for expected in [
        "FancyCustomLoader",
        "OtherMissingNode",
        "node 4",
        "node 6 \"Positive Prompt\"",
        "node 7",
    ] {
        assert!(
            out.stderr.contains(expected),
            "{expected} in {}",
            out.stderr
        );
    }

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"nodes\": [").expect("write");
    let out = run(&["convert", broken.to_str().expect("utf-8")]).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("not valid JSON"), "{}", out.stderr);

    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let demo_ui = asset("assets/workflows/demo.ui.json");
    let out = run(&[
        "convert",
        demo_ui.to_str().expect("utf-8"),
        "--server",
        &format!("http://127.0.0.1:{port}"),
    ])
    .await;
    assert_eq!(out.code, 4, "stderr: {}", out.stderr);
    assert!(out.stderr.contains("cannot reach"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_on_stdin_converts_too() {
    use tokio::io::AsyncWriteExt;
    let object_info = asset("assets/sim/object_info.json");
    let mut child = binary()
        .args([
            "convert",
            "-",
            "--object-info",
            object_info.to_str().expect("utf-8"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let text = std::fs::read(asset("assets/workflows/demo.ui.json")).expect("demo");
    let mut stdin = child.stdin.take().expect("stdin");
    within(stdin.write_all(&text)).await.expect("written");
    drop(stdin);
    let output = within(child.wait_with_output()).await.expect("ends");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let prompt: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(prompt, read_json(&asset("assets/workflows/demo.json")));
}
