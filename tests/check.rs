//! The pre-flight check: against the prompts the real frontend makes, against the real
//! server's recorded refusals, and whole `check` / `run` commands against the simulator.

mod common;

use comfy_tui::check::{ProblemKind, check};
use comfy_tui::comfy::object_info::ObjectInfo;
use common::run::txt2img;
use common::sim::{requests_to, start_sim, within};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn full_catalog() -> ObjectInfo {
    let text = std::fs::read_to_string(fixture("object_info_full.json")).expect("fixture");
    ObjectInfo::parse(&text, "object_info_full.json").expect("parses")
}

type Found = BTreeSet<(String, String, &'static str)>;

fn kind_name(kind: ProblemKind) -> &'static str {
    match kind {
        ProblemKind::MissingInput => "missing",
        ProblemKind::WrongType => "type",
        ProblemKind::NotInList => "not_offered",
        ProblemKind::UnknownClass => "unknown_class",
        ProblemKind::OutOfRange => "range",
        ProblemKind::NoOutputNode => "no_outputs",
        _ => "other",
    }
}

/// `"7 MaskToImage: required input mask missing"`, `"38.steps: INT wanted, got …"`,
/// `"4 CheckpointLoaderSimple.ckpt_name = … is not offered by this server"`.
fn manifest_entry(text: &str, not_offered: bool) -> (String, String, &'static str) {
    if not_offered {
        let (head, _) = text.split_once(" = ").expect("a not-offered entry");
        let (node, rest) = head.split_once(' ').expect("node id");
        let (_, input) = rest.split_once('.').expect("class.input");
        return (node.to_owned(), input.to_owned(), "not_offered");
    }
    if let Some((node, rest)) = text.split_once(' ')
        && let Some(input) = rest
            .split_once("required input ")
            .map(|(_, r)| r.trim_end_matches(" missing"))
    {
        return (node.to_owned(), input.to_owned(), "missing");
    }
    let (head, _) = text.split_once(':').expect("node.input: …");
    let (node, input) = head.split_once('.').expect("node.input");
    assert!(text.contains("wanted"), "unexpected entry {text}");
    (node.to_owned(), input.to_owned(), "type")
}

#[test]
fn every_frontend_prompt_passes_except_what_the_server_lacks() {
    let catalog = full_catalog();
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("ui-to-api/MANIFEST.json")).expect("manifest"),
    )
    .expect("json");
    let pairs = manifest["pairs"].as_object().expect("pairs");
    assert_eq!(pairs.len(), 13);
    for (name, pair) in pairs {
        let text = std::fs::read_to_string(fixture(&format!("ui-to-api/{name}.api.json")))
            .expect("api prompt");
        let prompt: Map<String, Value> = serde_json::from_str(&text).expect("json");
        let report = check(&prompt, Some(&catalog));
        let mut expected = Found::new();
        for (key, not_offered) in [
            ("validation_errors", false),
            ("not_offered_by_this_server", true),
        ] {
            for entry in pair[key].as_array().expect("list") {
                expected.insert(manifest_entry(entry.as_str().expect("text"), not_offered));
            }
        }
        let found: Found = report
            .problems
            .iter()
            .map(|p| {
                (
                    p.node.clone().unwrap_or_default(),
                    p.input.clone().unwrap_or_default(),
                    kind_name(p.kind),
                )
            })
            .collect();
        assert_eq!(found, expected, "{name}: {:#?}", report.problems);
        // The frontend-only widgets are named, but only as warnings.
        for entry in pair["frontend_only_inputs"].as_array().expect("list") {
            let entry = entry.as_str().expect("text");
            let (node, rest) = entry.split_once(' ').expect("node");
            let input = rest
                .split_once('.')
                .and_then(|(_, r)| r.split_once(' '))
                .map(|(i, _)| i)
                .expect("input");
            assert!(
                report
                    .warnings
                    .iter()
                    .any(|w| w.node.as_deref() == Some(node)
                        && w.input.as_deref() == Some(input)
                        && w.kind == ProblemKind::UnknownInput),
                "{name}: no warning for {entry}: {:#?}",
                report.warnings
            );
        }
    }
}

