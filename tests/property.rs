//! Random bytes and random JSON fed to the parsers that read server and user input: they
//! may refuse, never panic. The fuzz targets in `fuzz/` do the same at depth.

use bytes::Bytes;
use comfy_tui::comfy::{BinaryFrame, PromptId, ServerMessage, Workflow};
use comfy_tui::job::Job;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z0-9 _.:/\\\\-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::hash_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const TYPES: [&str; 14] = [
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
    "display_component",
    "x",
];

fn job() -> Job {
    let workflow = Workflow::parse(
        r#"{"1": {"class_type": "KSampler", "inputs": {"steps": 2}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}"#,
        Path::new("p.json"),
    )
    .expect("workflow");
    Job::new(&workflow, PromptId::from("p"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_text_frames_never_panic(text in ".{0,200}") {
        let _ = ServerMessage::parse(&text);
    }

    #[test]
    fn random_messages_of_known_types_never_panic_the_job(
        kind in prop::sample::select(TYPES.to_vec()),
        data in arb_json(),
        prompt in prop::sample::select(vec!["p", "q"]),
    ) {
        let mut data = data;
        if let Value::Object(map) = &mut data {
            map.insert("prompt_id".into(), json!(prompt));
        }
        let text = json!({"type": kind, "data": data}).to_string();
        if let Ok(message) = ServerMessage::parse(&text) {
            let mut job = job();
            let _ = job.apply(&message, Instant::now());
            let fraction = job.graph_fraction();
            prop_assert!((0.0..=1.0).contains(&fraction));
        }
    }

    #[test]
    fn random_binary_frames_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), kind in 0u32..6) {
        let mut frame = kind.to_be_bytes().to_vec();
        frame.extend(bytes);
        let _ = BinaryFrame::parse(Bytes::from(frame));
    }

    #[test]
    fn random_workflows_and_overrides_never_panic(doc in arb_json(), spec in "[A-Za-z0-9_.=\" ]{0,24}") {
        if let Ok(mut workflow) = Workflow::parse(&doc.to_string(), Path::new("r.json")) {
            let _ = workflow.apply_set(&spec);
            let _ = workflow.apply_seed(|| 5);
            prop_assert_eq!(workflow.execution_order().len(), workflow.len());
        }
    }
}
