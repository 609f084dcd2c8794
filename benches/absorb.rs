//! Message absorption: parsing one WebSocket text frame and applying it to the run's
//! state machine, for the messages a busy run sends most.

use comfy_tui::comfy::{PromptId, ServerMessage, Workflow};
use comfy_tui::job::Job;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

const PROMPT: &str = "6c1b2f0e-8d3a-4c5e-9f70-1a2b3c4d5e6f";
const NODES: usize = 50;

/// A chain of 50 nodes, like a large real graph.
fn workflow() -> Workflow {
    let mut graph = Map::new();
    for i in 1..=NODES {
        let inputs = if i == 1 {
            json!({"steps": 1000})
        } else {
            json!({"image": [(i - 1).to_string(), 0], "steps": 1000})
        };
        graph.insert(
            i.to_string(),
            json!({"class_type": "KSampler", "inputs": inputs}),
        );
    }
    Workflow::parse(&Value::Object(graph).to_string(), Path::new("bench.json")).expect("workflow")
}

fn progress(step: usize) -> String {
    json!({"type": "progress", "data": {"value": step, "max": 100000, "prompt_id": PROMPT, "node": "25"}})
        .to_string()
}

/// A `progress_state` snapshot after half the graph ran, as the server sends it per step.
fn progress_state(step: usize) -> String {
    let mut nodes = Map::new();
    for i in 1..=NODES / 2 {
        let id = i.to_string();
        let running = i == NODES / 2;
        nodes.insert(
            id.clone(),
            json!({
                "value": if running { step } else { 1 }, "max": if running { 100000 } else { 1 },
                "state": if running { "running" } else { "finished" },
                "node_id": id, "prompt_id": PROMPT, "display_node_id": id,
                "parent_node_id": null, "real_node_id": id,
            }),
        );
    }
    json!({"type": "progress_state", "data": {"prompt_id": PROMPT, "nodes": nodes}}).to_string()
}

fn executed() -> String {
    json!({"type": "executed", "data": {"node": "50", "display_node": "50", "prompt_id": PROMPT,
        "output": {"images": [
            {"filename": "ComfyUI_00001_.png", "subfolder": "", "type": "output"},
            {"filename": "ComfyUI_00002_.png", "subfolder": "", "type": "output"}]}}})
    .to_string()
}

fn running_job(t0: Instant) -> Job {
    let mut job = Job::new(&workflow(), PromptId::from(PROMPT));
    job.submitted(PromptId::from(PROMPT), 1.0, t0);
    let start = format!(r#"{{"type":"execution_start","data":{{"prompt_id":"{PROMPT}"}}}}"#);
    job.apply(&ServerMessage::parse(&start).expect("start"), t0);
    job
}

fn absorb(c: &mut Criterion) {
    let mut group = c.benchmark_group("absorb");
    group.throughput(Throughput::Elements(1));
    let samples: [(&str, Vec<String>); 3] = [
        ("progress", (0..1000).map(progress).collect()),
        (
            "progress_state_50_nodes",
            (0..1000).map(progress_state).collect(),
        ),
        ("executed", vec![executed()]),
    ];
    for (name, messages) in samples {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            let t0 = Instant::now();
            let mut job = running_job(t0);
            let mut i = 0usize;
            b.iter(|| {
                let text = &messages[i % messages.len()];
                i += 1;
                let message = ServerMessage::parse(black_box(text)).expect("valid");
                black_box(job.apply(&message, t0 + Duration::from_micros(i as u64)));
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = absorb
}
criterion_main!(benches);
