//! Batches against the simulator: `--count`, a `--sweep` product, `--seed increment`,
//! `--name`, the batch's JSON lines, the worst status winning, and Ctrl-C leaving nothing
//! of ours in the queue.

mod common;

use common::binary::{binary, rest, signal, spawn_lines};
use common::run::{run_json, txt2img};
use common::sim::{requests_to, start_sim, within};
use serde_json::{Value, json};
use std::time::Duration;

/// The bodies of every `POST /prompt`, in arrival order.
fn submissions(sim: &comfy_tui::sim::SimHandle) -> Vec<Value> {
    requests_to(sim, "POST", "/prompt")
        .into_iter()
        .filter_map(|r| r.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_runs_n_jobs_in_order_and_every_line_names_its_job() {
    let sim = start_sim(Duration::ZERO).await;
    let run = run_json(&sim.url(), &txt2img(2), |a| a.count = 3).await;
    assert_eq!(run.code, 0, "{}", run.text);
    let lines = run.lines();
    let (last, body) = lines.split_last().expect("lines");
    for line in body {
        assert!(line["job"].is_u64(), "no job: {line}");
        assert!(line["prompt_id"].is_string(), "no prompt id: {line}");
    }
    let submitted: Vec<_> = run.events("submitted");
    assert_eq!(submitted.len(), 3);
    let posted: Vec<_> = submissions(&sim)
        .iter()
        .map(|b| b["prompt_id"].clone())
        .collect();
    let order: Vec<_> = submitted.iter().map(|l| l["prompt_id"].clone()).collect();
    assert_eq!(posted, order, "submitted in job order");
    assert_eq!(
        submitted
            .iter()
            .map(|l| l["job"].clone())
            .collect::<Vec<_>>(),
        [json!(0), json!(1), json!(2)]
    );
    let done_jobs = run.events("job_done");
    assert_eq!(done_jobs.len(), 3);
    for done in &done_jobs {
        assert_eq!(done["status"], "success");
        assert_eq!(done["saved"].as_array().map(Vec::len), Some(4), "{done}");
    }
    assert_eq!(last["event"], "done");
    assert_eq!(last["status"], "success");
    assert_eq!(last["exit_code"], 0);
    assert_eq!(last["jobs"].as_array().map(Vec::len), Some(3));
    assert_eq!(last["saved"].as_array().map(Vec::len), Some(12));
    // One socket for the whole batch.
    assert_eq!(requests_to(&sim, "GET", "/ws").len(), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_of_two_inputs_runs_their_product_with_increasing_seeds() {
    let sim = start_sim(Duration::ZERO).await;
    let run = run_json(&sim.url(), &txt2img(2), |a| {
        a.sweeps = vec!["Sampler.cfg=4,8".into(), "3.steps=1..3:2".into()];
        a.seed = Some("increment:100".into());
    })
    .await;
    assert_eq!(run.code, 0, "{}", run.text);
    let got: Vec<(Value, Value, Value)> = submissions(&sim)
        .iter()
        .map(|b| {
            let inputs = &b["prompt"]["3"]["inputs"];
            (
                inputs["cfg"].clone(),
                inputs["steps"].clone(),
                inputs["seed"].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (json!(4), json!(1), json!(100)),
            (json!(4), json!(3), json!(101)),
            (json!(8), json!(1), json!(102)),
            (json!(8), json!(3), json!(103)),
        ]
    );
    let done = run.events("job_done");
    assert_eq!(
        done[3]["swept"],
        json!({"Sampler.cfg": "8", "3.steps": "3"})
    );
    assert_eq!(done[3]["seeds"][0]["value"], 103);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn increment_counts_up_from_the_workflows_own_seed() {
    let sim = start_sim(Duration::ZERO).await;
    let run = run_json(&sim.url(), &txt2img(1), |a| {
        a.count = 3;
        a.seed = Some("increment".into());
    })
    .await;
    assert_eq!(run.code, 0, "{}", run.text);
    let seeds: Vec<_> = submissions(&sim)
        .iter()
        .map(|b| b["prompt"]["3"]["inputs"]["seed"].clone())
        .collect();
    // txt2img's own seed is 1.
    assert_eq!(seeds, [json!(1), json!(2), json!(3)]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_patterns_name_the_saved_files() {
    let sim = start_sim(Duration::ZERO).await;
    let run = run_json(&sim.url(), &txt2img(1), |a| {
        a.count = 2;
        a.seed = Some("increment:7".into());
        a.name = Some("{job}_{seed}_{filename}".into());
    })
    .await;
    assert_eq!(run.code, 0, "{}", run.text);
    let mut names: Vec<String> = std::fs::read_dir(&run.out)
        .expect("out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(
        names[..4].iter().all(|n| n.starts_with("0_7_")),
        "{names:?}"
    );
    assert!(
        names[4..].iter().all(|n| n.starts_with("1_8_")),
        "{names:?}"
    );
    // A pattern that would drop the type is refused before anything is sent.
    let sim2 = start_sim(Duration::ZERO).await;
    let bad = run_json(&sim2.url(), &txt2img(1), |a| a.name = Some("{job}".into())).await;
    assert_eq!(bad.code, 2, "{}", bad.text);
    assert!(submissions(&sim2).is_empty());
    sim.shutdown().await;
    sim2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worst_status_of_the_batch_wins() {
    let sim = start_sim(Duration::ZERO).await;
    let graph = json!({
        "1": {"class_type": "ProbeSteps", "inputs": {"steps": 3, "step_seconds": 0.0, "seed": 1, "fail_at_step": 0,
              "width": 64, "height": 64, "send_previews": false}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "p"}}
    });
    let run = run_json(&sim.url(), &graph, |a| {
        a.sweeps = vec!["1.fail_at_step=0,2".into()];
    })
    .await;
    assert_eq!(run.code, comfy_tui::exit::EXECUTION_ERROR, "{}", run.text);
    let done = run.done();
    assert_eq!(done["status"], "error");
    let statuses: Vec<_> = done["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("success"), json!("error")]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_deletes_the_pending_jobs_first_and_leaves_nothing_of_ours_queued() {
    let sim = start_sim(Duration::from_millis(100)).await;
    let dir = tempfile::tempdir().expect("dir");
    let workflow = dir.path().join("w.json");
    std::fs::write(&workflow, txt2img(40).to_string()).expect("workflow");
    let (mut child, mut lines) = spawn_lines(binary().args([
        "run",
        workflow.to_str().expect("path"),
        "--server",
        &sim.url(),
        "--out",
        dir.path().join("out").to_str().expect("path"),
        "--json",
        "--count",
        "4",
    ]));
    // Every job is on the server, and the first runs, before the cancel.
    let mut seen = Vec::new();
    loop {
        let text = within(lines.next_line())
            .await
            .expect("read")
            .expect("a line before the exit");
        let line = common::schema::parse(&text);
        let started = line["event"] == "started";
        seen.push(line);
        let submitted = seen.iter().filter(|l| l["event"] == "submitted").count();
        if submitted == 4 && (started || seen.iter().any(|l| l["event"] == "started")) {
            break;
        }
    }
    let started = seen
        .iter()
        .find(|l| l["event"] == "started")
        .cloned()
        .expect("started");
    assert_eq!(started["job"], 0);
    signal(&child, "INT");
    let rest = within(rest(&mut lines)).await;
    let status = within(child.wait()).await.expect("exit");
    assert_eq!(status.code(), Some(130), "{rest:?}");
    let done = rest.last().expect("done");
    assert_eq!(done["event"], "done");
    assert_eq!(done["status"], "interrupted");
    // Deletes went out before the interrupt.
    let requests = sim.requests();
    let delete_at = requests
        .iter()
        .position(|r| r.path.ends_with("/queue") && r.method == "POST")
        .expect("a delete");
    let interrupt_at = requests
        .iter()
        .position(|r| r.path.ends_with("/interrupt"))
        .expect("an interrupt");
    assert!(delete_at < interrupt_at, "delete first");
    // Nothing of ours is left on the server.
    let ours: Vec<String> = rest
        .iter()
        .chain(&seen)
        .filter_map(|l| l["prompt_id"].as_str().map(str::to_owned))
        .collect();
    let client = comfy_tui::comfy::ComfyClient::new(
        comfy_tui::comfy::ServerUrl::parse(&sim.url()).expect("url"),
        reqwest::header::HeaderMap::new(),
    )
    .expect("client");
    let queue = within(client.queue_listing()).await.expect("queue");
    let left: Vec<_> = queue
        .running
        .iter()
        .chain(&queue.pending)
        .filter(|r| ours.contains(&r.prompt_id.to_string()))
        .collect();
    assert!(left.is_empty(), "left on the server: {left:?}");
    sim.shutdown().await;
}
