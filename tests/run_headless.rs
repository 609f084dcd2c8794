//! Whole runs of the headless face against the simulator on a loopback port.

mod common;

use comfy_tui::cli::{FaceArgs, RunArgs};
use comfy_tui::headless::Format;
use comfy_tui::launch::{self, Face};
use comfy_tui::sim::{FailNode, NodeMatch, SimHandle};
use common::sim::{requests_to, start_sim, within};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A small txt2img graph the simulator runs in a few milliseconds.
pub fn txt2img(steps: u64) -> Value {
    json!({
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15-demo.safetensors"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}, "_meta": {"title": "Positive"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}, "_meta": {"title": "Negative"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 2}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 1, "steps": steps, "cfg": 8, "sampler_name": "euler", "scheduler": "normal", "denoise": 1,
            "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]},
            "_meta": {"title": "Sampler"}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "t", "images": ["8", 0]}},
        "10": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
    })
}

struct Run {
    code: i32,
    lines: Vec<Value>,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

fn args(workflow: &Path, server: &str, out: &Path) -> RunArgs {
    RunArgs {
        workflow: workflow.to_owned(),
        server: server.to_owned(),
        out: out.to_owned(),
        sets: Vec::new(),
        seed: None,
        timeout: None,
        no_download: false,
        client_id: None,
        headers: Vec::new(),
        preview_method: None,
        face: FaceArgs {
            json: true,
            plain: false,
            no_notify: true,
        },
    }
}

async fn run_json(sim: &SimHandle, workflow: &Value, tweak: impl FnOnce(&mut RunArgs)) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("workflow.json");
    std::fs::write(&file, workflow.to_string()).expect("write workflow");
    let out = dir.path().join("out");
    let mut run_args = args(&file, &sim.url(), &out);
    tweak(&mut run_args);
    let face = Face::Headless(Format::Json);
    let (code, bytes) = match launch::prepare(&run_args, face) {
        Ok(prepared) => {
            let (runtime, app) = launch::assemble(prepared, false);
            let mut buffer = Vec::new();
            let code = within(comfy_tui::headless::run(
                runtime,
                app,
                Format::Json,
                &mut buffer,
            ))
            .await;
            (code, buffer)
        }
        Err(e) => (comfy_tui::exit::USAGE, e.0.into_bytes()),
    };
    let text = String::from_utf8(bytes).expect("utf-8 output");
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    Run {
        code,
        lines,
        out,
        _dir: dir,
    }
}