/// The recorded 400 answers: the same problems, found locally.
#[test]
fn the_servers_recorded_refusals_are_found_locally() {
    let catalog = full_catalog();
    let transcript = std::fs::read_to_string(fixture("prompt_invalid.jsonl")).expect("fixture");
    let mut compared = 0;
    for line in transcript.lines() {
        let event: Value = serde_json::from_str(line).expect("json line");
        let Some(prompt) = event["request_json"]["prompt"].as_object() else {
            continue;
        };
        assert_eq!(event["status"], 400);
        let answer = &event["json"];
        let mut expected = Found::new();
        match answer["error"]["type"].as_str().expect("type") {
            "invalid_prompt" => {
                let details = answer["error"]["details"].as_str().expect("details");
                let node = details
                    .trim_start_matches("Node ID '#")
                    .trim_end_matches('\'');
                expected.insert((node.to_owned(), String::new(), "unknown_class"));
            }
            "prompt_no_outputs" => {
                expected.insert((String::new(), String::new(), "no_outputs"));
            }
            "prompt_outputs_failed_validation" => {
                for (node, entry) in answer["node_errors"].as_object().expect("node errors") {
                    for error in entry["errors"].as_array().expect("errors") {
                        let kind = match error["type"].as_str().expect("type") {
                            "required_input_missing" => "missing",
                            "value_smaller_than_min" | "value_bigger_than_max" => "range",
                            "value_not_in_list" => "not_offered",
                            "invalid_input_type" => "type",
                            other => panic!("unmapped error type {other}"),
                        };
                        let input = error["extra_info"]["input_name"].as_str().expect("input");
                        expected.insert((node.clone(), input.to_owned(), kind));
                    }
                }
            }
            other => panic!("unmapped refusal {other}"),
        }
        let report = check(prompt, Some(&catalog));
        let found: Found = report
            .problems
            .iter()
            .map(|p| {
                (
                    p.node.clone().unwrap_or_default(),
                    p.input.clone().unwrap_or_default(),
                    kind_name(p.kind),
                )
            })
            .collect();
        assert_eq!(found, expected, "{:#?}", report.problems);
        // Named better than the server did: the title comes along.
        for p in &report.problems {
            if let Some(node) = &p.node {
                assert_eq!(p.class_type.as_deref(), prompt[node]["class_type"].as_str());
            }
        }
        compared += 1;
    }
    assert_eq!(
        compared, 3,
        "every recorded refusal of a prompt was compared"
    );
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_comfy-tui"));
    command.env_remove("COMFYUI_URL").kill_on_drop(true);
    command
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run_binary(args: &[&str]) -> Output {
    let output = within(binary().args(args).stdin(Stdio::null()).output())
        .await
        .expect("binary runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn write(dir: &Path, name: &str, prompt: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, prompt.to_string()).expect("write");
    path.to_str().expect("utf-8 path").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_command_against_the_simulator() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let good = write(dir.path(), "good.json", &txt2img(2));
    let out = run_binary(&["check", &good, "--server", &sim.url(), "--json"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = common::schema::parse(out.stdout.trim());
    assert_eq!(report, json!({"ok": true, "problems": [], "warnings": []}));
    assert_eq!(requests_to(&sim, "GET", "/object_info").len(), 1);

    let mut bad = txt2img(2);
    bad["3"]["class_type"] = json!("KSamplerAdvance");
    bad["5"]["inputs"]["width"] = json!(1);
    bad["6"]["inputs"]["extra"] = json!(1);
    let bad = write(dir.path(), "bad.json", &bad);
    let out = run_binary(&["check", &bad, "--server", &sim.url(), "--json"]).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    let report = common::schema::parse(out.stdout.trim());
    assert_eq!(report["ok"], false);
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0]["kind"], "unknown_class");
    assert_eq!(problems[0]["node"], "3");
    assert_eq!(problems[0]["title"], "Sampler");
    assert_eq!(problems[0]["class_type"], "KSamplerAdvance");
    assert_eq!(problems[0]["input"], Value::Null);
    assert_eq!(problems[0]["suggestions"][0], "KSamplerAdvanced");
    assert_eq!(problems[1]["kind"], "out_of_range");
    assert_eq!(problems[1]["node"], "5");
    assert_eq!(problems[1]["input"], "width");
    assert_eq!(report["warnings"][0]["input"], "extra");
    assert!(out.stderr.contains("warning: node 6"), "{}", out.stderr);

    // The plain face names node, title, class and input, one problem a line.
    let out = run_binary(&["check", &bad, "--server", &sim.url()]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stdout
            .contains("node 3 \"Sampler\" (KSamplerAdvance): this server has no node class"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("did you mean: KSamplerAdvanced"),
        "{}",
        out.stdout
    );

    // A saved catalogue needs no server.
    let saved = fixture("object_info_full.json");
    let out = run_binary(&[
        "check",
        &good,
        "--object-info",
        saved.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(
        out.code, 2,
        "the recording server has no checkpoints: {}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("sd15-demo.safetensors` is not installed"),
        "{}",
        out.stdout
    );
    assert!(requests_to(&sim, "POST", "/prompt").is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_command_exit_codes_for_bad_input_and_no_server() {
    let dir = tempfile::tempdir().expect("dir");
    let good = write(dir.path(), "good.json", &txt2img(2));
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = run_binary(&["check", &good, "--server", &url, "--json"]).await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    let report = common::schema::parse(out.stdout.trim());
    assert_eq!(report["ok"], false);
    assert!(
        report["error"]
            .as_str()
            .expect("error")
            .contains("cannot reach")
    );
    let out = run_binary(&["check", "/nonexistent/wf.json", "--server", &url]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("/nonexistent/wf.json"),
        "{}",
        out.stderr
    );
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "[]").expect("write");
    let out = run_binary(&[
        "check",
        &good,
        "--object-info",
        junk.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("junk.json"), "{}", out.stderr);
}

/// A prompt the check refuses exits 2 and the server never sees `POST /prompt`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_refuses_before_sending() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let mut unknown = txt2img(2);
    unknown["8"]["class_type"] = json!("VAEDecodeTiledX");
    let mut cycle = txt2img(2);
    cycle["20"] = json!({"class_type": "ImageInvert", "inputs": {"image": ["21", 0]}});
    cycle["21"] = json!({"class_type": "ImageInvert", "inputs": {"image": ["20", 0]}});
    cycle["22"] =
        json!({"class_type": "SaveImage", "inputs": {"images": ["21", 0], "filename_prefix": "c"}});
    let mut missing = txt2img(2);
    missing["8"]["inputs"]["vae"] = json!(["99", 0]);
    let cases = [
        ("unknown.json", unknown, "VAEDecodeTiledX", true),
        ("cycle.json", cycle, "20 → 21 → 20", false),
        ("missing.json", missing, "node 99", false),
    ];
    for (name, prompt, expect, needs_catalog) in cases {
        let file = write(dir.path(), name, &prompt);
        let reads_before = requests_to(&sim, "GET", "/object_info").len();
        let out = run_binary(&[
            "run",
            &file,
            "--server",
            &sim.url(),
            "--json",
            "--no-download",
        ])
        .await;
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(out.stderr.contains(expect), "{name}: {}", out.stderr);
        let lines: Vec<Value> = out.stdout.lines().map(common::schema::parse).collect();
        assert_eq!(lines.len(), 2, "{name}: {}", out.stdout);
        assert_eq!(lines[0]["event"], "not_submitted");
        assert!(
            lines[0]["reason"]
                .as_str()
                .expect("reason")
                .contains(expect),
            "{name}: {}",
            lines[0]
        );
        assert_eq!(lines[1]["event"], "done");
        assert_eq!(lines[1]["exit_code"], 2);
        // Graph problems are found before the server is asked anything.
        let reads = requests_to(&sim, "GET", "/object_info").len() - reads_before;
        assert_eq!(reads, usize::from(needs_catalog), "{name}");
        assert!(requests_to(&sim, "POST", "/prompt").is_empty(), "{name}");
    }
    // `--no-check` leaves the class to the server, which refuses it (exit 3).
    let mut unknown = txt2img(2);
    unknown["8"]["class_type"] = json!("VAEDecodeTiledX");
    let file = write(dir.path(), "unknown2.json", &unknown);
    let out = run_binary(&[
        "run",
        &file,
        "--server",
        &sim.url(),
        "--json",
        "--no-download",
        "--no-check",
    ])
    .await;
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(requests_to(&sim, "POST", "/prompt").len(), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_of_a_good_prompt_checks_once_then_runs() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = write(dir.path(), "good.json", &txt2img(2));
    let out_dir = dir.path().join("out");
    let out = run_binary(&[
        "run",
        &file,
        "--server",
        &sim.url(),
        "--json",
        "--out",
        out_dir.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(requests_to(&sim, "GET", "/object_info").len(), 1);
    assert_eq!(requests_to(&sim, "POST", "/prompt").len(), 1);
    sim.shutdown().await;
}
