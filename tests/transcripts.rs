//! The protocol layer and the run state machine against recordings of a real server.

mod common;

use bytes::Bytes;
use comfy_tui::comfy::http::{HistoryEntry, QueueSnapshot, Rejection};
use comfy_tui::comfy::preview::{BinaryFrame, ImageFormat};
use comfy_tui::comfy::{NodeId, PromptId, ServerMessage, Workflow};
use comfy_tui::job::{Job, NodeState, Notice, Outcome, Phase};
use common::transcript::{all_transcripts, events, preview_from_summary, read_fixture};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn every_recorded_text_message_parses_into_the_typed_model() {
    let mut seen = std::collections::BTreeSet::new();
    for name in all_transcripts() {
        for event in events(&name) {
            if event["ev"] == "ws_recv" && event["frame"] == "text" {
                let text = event["msg"].to_string();
                let message = ServerMessage::parse(&text)
                    .unwrap_or_else(|e| panic!("{name} seq {}: {e}", event["seq"]));
                assert!(
                    !matches!(message, ServerMessage::Other { .. }),
                    "{name}: recorded type {} fell through to Other",
                    message.kind()
                );
                seen.insert(message.kind().to_owned());
            }
        }
    }
    for kind in [
        "status",
        "feature_flags",
        "execution_start",
        "execution_cached",
        "executing",
        "progress",
        "progress_state",
        "executed",
        "execution_success",
        "execution_error",
        "execution_interrupted",
        "logs",
    ] {
        assert!(seen.contains(kind), "no transcript exercised {kind}");
    }
}

