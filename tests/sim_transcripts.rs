//! The simulator's message sequences compared with recordings of a real ComfyUI 0.3.64:
//! message types, order, key names and value types (ids, times and values ignored).

mod sim_support;

use serde_json::{Value, json};
use sim_support::*;

/// Run a transcript's request against a fresh simulator and return the frames seen.
async fn replay(name: &str, feature_flags: bool, runs: usize) -> (Vec<Frame>, Vec<Value>, Value) {
    let events = transcript(name);
    let request = transcript_request(&events);
    let sim = start(fast()).await;
    let cid = "transcript-client";
    let mut ws = Ws::connect(&sim, Some(cid)).await;
    let mut frames = vec![ws.next().await.unwrap()];
    if feature_flags {
        ws.send_feature_flags().await;
        frames.extend(ws.until_kind("feature_flags").await);
    }
    let mut body = request.clone();
    body["client_id"] = json!(cid);
    let mut history = Value::Null;
    for run in 0..runs {
        let (status, resp) = post_json(&sim, "/prompt", &body).await;
        assert_eq!(status, 200);
        assert_eq!(
            shape(&resp),
            shape(&serde_json::from_str(&fixture("prompt_post_200.json")).unwrap())
        );
        let id = resp["prompt_id"].as_str().unwrap().to_owned();
        let done = ws.until_done(&id).await;
        if run + 1 == runs {
            frames.extend(done);
            history = get_json(&sim, &format!("/history/{id}")).await.1[&id].clone();
        } else {
            // Earlier runs only warm the cache; the next status starts the compared part.
            frames = vec![frames[0].clone()];
        }
    }
    sim.shutdown().await;
    (frames, events, history)
}

fn assert_same_sequence(frames: &[Frame], events: &[Value]) {
    let expected = transcript_tokens(events, "main");
    let got = frame_tokens(frames);
    for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
        assert_eq!(e, g, "frame {i} differs");
    }
    assert_eq!(expected.len(), got.len(), "frame count; got {got:#?}");
    assert_eq!(
        per_node(transcript_texts(events, "main")),
        per_node(frame_texts(frames)),
        "per-node message order"
    );
    assert_eq!(
        executed_outputs(transcript_texts(events, "main")),
        executed_outputs(frame_texts(frames)),
        "executed outputs"
    );
}

/// Key structure of a history entry (`prompt` item and message data included).
fn history_shape(entry: &Value) -> String {
    let mut e = entry.clone();
    // Output order follows execution order, which differs between servers.
    if let Some(o) = e["outputs"].as_object() {
        let mut shapes: Vec<String> = o.values().map(shape).collect();
        shapes.sort();
        e["outputs"] = json!(shapes);
        e["meta"] = json!(e["meta"].as_object().map(|m| m.len()));
    }
    shape(&e)
}

#[tokio::test]
async fn probe_steps_with_feature_flags_matches_transcript() {
    let (frames, events, history) = replay("run_probe_steps_ff.jsonl", true, 1).await;
    assert_same_sequence(&frames, &events);
    let recorded: Value = serde_json::from_str(&fixture("history_probe_steps.json")).unwrap();
    let recorded = recorded.as_object().unwrap().values().next().unwrap();
    assert_eq!(history_shape(&history), history_shape(recorded));
}

#[tokio::test]
async fn probe_failure_matches_transcript() {
    let (frames, events, history) = replay("run_probe_fail.jsonl", false, 1).await;
    assert_same_sequence(&frames, &events);
    let err = frames
        .iter()
        .find(|f| f.kind() == "execution_error")
        .unwrap()
        .data();
    assert_eq!(
        err["exception_message"],
        "ProbeSteps: deliberate failure at step 3 of 10 (fail_at_step=3)\n"
    );
    assert_eq!(err["exception_type"], "RuntimeError");
    let recorded: Value = serde_json::from_str(&fixture("history_probe_fail.json")).unwrap();
    let recorded = recorded.as_object().unwrap().values().next().unwrap();
    assert_eq!(history_shape(&history), history_shape(recorded));
    assert_eq!(history["status"]["status_str"], "error");
    assert_eq!(history["outputs"], json!({}));
}

#[tokio::test]
async fn cached_rerun_matches_transcript() {
    let (frames, events, _) = replay("run_probe_steps_cached.jsonl", false, 2).await;
    assert_same_sequence(&frames, &events);
    let cached = frames
        .iter()
        .find(|f| f.kind() == "execution_cached")
        .unwrap();
    assert_eq!(cached.data()["nodes"], json!(["1", "2", "3", "4"]));
}

#[tokio::test]
async fn probe_steps_without_feature_flags_matches_transcript() {
    let (frames, events, _) = replay("run_probe_steps.jsonl", false, 1).await;
    assert_same_sequence(&frames, &events);
}

#[tokio::test]
async fn websocket_image_save_matches_transcript() {
    let (frames, events, history) = replay("run_ws_image_save_ff.jsonl", true, 1).await;
    assert_same_sequence(&frames, &events);
    assert_eq!(history["outputs"], json!({}));
}

#[tokio::test]
async fn small_previews_and_quiet_sleep_match_transcript() {
    let (frames, events, _) = replay("run_probe_small_preview_ff.jsonl", true, 1).await;
    assert_same_sequence(&frames, &events);
}

#[tokio::test]
async fn batch_images_match_transcript() {
    let (frames, events, history) = replay("run_batch_images.jsonl", false, 1).await;
    assert_same_sequence(&frames, &events);
    assert_eq!(
        history["outputs"]["2"]["images"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(
        history["outputs"]["4"]["images"].as_array().map(Vec::len),
        Some(3)
    );
}

#[tokio::test]
async fn fully_cached_fast_run_matches_transcript() {
    let (frames, events, _) = replay("run_fast_empty_cached.jsonl", false, 2).await;
    assert_same_sequence(&frames, &events);
}
