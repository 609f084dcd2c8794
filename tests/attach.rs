//! `comfy-tui attach` against the simulator: a detached run is followed to its end with
//! all its outputs, a finished prompt has its outputs saved from the history, and an
//! unknown id is a usage error.

mod common;

use common::binary::{binary, next_event, rest, run_binary, signal, spawn_lines};
use common::sim::{start_sim, within};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn workflow(steps: u64) -> Value {
    common::run::sampler_graph(steps, 64, 2)
}

fn saved_pngs(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_follows_a_detached_run_to_its_end_with_all_its_outputs() {
    let sim = start_sim(Duration::from_millis(20)).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("w.json");
    std::fs::write(&file, workflow(120).to_string()).expect("write");
    let (mut child, mut lines) = spawn_lines(binary().args([
        "run",
        file.to_str().expect("utf-8"),
        "--server",
        &sim.url(),
        "--json",
        "--no-download",
    ]));
    let submitted = next_event(&mut lines, "submitted").await;
    let id = submitted["prompt_id"].as_str().expect("id").to_owned();
    next_event(&mut lines, "progress").await;
    signal(&child, "HUP");
    let done = next_event(&mut lines, "done").await;
    assert_eq!(done["status"], "detached");
    assert!(
        done["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("comfy-tui attach {id}")))
    );
    within(child.wait()).await.expect("exit");

    let out = dir.path().join("attached");
    let (mut child, mut lines) = spawn_lines(binary().args([
        "attach",
        &id,
        "--server",
        &sim.url(),
        "--json",
        "--out",
        out.to_str().expect("utf-8"),
    ]));
    let all = rest(&mut lines).await;
    let code = within(child.wait()).await.expect("exit").code();
    assert_eq!(all[0]["event"], "attached", "{all:?}");
    assert_eq!(all[0]["prompt_id"], json!(id));
    let done = all.last().expect("done");
    assert_eq!(done["status"], "success", "{done}");
    assert_eq!(code, Some(0));
    assert_eq!(saved_pngs(&out), 2, "{all:?}");
    assert!(
        all.iter().any(|l| l["event"] == "progress"),
        "it was followed live"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_to_a_finished_prompt_saves_its_outputs_from_the_history() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("w.json");
    std::fs::write(&file, workflow(2).to_string()).expect("write");
    let run = run_binary(&[
        "run",
        file.to_str().expect("utf-8"),
        "--server",
        &sim.url(),
        "--json",
        "--no-download",
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = run.lines()[0]["prompt_id"].as_str().expect("id").to_owned();
    let out = dir.path().join("later");
    let attach = run_binary(&[
        "attach",
        &id,
        "--server",
        &sim.url(),
        "--json",
        "--out",
        out.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(attach.code, 0, "{}\n{}", attach.stdout, attach.stderr);
    let lines = attach.lines();
    assert_eq!(lines[0]["event"], "attached");
    assert_eq!(lines.last().expect("done")["status"], "success");
    assert_eq!(saved_pngs(&out), 2);

    let unknown = run_binary(&[
        "attach",
        "00000000-0000-4000-8000-000000000000",
        "--server",
        &sim.url(),
        "--json",
    ])
    .await;
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown
            .stderr
            .contains("neither in the queue nor in the history"),
        "{}",
        unknown.stderr
    );
    sim.shutdown().await;
}
