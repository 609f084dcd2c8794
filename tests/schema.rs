//! The JSON contract: `comfy-tui schema` prints the schema file; a success, a rejection,
//! an execution error, a cancel, a batch, local and connection failures, and every
//! discovery command's `--json` match it, each line against the definition meant for
//! it; and the schema refuses what the code does not print.

mod common;

use comfy_tui::sim::{FailNode, NodeMatch, SimConfig};
use comfy_tui::state::STATE_DIR_ENV;
use common::binary::{Output, binary, next_event, rest, run_binary, run_command, signal};
use common::run::{run_json, sampler_graph, txt2img};
use common::schema::{problems, problems_against};
use common::sim::{start_sim, start_sim_with, within};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const FILE: &str = include_str!("../schema/comfy-tui.schema.json");

/// Asserts that `value` matches `$defs/{name}`, not merely some branch of the schema.
fn assert_matches(name: &str, value: &Value) {
    let found = problems_against(name, value);
    assert!(
        found.is_empty(),
        "not a {name}: {value}\n{}",
        found.join("\n")
    );
}

/// Every line matches the definition named after its event; the events seen, in order.
fn events_of(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            let event = line["event"].as_str().expect("an event").to_owned();
            assert_matches(&event, line);
            event
        })
        .collect()
}

fn write(dir: &Path, name: &str, workflow: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, workflow.to_string()).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

