//! What the cockpit's requests do on a real (simulated) server, as the runtime carries
//! them out: saving a finished job's outputs byte for byte, re-running it, and a refusal
//! reported as such.

mod common;

use comfy_tui::app::effect::Request;
use comfy_tui::comfy::{ComfyClient, PromptId, ServerUrl};
use comfy_tui::watch::requests::carry_out;
use common::run::{run_json, txt2img};
use common::sim::{requests_to, start_sim, within};
use std::time::Duration;

fn client(url: &str) -> ComfyClient {
    ComfyClient::new(
        ServerUrl::parse(url).expect("url"),
        reqwest::header::HeaderMap::new(),
    )
    .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_writes_a_finished_jobs_outputs_as_the_server_has_them() {
    let sim = start_sim(Duration::ZERO).await;
    let run = run_json(&sim.url(), &txt2img(2), |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    let id = PromptId::from(run.done()["prompt_id"].as_str().expect("id"));
    let client = client(&sim.url());
    let history = within(client.recent_history(10)).await.expect("history");
    let item = history
        .into_iter()
        .find(|h| h.prompt_id == id)
        .expect("the run in the history");
    let out = tempfile::tempdir().expect("out");
    let answer = within(carry_out(
        &client,
        out.path(),
        Request::Save(Box::new(item.clone())),
    ))
    .await
    .expect("saved");
    let files: Vec<_> = item.entry.files().map(|(_, f)| f.clone()).collect();
    assert!(!files.is_empty());
    assert!(
        answer
            .message
            .contains(&format!("saved {} file", files.len())),
        "{}",
        answer.message
    );
    for file in &files {
        let name = comfy_tui::output::local_name(file);
        let saved = std::fs::read(out.path().join(&name)).expect("the saved file");
        let served = within(client.view(file))
            .await
            .expect("view")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(saved, served.to_vec(), "{name}");
    }

    // Re-run: the same prompt again under a new id, reported with it.
    let record = item.record.clone().expect("the prompt record");
    let answer = within(carry_out(
        &client,
        out.path(),
        Request::Rerun(Box::new(record.clone())),
    ))
    .await
    .expect("re-run");
    let new = answer.submitted.expect("a new id");
    assert_ne!(new, id);
    let posts = requests_to(&sim, "POST", "/prompt");
    let last = posts.last().and_then(|r| r.body.clone()).expect("a body");
    assert_eq!(last["prompt_id"], new.as_str());
    assert_eq!(last["prompt"], serde_json::Value::Object(record.prompt));
    assert!(last.get("front").is_none(), "a re-run queues at the back");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_the_server_refuses_comes_back_as_a_failure_saying_why() {
    let sim = start_sim(Duration::ZERO).await;
    let client = client(&sim.url());
    let mut record = comfy_tui::comfy::listing::PromptRecord::from_value(&serde_json::json!([
        1, "66666666-0000-4000-8000-000000000006",
        {"1": {"class_type": "NoSuchNode", "inputs": {}}}, {"client_id": "x"}, ["1"]
    ]))
    .expect("record");
    record.outputs_to_execute = vec!["1".into()];
    let out = tempfile::tempdir().expect("out");
    let failure = within(carry_out(
        &client,
        out.path(),
        Request::Rerun(Box::new(record)),
    ))
    .await
    .expect_err("refused");
    assert!(
        failure.contains("NoSuchNode") || failure.contains("refused"),
        "{failure}"
    );
    sim.shutdown().await;
}
