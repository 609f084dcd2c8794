//! Running the editor's format end to end against the simulator: converted with the
//! server's own `/object_info` (fetched once), checked, submitted with the graph as
//! `extra_pnginfo.workflow`, and the saved PNG carries it back to `run --from-workflow`.

mod common;

use common::binary::run_binary;
use common::sim::{requests_to, start_sim};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const DEMO_UI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/workflows/demo.ui.json");
const DEMO_API: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/workflows/demo.json");

fn read(path: impl AsRef<Path>) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

/// Numbers compare by value (`7` equals `7.0`), as the frontend pairs are compared.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn submitted_body(sim: &comfy_tui::sim::SimHandle) -> Value {
    let posts = requests_to(sim, "POST", "/prompt");
    assert_eq!(posts.len(), 1, "{posts:?}");
    posts[0].body.clone().expect("a JSON body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ui_file_runs_converted_against_the_server_and_carries_its_graph() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("out");
    let run = run_binary(&[
        "run",
        DEMO_UI,
        "--server",
        &sim.url(),
        "--json",
        "--out",
        out.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.lines()[0]["event"], "submitted");
    assert_eq!(
        requests_to(&sim, "GET", "/object_info").len(),
        1,
        "fetched once"
    );
    let body = submitted_body(&sim);
    assert!(same(&body["prompt"], &read(DEMO_API)), "{}", body["prompt"]);
    assert_eq!(
        body["extra_data"]["extra_pnginfo"]["workflow"],
        read(DEMO_UI)
    );

    // The saved PNG carries the graph; `--from-workflow` converts it again.
    let png = std::fs::read_dir(&out)
        .expect("out")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("a saved png");
    sim.clear_requests();
    let again = run_binary(&[
        "run",
        png.to_str().expect("utf-8"),
        "--from-workflow",
        "--server",
        &sim.url(),
        "--json",
        "--no-download",
    ])
    .await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let body = submitted_body(&sim);
    assert!(same(&body["prompt"], &read(DEMO_API)), "{}", body["prompt"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_seed_apply_to_the_converted_prompt_and_picks_follow_the_seed() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let mut graph = read(DEMO_UI);
    for node in graph["nodes"].as_array_mut().expect("nodes") {
        if node["title"] == "Positive Prompt" {
            node["widgets_values"] = json!(["a {red|blue|green|golden|silver} lighthouse"]);
        }
    }
    let file = dir.path().join("dyn.ui.json");
    std::fs::write(&file, graph.to_string()).expect("write");
    let mut texts = Vec::new();
    for _ in 0..2 {
        sim.clear_requests();
        let run = run_binary(&[
            "run",
            file.to_str().expect("utf-8"),
            "--server",
            &sim.url(),
            "--json",
            "--no-download",
            "--seed",
            "77",
            "--set",
            "Negative Prompt.text=fog",
        ])
        .await;
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let submitted = &run.lines()[0];
        let picks = submitted["dynamic_prompts"].as_array().expect("picks");
        assert_eq!(picks.len(), 1, "{submitted}");
        let body = submitted_body(&sim);
        assert_eq!(body["prompt"]["7"]["inputs"]["text"], "fog");
        assert_eq!(body["prompt"]["3"]["inputs"]["seed"], 77);
        let text = body["prompt"]["6"]["inputs"]["text"]
            .as_str()
            .expect("text")
            .to_owned();
        assert!(!text.contains('{'), "{text}");
        texts.push(text);
    }
    assert_eq!(texts[0], texts[1], "the same --seed picks the same");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ui_file_with_a_missing_custom_node_is_refused_naming_it() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let mut graph = read(DEMO_UI);
    let nodes = graph["nodes"].as_array_mut().expect("nodes");
    nodes[0]["type"] = json!("SuperCustomLoader");
    let id = nodes[0]["id"].clone();
    let file = dir.path().join("missing.ui.json");
    std::fs::write(&file, graph.to_string()).expect("write");
    let run = run_binary(&[
        "run",
        file.to_str().expect("utf-8"),
        "--server",
        &sim.url(),
        "--json",
    ])
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("SuperCustomLoader"), "{}", run.stderr);
    assert!(run.stderr.contains(&id.to_string()), "{}", run.stderr);
    assert!(requests_to(&sim, "POST", "/prompt").is_empty());
    // `check` says the same of the same file.
    let check = run_binary(&[
        "check",
        file.to_str().expect("utf-8"),
        "--server",
        &sim.url(),
    ])
    .await;
    assert_eq!(check.code, 2, "{}", check.stderr);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_takes_the_editors_format_too() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let check = run_binary(&["check", DEMO_UI, "--server", &sim.url(), "--json"]).await;
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    let report = check.json();
    assert_eq!(report["ok"], true);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_slow_to_build_its_catalogue_is_waited_for_not_called_unreachable() {
    let sim = common::sim::start_sim_with(comfy_tui::sim::SimConfig {
        step_delay: Duration::from_millis(1),
        faults: comfy_tui::sim::Faults {
            object_info_delay: Some(Duration::from_millis(2500)),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    // A connect timeout shorter than the catalogue takes: the server is alive (a cheap
    // route answers), so the run waits for the catalogue and converts.
    let run = run_binary(&[
        "run",
        DEMO_UI,
        "--server",
        &sim.url(),
        "--json",
        "--no-download",
        "--connect-timeout",
        "1s",
    ])
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(requests_to(&sim, "POST", "/prompt").len(), 1);
    sim.shutdown().await;
}
