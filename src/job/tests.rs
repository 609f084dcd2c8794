use super::*;
use crate::comfy::messages::ServerMessage;
use std::path::Path;
use std::time::Duration;

fn workflow() -> Workflow {
    Workflow::parse(
        r#"{"1": {"class_type": "ProbeSteps", "inputs": {"steps": 3}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}"#,
        Path::new("t.json"),
    )
    .expect("valid workflow")
}

fn msg(text: &str) -> ServerMessage {
    ServerMessage::parse(text).expect("valid message")
}

#[test]
fn fallback_without_progress_state_tracks_nodes_and_steps() {
    let t0 = Instant::now();
    let mut job = Job::new(&workflow(), PromptId::from("p"));
    job.submitting(t0);
    job.submitted(PromptId::from("p"), 1.0, t0);
    assert_eq!(job.phase, Phase::Queued);
    job.apply(
        &msg(r#"{"type":"execution_start","data":{"prompt_id":"p"}}"#),
        t0,
    );
    job.apply(
        &msg(r#"{"type":"executing","data":{"node":"1","prompt_id":"p"}}"#),
        t0,
    );
    for step in 1..=3 {
        let text = format!(
            r#"{{"type":"progress","data":{{"value":{step},"max":3,"prompt_id":"p","node":"1"}}}}"#
        );
        job.apply(&msg(&text), t0 + Duration::from_millis(100 * step));
    }
    let step = job.step.as_ref().expect("step progress");
    assert_eq!((step.value, step.max), (3.0, 3.0));
    assert!(step.rate.per_second().is_some());
    job.apply(
        &msg(r#"{"type":"executing","data":{"node":"2","prompt_id":"p"}}"#),
        t0 + Duration::from_millis(400),
    );
    assert_eq!(job.nodes[0].state, NodeState::Done);
    assert_eq!(job.graph_counts(), (1, 2));
    let end = job.apply(
        &msg(r#"{"type":"executing","data":{"node":null,"prompt_id":"p"}}"#),
        t0 + Duration::from_millis(500),
    );
    assert_eq!(end, Some(Notice::Finished(Outcome::Success)));
    assert_eq!(job.graph_counts(), (2, 2));
}

#[test]
fn other_prompts_change_nothing() {
    let t0 = Instant::now();
    let mut job = Job::new(&workflow(), PromptId::from("p"));
    job.submitted(PromptId::from("p"), 1.0, t0);
    let before = format!("{job:?}");
    for text in [
        r#"{"type":"execution_start","data":{"prompt_id":"q"}}"#,
        r#"{"type":"executing","data":{"node":"1","prompt_id":"q"}}"#,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"q"}}"#,
    ] {
        assert_eq!(job.apply(&msg(text), t0), None);
    }
    assert_eq!(format!("{job:?}"), before);
}

#[test]
fn messages_before_the_answer_are_replayed_when_the_server_picks_the_id() {
    let t0 = Instant::now();
    let mut job = Job::new(&workflow(), PromptId::from("ours"));
    job.submitting(t0);
    job.apply(
        &msg(r#"{"type":"execution_start","data":{"prompt_id":"theirs"}}"#),
        t0,
    );
    let notices = job.submitted(PromptId::from("theirs"), 3.0, t0);
    assert_eq!(notices, vec![Notice::Started]);
    assert_eq!(job.phase, Phase::Running);
}

#[test]
fn bare_executing_counts_only_while_running() {
    let t0 = Instant::now();
    let mut job = Job::new(&workflow(), PromptId::from("p"));
    job.submitted(PromptId::from("p"), 1.0, t0);
    let bare = msg(r#"{"type":"executing","data":{"node":"1"}}"#);
    assert_eq!(job.apply(&bare, t0), None);
    job.apply(
        &msg(r#"{"type":"execution_start","data":{"prompt_id":"p"}}"#),
        t0,
    );
    assert_eq!(
        job.apply(&bare, t0),
        Some(Notice::NodeStarted(NodeId::from("1")))
    );
}

#[test]
fn graph_progress_does_not_go_back_on_an_interrupt() {
    let t0 = Instant::now();
    let mut job = Job::new(&workflow(), PromptId::from("p"));
    job.submitting(t0);
    job.submitted(PromptId::from("p"), 1.0, t0);
    for text in [
        r#"{"type":"execution_start","data":{"prompt_id":"p"}}"#,
        r#"{"type":"executing","data":{"node":"1","prompt_id":"p"}}"#,
        r#"{"type":"progress","data":{"value":2,"max":3,"prompt_id":"p","node":"1"}}"#,
    ] {
        job.apply(&msg(text), t0);
    }
    let before = job.graph_fraction();
    assert!((before - 1.0 / 3.0).abs() < 1e-9, "{before}");
    job.apply(
        &msg(r#"{"type":"execution_interrupted","data":{"prompt_id":"p","node_id":"1","node_type":"ProbeSteps","executed":[]}}"#),
        t0,
    );
    job.apply(
        &msg(r#"{"type":"executing","data":{"node":null,"prompt_id":"p"}}"#),
        t0,
    );
    assert_eq!(job.outcome(), Some(Outcome::Interrupted));
    assert_eq!(job.nodes[0].state, NodeState::Interrupted);
    assert!(job.graph_fraction() >= before, "{}", job.graph_fraction());
}

#[test]
fn a_preview_is_final_once_its_node_stops_running() {
    let t0 = Instant::now();
    let mut job = Job::new(&workflow(), PromptId::from("p"));
    job.submitted(PromptId::from("p"), 1.0, t0);
    for text in [
        r#"{"type":"execution_start","data":{"prompt_id":"p"}}"#,
        r#"{"type":"executing","data":{"node":"1","prompt_id":"p"}}"#,
        r#"{"type":"progress","data":{"value":1,"max":3,"prompt_id":"p","node":"1"}}"#,
    ] {
        job.apply(&msg(text), t0);
    }
    assert!(!job.preview_is_final(), "no preview yet");
    let preview = Preview {
        format: ImageFormat::Jpeg,
        meta: None,
        image: bytes::Bytes::from_static(b"\xff\xd8\xff"),
    };
    job.apply_preview(&preview, t0);
    assert_eq!(job.latest_preview_node, Some(NodeId::from("1")));
    assert!(!job.preview_is_final(), "node 1 still runs");
    job.apply(
        &msg(r#"{"type":"executing","data":{"node":"2","prompt_id":"p"}}"#),
        t0,
    );
    assert!(job.preview_is_final(), "node 1 is done");
}