/// `comfy-tui ARGS --server URL` with `--json`, and its one object.
async fn discover(url: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--server", url, "--json"]);
    let out = run_binary(&all).await;
    assert_eq!(out.code, 0, "{all:?}: {}", out.stderr);
    out.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_command_prints_the_schema_file() {
    let out = run_binary(&["schema"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, FILE, "the binary prints the file as it is");
    let schema: Value = serde_json::from_str(&out.stdout).expect("JSON");
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("not a valid draft 2020-12 schema: {e}");
    }
    assert_eq!(
        schema["$defs"]["schema_version"]["const"],
        comfy_tui::headless::SCHEMA
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_and_a_cached_rerun_match_the_schema() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim.url(), &txt2img(3), |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    let events = events_of(&run.lines());
    for event in ["submitted", "started", "executing", "progress", "output"] {
        assert!(events.iter().any(|e| e == event), "no {event}: {events:?}");
    }
    assert_eq!(events.first().map(String::as_str), Some("submitted"));
    assert_eq!(events.last().map(String::as_str), Some("done"));
    let done = run.done();
    assert_eq!(
        (done["status"].clone(), done["exit_code"].clone()),
        (json!("success"), json!(0))
    );
    assert!(
        done.get("job").is_none(),
        "a single job's lines have no job"
    );

    let again = run_json(&sim.url(), &txt2img(3), |a| a.no_download = true).await;
    assert_eq!(again.code, 0, "{}", again.text);
    let events = events_of(&again.lines());
    assert!(events.iter().any(|e| e == "cached"), "{events:?}");
    let outputs = again.events("output");
    assert!(!outputs.is_empty());
    assert!(
        outputs
            .iter()
            .all(|o| o["path"].is_null() && o["bytes"].is_null())
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_and_an_execution_error_match_the_schema() {
    let sim = start_sim(Duration::from_millis(1)).await;
    // `--no-check` lets the server be the one that refuses.
    let rejected = run_json(&sim.url(), &txt2img(0), |a| a.no_check = true).await;
    assert_eq!(rejected.code, 3, "{}", rejected.text);
    assert_eq!(events_of(&rejected.lines()), ["rejected", "done"]);
    let line = &rejected.events("rejected")[0];
    assert!(
        !line["node_errors"].as_array().expect("list").is_empty(),
        "{line}"
    );
    assert_eq!(rejected.done()["status"], "rejected");

    sim.faults().set_fail_node(Some(FailNode {
        target: NodeMatch::Id("3".into()),
        at_step: 2,
    }));
    let failed = run_json(&sim.url(), &txt2img(5), |_| {}).await;
    assert_eq!(failed.code, 1, "{}", failed.text);
    let events = events_of(&failed.lines());
    assert!(events.iter().any(|e| e == "error"), "{events:?}");
    let done = failed.done();
    assert_eq!(
        (done["status"].clone(), done["exit_code"].clone()),
        (json!("error"), json!(1))
    );
    let states: BTreeSet<&str> = done["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["state"].as_str())
        .collect();
    assert!(states.contains("failed"), "{states:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_matches_the_schema_with_its_job_fields() {
    let sim = start_sim(Duration::ZERO).await;
    let run = run_json(&sim.url(), &txt2img(2), |a| {
        a.count = 2;
        a.sweeps = vec!["Sampler.cfg=4,8".into()];
        a.seed = Some("increment:10".into());
    })
    .await;
    assert_eq!(run.code, 0, "{}", run.text);
    let lines = run.lines();
    let events = events_of(&lines);
    assert_eq!(events.iter().filter(|e| *e == "job_done").count(), 4);
    let (done, body) = lines.split_last().expect("lines");
    for line in body {
        assert!(
            line["job"].is_u64() && line["prompt_id"].is_string(),
            "{line}"
        );
    }
    let jobs = done["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 4);
    for job in jobs {
        assert_eq!(job["event"], "job_done");
        assert!(
            job.get("schema").is_none(),
            "only lines carry the schema: {job}"
        );
        assert!(job["swept"]["Sampler.cfg"].is_string(), "{job}");
    }
    assert!(
        done["prompt_id"].is_null() && done.get("job").is_none(),
        "{done}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_a_local_error_and_an_unreachable_server_match_the_schema() {
    let sim = start_sim(Duration::from_millis(40)).await;
    let dir = tempfile::tempdir().expect("dir");
    let slow = write(dir.path(), "slow.json", &sampler_graph(400, 64, 1));
    let out = dir.path().join("out");
    let (mut child, mut lines) = common::binary::spawn_lines(
        binary()
            .args(["run", &slow, "--server", &sim.url(), "--json", "--out"])
            .arg(&out),
    );
    let mut seen = vec![next_event(&mut lines, "progress").await];
    signal(&child, "INT");
    seen.extend(rest(&mut lines).await);
    let status = within(child.wait()).await.expect("exit");
    assert_eq!(status.code(), Some(130));
    let events = events_of(&seen);
    assert!(events.iter().any(|e| e == "interrupted"), "{events:?}");
    assert_eq!(
        seen.last().map(|d| d["status"].clone()),
        Some(json!("interrupted"))
    );

    // Nothing sent: a file that is not there, and a check that refuses the graph.
    let missing = dir.path().join("missing.json");
    let out = run_binary(&[
        "run",
        missing.to_str().expect("utf-8"),
        "--server",
        &sim.url(),
        "--json",
    ])
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(events_of(&out.lines()), ["not_submitted", "done"]);
    assert_eq!(out.lines()[1]["status"], "invalid");
    let mut bad = txt2img(2);
    bad["3"]["class_type"] = json!("KSamplerAdvance");
    let bad = write(dir.path(), "bad.json", &bad);
    let out = run_binary(&["run", &bad, "--server", &sim.url(), "--json"]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(events_of(&out.lines()), ["not_submitted", "done"]);
    sim.shutdown().await;

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let out = run_binary(&[
        "run",
        &slow,
        "--server",
        &url,
        "--json",
        "--connect-timeout",
        "1s",
    ])
    .await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    let lines = out.lines();
    events_of(&lines);
    let done = lines.last().expect("done");
    assert_eq!(
        (done["status"].clone(), done["exit_code"].clone()),
        (json!("lost"), json!(4))
    );
    assert!(done["prompt_id"].is_null(), "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_discovery_command_matches_its_own_definition() {
    let sim = start_sim_with(SimConfig {
        step_delay: Duration::from_millis(20),
        other_clients: 2,
        ..SimConfig::default()
    })
    .await;
    let url = sim.url();
    let cases: [(&[&str], &str); 10] = [
        (&["stats"], "stats"),
        (&["queue", "--client-id", "me"], "queue"),
        (&["history", "-n", "5"], "history"),
        (&["models"], "models_folders"),
        (&["models", "checkpoints"], "models_files"),
        (&["nodes"], "nodes_list"),
        (&["nodes", "--search", "sampler"], "nodes_list"),
        (&["nodes", "KSampler"], "nodes_class"),
        (&["embeddings"], "embeddings"),
        (&["features"], "features"),
    ];
    for (args, def) in cases {
        let value = discover(&url, args).await;
        assert_matches(def, &value);
    }
    let queue = discover(&url, &["queue"]).await;
    assert!(
        !queue["items"].as_array().expect("items").is_empty(),
        "{queue}"
    );
    let workflows = discover(&url, &["workflows"]).await;
    assert_matches("workflows", &workflows);
    assert!(!workflows["workflows"].as_array().expect("list").is_empty());

    // The check: a pass, problems, and a server that cannot be reached.
    let dir = tempfile::tempdir().expect("dir");
    let good = write(dir.path(), "good.json", &txt2img(2));
    assert_matches("check", &discover(&url, &["check", &good]).await);
    let mut bad = txt2img(2);
    bad["3"]["class_type"] = json!("KSamplerAdvance");
    bad["5"]["inputs"]["width"] = json!(1);
    let bad = write(dir.path(), "bad.json", &bad);
    let refused = run_binary(&["check", &bad, "--server", &url, "--json"]).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let report = refused.json();
    assert_matches("check", &report);
    assert!(
        report["problems"].as_array().is_some_and(|p| p.len() >= 2),
        "{report}"
    );
    sim.shutdown().await;
    let unreachable = run_binary(&["check", &good, "--server", &url, "--json"]).await;
    assert_eq!(unreachable.code, 4, "{}", unreachable.stderr);
    assert_matches("check", &unreachable.json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_store_listing_matches_the_schema() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let state = tempfile::tempdir().expect("state");
    let dir = tempfile::tempdir().expect("dir");
    let workflow = write(dir.path(), "w.json", &txt2img(2));
    let comfy = |args: Vec<String>| {
        let mut command = binary();
        command.env(STATE_DIR_ENV, state.path()).args(args);
        command
    };
    let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let out_dir = dir.path().join("out");
    let run: Output = run_command(&mut comfy(args(&[
        "run",
        &workflow,
        "--server",
        &sim.url(),
        "--json",
        "--out",
        out_dir.to_str().expect("utf-8"),
    ])))
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    events_of(&run.lines());
    let listing = run_command(&mut comfy(args(&["jobs", "--json"]))).await;
    assert_eq!(listing.code, 0, "{}", listing.stderr);
    let value = listing.json();
    assert_matches("jobs", &value);
    assert_eq!(value["jobs"][0]["status"], "success", "{value}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_refuses_what_the_code_does_not_print() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim.url(), &txt2img(2), |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    let done = run.done();
    let progress = run.events("progress").remove(0);
    assert!(problems(&done).is_empty());

    let with = |base: &Value, edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut value = base.clone();
        edit(value.as_object_mut().expect("an object"));
        value
    };
    let refused = [
        (
            "an unknown field",
            with(&done, &|m| {
                m.insert("extra".into(), json!(1));
            }),
        ),
        (
            "a missing field",
            with(&done, &|m| {
                m.remove("status");
            }),
        ),
        (
            "another schema version",
            with(&done, &|m| {
                m.insert("schema".into(), json!(2));
            }),
        ),
        (
            "no schema stamp",
            with(&progress, &|m| {
                m.remove("schema");
            }),
        ),
        (
            "an unknown status",
            with(&done, &|m| {
                m.insert("status".into(), json!("fine"));
            }),
        ),
        (
            "an unknown event",
            with(&progress, &|m| {
                m.insert("event".into(), json!("progressing"));
            }),
        ),
        (
            "a job without its prompt id",
            with(&progress, &|m| {
                m.insert("job".into(), json!(0));
                m.remove("prompt_id");
            }),
        ),
        (
            "a number as text",
            with(&progress, &|m| {
                m.insert("value".into(), json!("1"));
            }),
        ),
        (
            "a discovery object with an extra key",
            json!({"server": "http://h/", "embeddings": [], "x": 1}),
        ),
        ("neither an event nor a command", json!({"hello": "world"})),
    ];
    for (what, value) in refused {
        assert!(!problems(&value).is_empty(), "{what} passed: {value}");
    }
    // What the server supplies is passed through open.
    let features = json!({"server": "http://h/", "known": true, "supports_preview_metadata": true,
        "max_upload_size": 1, "flags": {"extension": {"manager": {"supports_v4": true}}, "new_flag": [1]}});
    assert!(problems(&features).is_empty(), "{:?}", problems(&features));
    sim.shutdown().await;
}
