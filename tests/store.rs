//! The job store and the learned ETA, end to end: the built binary against the simulator
//! on 127.0.0.1, with `COMFY_TUI_STATE_DIR` in a temp folder.

mod common;

use comfy_tui::state::{STATE_DIR_ENV, StateDir};
use common::binary::{binary, next_event, run_command, signal, spawn_lines};
use common::sim::{start_sim, within};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// A graph whose sampler takes `steps` steps.
fn graph(steps: u64) -> Value {
    common::run::sampler_graph(steps, 64, 1)
}

fn write_workflow(dir: &Path, name: &str, workflow: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, workflow.to_string()).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

/// `comfy-tui ARGS` with the state kept in `state`.
async fn comfy(state: &Path, args: &[&str]) -> common::binary::Output {
    run_command(binary().env(STATE_DIR_ENV, state).args(args)).await
}

async fn jobs_json(state: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["jobs", "--json"];
    args.extend_from_slice(extra);
    let out = comfy(state, &args).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let value = out.json();
    value["jobs"].as_array().expect("jobs").clone()
}

fn event<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["event"] == name)
        .unwrap_or_else(|| panic!("no {name} in {lines:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_recorded_and_a_second_run_of_the_shape_knows_its_time() {
    let sim = start_sim(Duration::from_millis(20)).await;
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state");
    let wf = write_workflow(dir.path(), "w.json", &graph(6));
    let out = dir.path().join("out");
    let out = out.to_str().expect("utf-8");
    let url = sim.url();
    let run = |extra: &'static [&'static str]| {
        let mut args = vec!["run", &wf, "--server", &url, "--json", "--out", out];
        args.extend_from_slice(extra);
        let state = state.clone();
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            comfy(&state, &refs).await
        }
    };

    let first = run(&[]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let first = first.lines();
    // Never seen: the `started` line is as it always was.
    assert_eq!(event(&first, "started").get("expected_seconds"), None);
    let first_id = event(&first, "submitted")["prompt_id"].clone();
    let outputs = first.iter().filter(|l| l["event"] == "output").count();
    assert!(outputs > 0);

    let jobs = jobs_json(&state, &[]).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = &jobs[0];
    assert_eq!(job["prompt_id"], first_id);
    assert_eq!(job["status"], "success");
    assert_eq!(job["exit_code"], 0);
    assert_eq!(job["outputs"], outputs);
    assert_eq!(job["server"], format!("{}/", sim.url()));
    assert_eq!(job["client_id"], event(&first, "done")["client_id"]);
    assert_eq!(job["workflow"], wf.as_str());
    assert!(
        humantime::parse_rfc3339(job["submitted"].as_str().expect("time")).is_ok(),
        "{job}"
    );

    // Another seed is the same shape: its duration is known from the start.
    let second = run(&["--seed", "12345"]).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    let second = second.lines();
    let expected = event(&second, "started")["expected_seconds"]
        .as_f64()
        .expect("expected_seconds");
    // The sampler stepped for a while the first time: something was learned.
    assert!(expected > 0.0, "{expected}");
    let first_took: f64 = event(&first, "done")["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["seconds"].as_f64())
        .sum();
    assert!(
        (expected - first_took).abs() < 0.01,
        "{expected} vs {first_took}"
    );

    // More steps is another shape: not known.
    let third = run(&["--set", "4.steps=7"]).await;
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert_eq!(
        event(&third.lines(), "started").get("expected_seconds"),
        None
    );

    let jobs = jobs_json(&state, &[]).await;
    assert_eq!(jobs.len(), 3);
    assert_eq!(jobs[2]["prompt_id"], first_id, "newest first");
    assert_eq!(
        jobs[1]["prompt_id"],
        event(&second, "submitted")["prompt_id"]
    );
    assert_eq!(jobs_json(&state, &["-n", "1"]).await.len(), 1);

    let table = comfy(&state, &["jobs"]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(lines[0].starts_with("ID "), "{}", table.stdout);
    let short = &first_id.as_str().expect("id")[..8];
    assert!(
        lines[3].starts_with(short) && lines[3].contains("success"),
        "{}",
        table.stdout
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_up_run_is_recorded_as_detached_so_it_can_be_found_again() {
    let sim = start_sim(Duration::from_millis(50)).await;
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state");
    let wf = write_workflow(dir.path(), "w.json", &graph(400));
    let (mut child, mut lines) = spawn_lines(
        binary()
            .env(STATE_DIR_ENV, &state)
            .args(["run", &wf, "--server", &sim.url(), "--json", "--out"])
            .arg(dir.path().join("out")),
    );
    let submitted = next_event(&mut lines, "submitted").await;
    next_event(&mut lines, "progress").await;
    signal(&child, "HUP");
    let done = next_event(&mut lines, "done").await;
    assert_eq!(done["status"], "detached");
    within(child.wait()).await.expect("exit");
    let records = StateDir::at(&state).jobs().list().expect("store");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        records[0].prompt_id,
        submitted["prompt_id"].as_str().expect("id")
    );
    assert_eq!(records[0].status, "detached");
    assert_eq!(records[0].exit_code, Some(comfy_tui::exit::DETACHED));
    assert!(records[0].may_be_running());
    // A run that did not succeed teaches nothing about durations.
    let learned = StateDir::at(&state).durations().load().expect("durations");
    assert_eq!(learned, Default::default());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_at_the_same_time_are_all_recorded() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state");
    let wf = write_workflow(dir.path(), "w.json", &graph(2));
    let runs: Vec<_> = (0..3)
        .map(|i| {
            let (state, wf, url) = (state.clone(), wf.clone(), sim.url());
            let out = dir.path().join(format!("out{i}"));
            tokio::spawn(async move {
                let out = out.to_str().expect("utf-8").to_owned();
                let seed = i.to_string();
                comfy(
                    &state,
                    &[
                        "run", &wf, "--server", &url, "--json", "--out", &out, "--seed", &seed,
                    ],
                )
                .await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for run in runs {
        let out = within(run).await.expect("join");
        assert_eq!(out.code, 0, "{}", out.stderr);
        ids.push(event(&out.lines(), "submitted")["prompt_id"].clone());
    }
    let jobs = jobs_json(&state, &[]).await;
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    for id in &ids {
        let job = jobs
            .iter()
            .find(|j| j["prompt_id"] == *id)
            .expect("recorded");
        assert_eq!(job["status"], "success");
    }
    sim.shutdown().await;
}