fn events<'a>(run: &'a Run, name: &str) -> Vec<&'a Value> {
    run.lines.iter().filter(|l| l["event"] == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_run_saves_every_output_byte_identical_to_view() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim, &txt2img(4), |_| {}).await;
    assert_eq!(run.code, 0, "{:#?}", run.lines);
    assert_eq!(
        run.lines.first().map(|l| l["event"].clone()),
        Some(json!("submitted"))
    );
    let done = run.lines.last().expect("done line");
    assert_eq!(done["event"], "done");
    assert_eq!(done["status"], "success");
    assert!(run.lines.iter().all(|l| l["schema"] == 1));
    let outputs = events(&run, "output");
    assert_eq!(outputs.len(), 4, "2 saved + 2 previews: {outputs:#?}");
    let progress = events(&run, "progress");
    assert_eq!(
        progress.last().map(|p| p["value"].clone()),
        Some(json!(4.0))
    );
    let http = reqwest::Client::new();
    for output in outputs {
        let path = PathBuf::from(output["path"].as_str().expect("saved path"));
        assert!(path.starts_with(&run.out), "{path:?} outside {:?}", run.out);
        let saved = std::fs::read(&path).expect("saved file");
        assert_eq!(output["bytes"], json!(saved.len()));
        let served = within(
            http.get(format!("{}/view", sim.url()))
                .query(&[
                    ("filename", output["filename"].as_str().unwrap_or_default()),
                    (
                        "subfolder",
                        output["subfolder"].as_str().unwrap_or_default(),
                    ),
                    ("type", output["type"].as_str().unwrap_or_default()),
                ])
                .send(),
        )
        .await
        .expect("view");
        let served = within(served.bytes()).await.expect("body");
        assert_eq!(saved, served.to_vec(), "{path:?} differs from /view");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&run.out)
        .expect("out dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_prompt_exits_3_with_its_node_errors() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim, &txt2img(0), |_| {}).await;
    assert_eq!(run.code, 3);
    let rejected = events(&run, "rejected");
    assert_eq!(rejected.len(), 1);
    let errors = rejected[0]["node_errors"].as_array().expect("node errors");
    assert!(
        errors
            .iter()
            .any(|e| e["node"] == "3" && e["input"] == "steps"),
        "{errors:#?}"
    );
    assert_eq!(
        run.lines.last().map(|l| l["status"].clone()),
        Some(json!("rejected"))
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_error_exits_1() {
    let sim = start_sim(Duration::from_millis(1)).await;
    sim.faults().set_fail_node(Some(FailNode {
        target: NodeMatch::Id("3".into()),
        at_step: 2,
    }));
    let run = run_json(&sim, &txt2img(5), |_| {}).await;
    assert_eq!(run.code, 1, "{:#?}", run.lines);
    let errors = events(&run, "error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["node"], "3");
    assert_eq!(
        run.lines.last().map(|l| l["status"].clone()),
        Some(json!("error"))
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identical_rerun_is_cached_and_still_saves_outputs() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let first = run_json(&sim, &txt2img(3), |_| {}).await;
    assert_eq!(first.code, 0);
    let second = run_json(&sim, &txt2img(3), |_| {}).await;
    assert_eq!(second.code, 0, "{:#?}", second.lines);
    let cached = events(&second, "cached");
    assert_eq!(cached.len(), 1);
    assert_eq!(cached[0]["nodes"].as_array().map(Vec::len), Some(8));
    assert!(events(&second, "executing").is_empty());
    assert_eq!(events(&second, "output").len(), 4, "{:#?}", second.lines);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_seed_change_the_submitted_graph() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim, &txt2img(3), |a| {
        a.sets = vec![
            "Sampler.steps=2".into(),
            "Positive.text=a dog".into(),
            "9.filename_prefix=\"x\"".into(),
        ];
        a.seed = Some("1234".into());
        a.no_download = true;
    })
    .await;
    assert_eq!(run.code, 0, "{:#?}", run.lines);
    let posts = requests_to(&sim, "POST", "/prompt");
    assert_eq!(posts.len(), 1);
    let prompt = &posts[0].body.as_ref().expect("json body")["prompt"];
    assert_eq!(prompt["3"]["inputs"]["steps"], 2);
    assert_eq!(prompt["3"]["inputs"]["seed"], 1234);
    assert_eq!(prompt["6"]["inputs"]["text"], "a dog");
    assert_eq!(prompt["9"]["inputs"]["filename_prefix"], "x");
    assert!(
        requests_to(&sim, "GET", "/view").is_empty(),
        "--no-download fetched files"
    );
    assert_eq!(events(&run, "output").len(), 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_exits_4() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("w.json");
    std::fs::write(&file, txt2img(1).to_string()).expect("write");
    let run_args = args(&file, &url, &dir.path().join("out"));
    let face = Face::Headless(Format::Json);
    let prepared = launch::prepare(&run_args, face).expect("valid input");
    let (runtime, app) = launch::assemble(prepared, false);
    let mut buffer = Vec::new();
    let code = within(comfy_tui::headless::run(
        runtime,
        app,
        Format::Json,
        &mut buffer,
    ))
    .await;
    assert_eq!(code, 4);
    let text = String::from_utf8(buffer).expect("utf-8");
    assert!(text.contains("not_submitted"), "{text}");
    assert!(text.lines().last().is_some_and(|l| l.contains("\"done\"")));
}