#[test]
fn recorded_http_bodies_parse() {
    let rejection = |file: &str| {
        let body: Value = serde_json::from_str(&read_fixture(file)).expect("json");
        Rejection::from_body(&body)
    };
    let r = rejection("prompt_post_400_node_errors.json");
    assert_eq!(r.kind, "prompt_outputs_failed_validation");
    assert_eq!(r.node_errors.len(), 1);
    assert_eq!(r.node_errors[0].class_type, "ProbeSteps");
    let inputs: Vec<_> = r.node_errors[0]
        .errors
        .iter()
        .map(|e| e.input_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(inputs, ["seed", "steps"]);
    assert_eq!(
        rejection("prompt_post_400_unknown_class.json").kind,
        "invalid_prompt"
    );
    assert_eq!(
        rejection("prompt_post_400_no_outputs.json").kind,
        "prompt_no_outputs"
    );
    assert_eq!(
        rejection("prompt_post_400_no_prompt.json").kind,
        "no_prompt"
    );

    let queue: Value =
        serde_json::from_str(&read_fixture("queue_running_and_pending.json")).expect("json");
    let queue = QueueSnapshot::from_value(&queue);
    assert_eq!(queue.running.len(), 1);
    assert_eq!(queue.pending.len(), 1);

    let history = |file: &str| -> HistoryEntry {
        let body: Value = serde_json::from_str(&read_fixture(file)).expect("json");
        let (_, entry) = body
            .as_object()
            .and_then(|o| o.iter().next())
            .expect("one entry");
        HistoryEntry::from_value(entry)
    };
    let batch = history("history_batch_images.json");
    assert_eq!(batch.files().count(), 7);
    assert!(batch.completed);
    let fail = history("history_probe_fail.json");
    assert_eq!((fail.status_str.as_str(), fail.completed), ("error", false));
    let error = fail.error.as_ref().expect("the recorded execution_error");
    assert_eq!(error.exception_type, "RuntimeError");
    assert!(error.exception_message.contains("deliberate failure"));
    let interrupted = history("history_interrupted_partial.json");
    assert_eq!(
        interrupted.last_message.as_deref(),
        Some("execution_interrupted")
    );
    assert!(interrupted.files().count() > 0, "partial outputs are kept");

    // Every recorded HTTP JSON body is at least valid JSON for the lenient reader.
    for name in all_transcripts() {
        for event in events(&name) {
            if event["ev"] == "http"
                && let Some(body) = event.get("json")
            {
                let text = body.to_string();
                comfy_tui::comfy::lenient::from_str::<Value>(&text).expect("lenient json");
            }
        }
    }
}

#[test]
fn recorded_binary_frames_parse() {
    let frame = |name: &str| {
        let bytes = std::fs::read(common::transcript::fixture(name)).expect("frame file");
        BinaryFrame::parse(Bytes::from(bytes)).expect("valid frame")
    };
    let BinaryFrame::Preview(p1) = frame("preview_frame_event1_jpeg.bin") else {
        panic!("type 1 is a preview")
    };
    assert_eq!(p1.format, ImageFormat::Jpeg);
    assert!(p1.meta.is_none());
    assert_eq!(p1.image.len(), 5049 - 8);
    let BinaryFrame::Preview(p4) = frame("preview_frame_event4_metadata_jpeg.bin") else {
        panic!("type 4 is a preview")
    };
    assert_eq!(p4.format, ImageFormat::Jpeg);
    let meta = p4.meta.expect("metadata");
    assert!(meta.prompt_id.is_some());
    assert_eq!(meta.image_type.as_deref(), Some("image/jpeg"));
    assert_eq!(p4.image.len(), 5215 - 8 - 0xa6);
    assert_eq!(
        frame("text_frame_event3.bin"),
        BinaryFrame::Text {
            node_id: NodeId::from("1"),
            text: "step 1/20".into()
        }
    );
}

/// What feeding one connection of a transcript into a job produced.
struct Replay {
    job: Job,
    notices: Vec<Notice>,
    /// The smoothed step rate seen last while a node was stepping.
    last_rate: Option<f64>,
}

/// Replays the transcript's `conn` connection into a job for the prompt it submitted
/// (or for `prompt` when given: an observer's own, unrelated prompt).
fn replay(name: &str, conn: &str, prompt: Option<&str>) -> Replay {
    let events = events(name);
    let post = events
        .iter()
        .find(|e| e["ev"] == "http" && e["method"] == "POST" && e["path"] == "/prompt")
        .expect("transcript submits a prompt");
    let graph = post["request_json"]["prompt"].to_string();
    let workflow = Workflow::parse(&graph, Path::new(name)).expect("recorded workflow");
    let prompt_id = prompt
        .map(PromptId::from)
        .unwrap_or_else(|| PromptId::from(post["json"]["prompt_id"].as_str().expect("id")));
    let t0 = Instant::now();
    let at = |e: &Value| t0 + Duration::from_secs_f64(e["t"].as_f64().unwrap_or(0.0));
    let mut job = Job::new(&workflow, prompt_id.clone());
    job.submitting(t0);
    let mut notices = Vec::new();
    let mut last_rate = None;
    for event in &events {
        if event["ev"] == "http" && event["path"] == "/prompt" && event["method"] == "POST" {
            notices.extend(job.submitted(prompt_id.clone(), 1.0, at(event)));
        }
        if event["ev"] != "ws_recv" || event["conn"] != conn {
            continue;
        }
        let notice = if event["frame"] == "text" {
            let message = ServerMessage::parse(&event["msg"].to_string()).expect("parses");
            job.apply(&message, at(event))
        } else {
            match preview_from_summary(event) {
                Some(preview) => job.apply_preview(&preview, at(event)),
                None => None,
            }
        };
        notices.extend(notice);
        if let Some(rate) = job.step.as_ref().and_then(|s| s.rate.per_second()) {
            last_rate = Some(rate);
        }
    }
    Replay {
        job,
        notices,
        last_rate,
    }
}

fn count<F: Fn(&Notice) -> bool>(notices: &[Notice], f: F) -> usize {
    notices.iter().filter(|n| f(n)).count()
}

#[test]
fn probe_steps_runs_to_success_with_steps_previews_and_three_outputs() {
    for name in ["run_probe_steps.jsonl", "run_probe_steps_ff.jsonl"] {
        let Replay {
            job,
            notices,
            last_rate,
        } = replay(name, "main", None);
        assert_eq!(job.outcome(), Some(Outcome::Success), "{name}");
        assert!(
            job.nodes.iter().all(|n| n.state == NodeState::Done),
            "{name}: {:?}",
            job.nodes.iter().map(|n| n.state).collect::<Vec<_>>()
        );
        let steps = count(
            &notices,
            |n| matches!(n, Notice::Progress { node, .. } if node.as_str() == "1"),
        );
        assert_eq!(steps, 20, "{name}");
        let sampler = job.node(&NodeId::from("1")).expect("node 1");
        assert_eq!((sampler.value, sampler.max), (20.0, 20.0));
        // 20 steps of 0.1 s were recorded: about 10 it/s.
        assert!(
            last_rate.is_some_and(|r| r > 5.0 && r < 20.0),
            "{name}: {last_rate:?}"
        );
        assert_eq!(job.previews, 20, "{name}");
        assert_eq!(
            job.outputs.len(),
            3,
            "{name}: SaveImage, PreviewImage, ProbeText"
        );
        assert_eq!(job.files().count(), 2, "{name}");
        assert!(
            job.outputs.iter().any(|(_, o)| !o.texts.is_empty()),
            "{name}: text output"
        );
        assert_eq!(job.graph_counts(), (4, 4));
        assert!(job.durations().count() == 4);
    }
}

#[test]
fn cached_runs_mark_cached_nodes_and_keep_replayed_outputs() {
    let Replay { job, notices, .. } = replay("run_probe_steps_cached.jsonl", "main", None);
    assert_eq!(job.outcome(), Some(Outcome::Success));
    assert!(job.nodes.iter().all(|n| n.state == NodeState::Cached));
    assert_eq!(job.graph_counts(), (4, 4));
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, Notice::Cached(ids) if ids.len() == 4))
    );
    assert_eq!(job.outputs.len(), 3, "replayed executed outputs");

    let Replay { job, .. } = replay("run_fast_empty_cached.jsonl", "main", None);
    assert_eq!(job.outcome(), Some(Outcome::Success));
    assert!(job.nodes.iter().all(|n| n.state == NodeState::Cached));
    assert_eq!(job.files().count(), 1);
}

