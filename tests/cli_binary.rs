//! The built binary: exit codes, bad input, and cancelling with Ctrl-C (SIGINT).

mod common;

use common::binary::{Lines, binary, next_event, run_binary, signal, spawn_lines};
use common::sim::{requests_to, start_sim, within};
use serde_json::{Value, json};
use std::time::Duration;

fn slow_workflow(steps: u64) -> Value {
    common::run::sampler_graph(steps, 64, 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_workflow_files_exit_2_naming_the_file_and_send_nothing() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let cases: [(&str, &str, &str); 3] = [
        ("broken.json", "{\"1\": ", "not valid JSON"),
        ("list.json", "[1, 2]", "must be a JSON object"),
        ("missing.json", "", "cannot read"),
    ];
    for (name, text, problem) in cases {
        let path = dir.path().join(name);
        if !text.is_empty() {
            std::fs::write(&path, text).expect("write");
        }
        let out = run_binary(&[
            "run",
            path.to_str().expect("utf-8 path"),
            "--server",
            &sim.url(),
            "--json",
        ])
        .await;
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(
            out.stderr.contains(name),
            "{name}: stderr names the file: {}",
            out.stderr
        );
        assert!(out.stderr.contains(problem), "{name}: {}", out.stderr);
        let last = common::schema::parse(out.stdout.lines().last().unwrap_or("{}"));
        assert_eq!(last["event"], "done");
        assert_eq!(last["exit_code"], 2);
    }
    let good = dir.path().join("good.json");
    std::fs::write(&good, slow_workflow(2).to_string()).expect("write");
    let out = run_binary(&[
        "run",
        good.to_str().expect("utf-8"),
        "--server",
        &sim.url(),
        "--set",
        "Nope.steps=3",
        "--plain",
    ])
    .await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("Nope"), "{}", out.stderr);
    let out = run_binary(&[
        "run",
        good.to_str().expect("utf-8"),
        "--server",
        "ftp://x",
        "--plain",
    ])
    .await;
    assert_eq!(out.code, 2);
    let out = run_binary(&["run", "--bogus-flag"]).await;
    assert_eq!(out.code, 2);
    assert!(
        sim.requests().is_empty(),
        "requests reached the server: {:?}",
        sim.requests()
    );
    sim.shutdown().await;
}

/// Starts `run --json` and returns the child plus a reader of its lines.
fn spawn_run(
    workflow: &Value,
    server: &str,
    dir: &std::path::Path,
) -> (tokio::process::Child, Lines) {
    let path = dir.join("w.json");
    std::fs::write(&path, workflow.to_string()).expect("write");
    spawn_lines(
        binary()
            .args([
                "run",
                path.to_str().expect("utf-8"),
                "--server",
                server,
                "--json",
                "--out",
            ])
            .arg(dir.join("out")),
    )
}

fn sigint(child: &tokio::process::Child) {
    signal(child, "INT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_running_interrupts_our_prompt_and_exits_130() {
    let sim = start_sim(Duration::from_millis(50)).await;
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, mut lines) = spawn_run(&slow_workflow(400), &sim.url(), dir.path());
    let submitted = next_event(&mut lines, "submitted").await;
    let prompt_id = submitted["prompt_id"].as_str().expect("id").to_owned();
    next_event(&mut lines, "progress").await;
    sigint(&child);
    let done = next_event(&mut lines, "done").await;
    assert_eq!(done["status"], "interrupted");
    let status = within(child.wait()).await.expect("exit");
    assert_eq!(status.code(), Some(130));
    let interrupts = requests_to(&sim, "POST", "/interrupt");
    assert_eq!(interrupts.len(), 1);
    assert_eq!(
        interrupts[0].body.as_ref().map(|b| b["prompt_id"].clone()),
        Some(json!(prompt_id))
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_queued_deletes_our_prompt_from_the_queue() {
    let sim = start_sim(Duration::from_millis(50)).await;
    // Someone else's long prompt keeps the worker busy.
    let blocker = reqwest::Client::new()
        .post(format!("{}/prompt", sim.url()))
        .json(&json!({"prompt": slow_workflow(400), "client_id": "someone-else"}))
        .send();
    assert!(within(blocker).await.expect("post").status().is_success());
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, mut lines) = spawn_run(&slow_workflow(3), &sim.url(), dir.path());
    let submitted = next_event(&mut lines, "submitted").await;
    let prompt_id = submitted["prompt_id"].as_str().expect("id").to_owned();
    sigint(&child);
    let done = next_event(&mut lines, "done").await;
    assert_eq!(done["status"], "interrupted");
    assert_eq!(within(child.wait()).await.expect("exit").code(), Some(130));
    let deletes = requests_to(&sim, "POST", "/queue");
    assert!(
        deletes
            .iter()
            .any(|r| r.body.as_ref().map(|b| b["delete"].clone()) == Some(json!([prompt_id]))),
        "{deletes:?}"
    );
    assert!(
        requests_to(&sim, "POST", "/interrupt").is_empty(),
        "must not interrupt someone else's prompt"
    );
    sim.shutdown().await;
}
