//! What the cockpit asks of a server, against the simulator: a listed prompt submitted
//! again at the front of the queue, and a held worker that keeps a long queue pending.

mod sim_support;

use std::time::Duration;

use comfy_tui::comfy::http::{ComfyClient, HttpError};
use comfy_tui::comfy::listing::{PromptRecord, QueueListing};
use comfy_tui::comfy::{PromptId, ServerUrl};
use comfy_tui::sim::{SimConfig, SimHandle};
use serde_json::{Value, json};
use sim_support::*;

fn client(sim: &SimHandle) -> ComfyClient {
    let server = ServerUrl::parse(&sim.url()).expect("url");
    ComfyClient::new(server, Default::default()).expect("client")
}

fn new_id() -> PromptId {
    PromptId::from(uuid::Uuid::new_v4().to_string().as_str())
}

/// Polls until `check` holds, within the tests' time bound.
async fn eventually<T, F, Fut>(mut probe: F, check: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    within(async {
        loop {
            let value = probe().await;
            if check(&value) {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

async fn raw_queue(sim: &SimHandle) -> Value {
    let (status, queue) = get_json(sim, "/queue").await;
    assert_eq!(status, 200);
    queue
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("a list of items")
        .iter()
        .map(|item| item[1].as_str().expect("a prompt id").to_owned())
        .collect()
}

/// The last `POST /prompt` body the simulator received (the client uses `/api/prompt`).
fn last_submission(sim: &SimHandle) -> Value {
    sim.requests()
        .into_iter()
        .rev()
        .find(|r| r.method == "POST" && r.path.trim_start_matches("/api") == "/prompt")
        .and_then(|r| r.body)
        .expect("a POST /prompt with a JSON body")
}

#[tokio::test]
async fn resubmitted_with_front_it_runs_next_with_the_same_prompt_and_extra_data() {
    // One other client's prompt runs, two wait: the cockpit's `f` on the second.
    let sim = start(SimConfig {
        other_clients: 3,
        ..fast()
    })
    .await;
    let client = client(&sim);
    let listing = eventually(
        || async { within(client.queue_listing()).await.expect("queue") },
        |q: &QueueListing| q.running.len() == 1 && q.pending.len() == 2,
    )
    .await;
    let running = listing.running[0].prompt_id.clone();
    let waiting = listing.pending[0].prompt_id.clone();
    let target: PromptRecord = listing.pending[1].clone();
    let moved = new_id();

    let submitted = within(client.resubmit(&target, &moved, true))
        .await
        .expect("queued");
    assert_eq!(submitted.prompt_id, moved);
    assert!(submitted.number < 0.0, "front gets a negative number");

    let body = last_submission(&sim);
    assert_eq!(body["front"], true);
    assert_eq!(body["prompt_id"], moved.as_str());
    assert_eq!(body["client_id"], target.extra_data["client_id"]);
    assert_eq!(body["extra_data"], Value::Object(target.extra_data.clone()));

    // On the wire: first among the pending, the prompt and extra_data as they were.
    let queue = raw_queue(&sim).await;
    assert_eq!(ids(&queue["queue_running"]), [running.as_str()]);
    let first = &queue["queue_pending"][0];
    assert_eq!(first[1], moved.as_str());
    assert_eq!(first[0].as_f64(), Some(submitted.number));
    assert_eq!(first[2], Value::Object(target.prompt.clone()));
    assert_eq!(first[3], Value::Object(target.extra_data.clone()));
    assert_eq!(first[4], json!(target.outputs_to_execute));

    // Then the old one goes, as `f` does; the listing shows the new one next to run.
    within(client.delete_from_queue(std::slice::from_ref(&target.prompt_id)))
        .await
        .expect("deleted");
    let listing = within(client.queue_listing()).await.expect("queue");
    let pending: Vec<&str> = listing
        .pending
        .iter()
        .map(|r| r.prompt_id.as_str())
        .collect();
    assert_eq!(pending, [moved.as_str(), waiting.as_str()]);
    assert_eq!(listing.pending[0].client_id(), target.client_id());

    // A later front submission goes before the earlier one; without front, to the end.
    let again = new_id();
    let later = within(client.resubmit(&listing.pending[1], &again, true))
        .await
        .expect("queued");
    assert!(later.number < submitted.number);
    let rerun = new_id();
    within(client.resubmit(&listing.pending[0], &rerun, false))
        .await
        .expect("queued");
    assert!(last_submission(&sim).get("front").is_none());
    let listing = within(client.queue_listing()).await.expect("queue");
    let pending: Vec<&str> = listing
        .pending
        .iter()
        .map(|r| r.prompt_id.as_str())
        .collect();
    assert_eq!(pending[0], again.as_str());
    assert_eq!(pending[1], moved.as_str());
    assert_eq!(pending.last(), Some(&rerun.as_str()));
    assert_eq!(raw_queue(&sim).await["queue_pending"][0][1], again.as_str());
    sim.shutdown().await;
}

#[tokio::test]
async fn resubmit_refusals_are_rejections_like_submit() {
    let sim = start(SimConfig {
        paused: true,
        ..fast()
    })
    .await;
    let client = client(&sim);
    let record = PromptRecord::from_value(&json!([
        3, "gone", {"1": {"class_type": "NoSuchNode", "inputs": {}}}, {"client_id": "me"}, ["1"]
    ]))
    .expect("a record");
    let refused = within(client.resubmit(&record, &new_id(), true)).await;
    match refused {
        Err(HttpError::Rejected(rejection)) => {
            assert_eq!(rejection.http_status, 400);
            assert_eq!(rejection.kind, "invalid_prompt");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    // A refusal that is not ComfyUI's validation keeps its status, as for `submit`.
    sim.faults().update(|f| f.max_body_bytes = Some(10));
    let record = PromptRecord::from_value(&json!([
        3, "old", {"1": {"class_type": "EmptyImage", "inputs": {}}}, {}, ["1"]
    ]))
    .expect("a record");
    match within(client.resubmit(&record, &new_id(), false)).await {
        Err(HttpError::Rejected(rejection)) => {
            assert_eq!(rejection.http_status, 413);
            assert_eq!(rejection.kind, "http_413");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(raw_queue(&sim).await["queue_pending"], json!([]));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_held_worker_keeps_fifty_pending_and_still_answers() {
    let sim = start(SimConfig {
        paused: true,
        other_clients: 50,
        ..fast()
    })
    .await;
    assert!(sim.is_paused());
    let client = client(&sim);
    // Time in which a worker that ignored the hold would have started one.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let queue = raw_queue(&sim).await;
    assert_eq!(queue["queue_running"], json!([]));
    let pending = ids(&queue["queue_pending"]);
    assert_eq!(pending.len(), 50);
    let numbers: Vec<i64> = queue["queue_pending"]
        .as_array()
        .expect("pending")
        .iter()
        .map(|item| item[0].as_i64().expect("a number"))
        .collect();
    assert_eq!(numbers, (0..50).collect::<Vec<_>>());
    assert_eq!(
        get_json(&sim, "/prompt").await.1,
        json!({"exec_info": {"queue_remaining": 50}})
    );
    assert_eq!(get_json(&sim, "/history").await.1, json!({}));

    // Deletes, /free and /interrupt answer while nothing runs.
    within(client.delete_from_queue(&[PromptId::from(pending[49].as_str())]))
        .await
        .expect("deleted");
    within(client.free(true, true)).await.expect("freed");
    within(client.interrupt(&PromptId::from(pending[0].as_str())))
        .await
        .expect("interrupt answered");
    let more = sim.queue_other_clients(2).await;
    let listing = within(client.queue_listing()).await.expect("queue");
    assert!(listing.running.is_empty());
    assert_eq!(listing.pending.len(), 51);
    assert_eq!(listing.pending[0].prompt_id.as_str(), pending[0]);
    assert_eq!(listing.pending[50].prompt_id.as_str(), more[1]);
    assert!(!sim.models_loaded(), "nothing ran, nothing loaded");

    // Released, the first in queue order runs; held again, it goes on alone.
    sim.resume();
    let listing = eventually(
        || async { within(client.queue_listing()).await.expect("queue") },
        |q: &QueueListing| !q.running.is_empty(),
    )
    .await;
    assert_eq!(listing.running[0].prompt_id.as_str(), pending[0]);
    sim.pause();
    within(client.interrupt(&listing.running[0].prompt_id))
        .await
        .expect("interrupted");
    eventually(
        || async { within(client.queue_listing()).await.expect("queue") },
        |q: &QueueListing| q.running.is_empty(),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let listing = within(client.queue_listing()).await.expect("queue");
    assert!(
        listing.running.is_empty(),
        "held again: the next did not start"
    );
    assert_eq!(listing.pending.len(), 50);
    assert_eq!(listing.pending[0].prompt_id.as_str(), pending[1]);
    sim.shutdown().await;
}

#[tokio::test]
async fn released_prompts_run_in_queue_order() {
    let sim = start(SimConfig {
        paused: true,
        ..fast()
    })
    .await;
    let theirs = sim.queue_other_clients_with_steps(48, 2).await;
    let mut fronts = Vec::new();
    for color in 0..2 {
        let (status, answer) = post_json(
            &sim,
            "/prompt",
            &json!({"prompt": empty_image_prompt("front", color), "front": true, "client_id": "me"}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        fronts.push(answer["prompt_id"].as_str().expect("an id").to_owned());
    }
    let queue = raw_queue(&sim).await;
    assert_eq!(queue["queue_running"], json!([]));
    assert_eq!(queue["queue_pending"].as_array().map(Vec::len), Some(50));
    assert_eq!(
        queue["queue_pending"][0][1], fronts[1],
        "the latest front submission is listed first"
    );

    sim.resume();
    assert!(!sim.is_paused());
    let history = eventually(
        || async { get_json(&sim, "/history").await.1 },
        |h: &Value| h.as_object().is_some_and(|h| h.len() == 50),
    )
    .await;
    // The history keeps the order prompts finished in.
    let finished: Vec<&str> = history
        .as_object()
        .expect("history")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![fronts[1].as_str(), fronts[0].as_str()];
    expected.extend(theirs.iter().map(String::as_str));
    assert_eq!(finished, expected);
    assert!(
        history
            .as_object()
            .expect("history")
            .values()
            .all(|entry| entry["status"]["status_str"] == "success")
    );
    assert_eq!(raw_queue(&sim).await["queue_pending"], json!([]));
    sim.shutdown().await;
}