#[test]
fn a_failing_node_ends_the_run_in_error_with_its_message() {
    let Replay { job, notices, .. } = replay("run_probe_fail.jsonl", "main", None);
    assert_eq!(job.outcome(), Some(Outcome::Error));
    let error = job.error.as_ref().expect("error kept");
    assert_eq!(error.node_id, Some(NodeId::from("1")));
    assert_eq!(error.exception_type, "RuntimeError");
    assert!(error.message.contains("deliberate failure at step 3"));
    assert!(!error.traceback.is_empty());
    assert_eq!(
        job.node(&NodeId::from("1")).map(|n| n.state),
        Some(NodeState::Failed)
    );
    assert_eq!(
        job.node(&NodeId::from("2")).map(|n| n.state),
        Some(NodeState::Pending)
    );
    assert_eq!(count(&notices, |n| matches!(n, Notice::Failed(_))), 1);
}

#[test]
fn interrupts_end_interrupted_and_keep_partial_outputs() {
    for name in [
        "interrupt_targeted.jsonl",
        "interrupt_global.jsonl",
        "interrupt_wrong_prompt_id.jsonl",
    ] {
        let Replay { job, .. } = replay(name, "main", None);
        assert_eq!(job.outcome(), Some(Outcome::Interrupted), "{name}");
        assert_eq!(job.interrupted_node, Some(NodeId::from("1")), "{name}");
        assert_eq!(
            job.node(&NodeId::from("1")).map(|n| n.state),
            Some(NodeState::Interrupted)
        );
    }
    let Replay { job, .. } = replay("interrupt_partial_outputs.jsonl", "main", None);
    assert_eq!(job.outcome(), Some(Outcome::Interrupted));
    assert_eq!(job.interrupted_node, Some(NodeId::from("3")));
    assert_eq!(job.files().count(), 1, "node 2 saved before the interrupt");
    assert_eq!(
        job.node(&NodeId::from("2")).map(|n| n.state),
        Some(NodeState::Done)
    );
}

#[test]
fn websocket_images_are_outputs_not_previews() {
    for name in ["run_ws_image_save.jsonl", "run_ws_image_save_ff.jsonl"] {
        let Replay { job, notices, .. } = replay(name, "main", None);
        assert_eq!(job.outcome(), Some(Outcome::Success), "{name}");
        let images = count(&notices, |n| matches!(n, Notice::Image { .. }));
        assert_eq!(images, 2, "{name}");
        assert_eq!(job.previews, 0, "{name}");
    }
}

#[test]
fn batch_images_announce_seven_files() {
    let Replay { job, .. } = replay("run_batch_images.jsonl", "main", None);
    assert_eq!(job.outcome(), Some(Outcome::Success));
    assert_eq!(job.files().count(), 7);
}

#[test]
fn another_clients_run_changes_nothing_of_ours() {
    let ours = "00000000-0000-4000-8000-000000000000";
    for (name, conn) in [
        ("observer_other_client.jsonl", "observer"),
        ("observer_no_client_id.jsonl", "legacy"),
        ("observer_no_client_id.jsonl", "ff"),
    ] {
        let Replay { job, notices, .. } = replay(name, conn, Some(ours));
        assert_eq!(job.phase, Phase::Queued, "{name}/{conn}");
        assert!(notices.is_empty(), "{name}/{conn}: {notices:?}");
        assert!(job.nodes.iter().all(|n| n.state == NodeState::Pending));
        assert_eq!(
            job.previews, 0,
            "{name}/{conn}: broadcast previews are not ours"
        );
        assert!(job.step.is_none());
    }
}

#[test]
fn the_submitter_of_an_observed_run_sees_it_complete() {
    let Replay { job, .. } = replay("observer_other_client.jsonl", "submitter", None);
    assert_eq!(job.outcome(), Some(Outcome::Success));
}

#[test]
fn a_reconnect_midrun_continues_on_the_bare_executing() {
    let events = events("ws_reconnect_midrun.jsonl");
    let post = events
        .iter()
        .find(|e| e["ev"] == "http" && e["path"] == "/prompt")
        .expect("post");
    let workflow =
        Workflow::parse(&post["request_json"]["prompt"].to_string(), Path::new("r")).expect("wf");
    let id = PromptId::from(post["json"]["prompt_id"].as_str().expect("id"));
    let t0 = Instant::now();
    let mut job = Job::new(&workflow, id.clone());
    job.submitted(id, 1.0, t0);
    for event in &events {
        if event["ev"] == "ws_recv" && event["frame"] == "text" {
            let message = ServerMessage::parse(&event["msg"].to_string()).expect("parses");
            let at = t0 + Duration::from_secs_f64(event["t"].as_f64().unwrap_or(0.0));
            job.apply(&message, at);
        }
    }
    assert_eq!(job.outcome(), Some(Outcome::Success));
    assert_eq!(job.node(&NodeId::from("1")).map(|n| n.value), Some(20.0));
}
