//! Whole runs of the headless face against the simulator on a loopback port.

mod common;

use comfy_tui::headless::Format;
use comfy_tui::launch::{self, Face};
use comfy_tui::sim::{FailNode, NodeMatch};
use common::run::{args, hidden_files, run_json, txt2img};
use common::sim::{requests_to, start_sim, within};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_run_saves_every_output_byte_identical_to_view() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim.url(), &txt2img(4), |_| {}).await;
    assert_eq!(run.code, 0, "{:#?}", run.lines());
    assert_eq!(
        run.lines().first().map(|l| l["event"].clone()),
        Some(json!("submitted"))
    );
    let done = run.done();
    assert_eq!(done["event"], "done");
    assert_eq!(done["status"], "success");
    assert!(run.lines().iter().all(|l| l["schema"] == 1));
    let outputs = run.events("output");
    assert_eq!(outputs.len(), 4, "2 saved + 2 previews: {outputs:#?}");
    let progress = run.events("progress");
    assert_eq!(progress.last().map(|p| p["value"].clone()), Some(json!(4)));
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
    assert!(hidden_files(&run.out).is_empty(), "temporary files left");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_prompt_exits_3_with_its_node_errors() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim.url(), &txt2img(0), |_| {}).await;
    assert_eq!(run.code, 3);
    let rejected = run.events("rejected");
    assert_eq!(rejected.len(), 1);
    let errors = rejected[0]["node_errors"].as_array().expect("node errors");
    assert!(
        errors
            .iter()
            .any(|e| e["node"] == "3" && e["input"] == "steps" && e["title"] == "Sampler"),
        "{errors:#?}"
    );
    assert_eq!(
        run.lines().last().map(|l| l["status"].clone()),
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
    let run = run_json(&sim.url(), &txt2img(5), |_| {}).await;
    assert_eq!(run.code, 1, "{:#?}", run.lines());
    let errors = run.events("error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["node"], "3");
    assert_eq!(
        run.lines().last().map(|l| l["status"].clone()),
        Some(json!("error"))
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identical_rerun_is_cached_and_still_saves_outputs() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let first = run_json(&sim.url(), &txt2img(3), |_| {}).await;
    assert_eq!(first.code, 0);
    let second = run_json(&sim.url(), &txt2img(3), |_| {}).await;
    assert_eq!(second.code, 0, "{:#?}", second.lines());
    let cached = second.events("cached");
    assert_eq!(cached.len(), 1, "{}", second.text);
    assert_eq!(cached[0]["nodes"].as_array().map(Vec::len), Some(8));
    assert!(second.events("executing").is_empty());
    assert_eq!(second.events("output").len(), 4, "{:#?}", second.lines());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_seed_change_the_submitted_graph() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim.url(), &txt2img(3), |a| {
        a.sets = vec![
            "Sampler.steps=2".into(),
            "Positive.text=a dog".into(),
            "9.filename_prefix=\"x\"".into(),
        ];
        a.seed = Some("1234".into());
        a.no_download = true;
    })
    .await;
    assert_eq!(run.code, 0, "{:#?}", run.lines());
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
    assert_eq!(run.events("output").len(), 4);
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
    let run_args = args(&file, &url, &dir.path().join("out"), Format::Json);
    let face = Face::Headless(Format::Json);
    let mut prepared = launch::prepare(&run_args, face).expect("valid input");
    prepared.context.state = Some(comfy_tui::state::StateDir::at(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("state"),
    ));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_headers_ride_on_every_request_and_the_upgrade_without_origin() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim.url(), &txt2img(2), |a| {
        a.headers = vec!["X-Proxy-Auth: secret token".into()];
    })
    .await;
    assert_eq!(run.code, 0, "{}", run.text);
    let requests = sim.requests();
    assert!(
        requests.iter().any(|r| r.path.ends_with("/ws")),
        "the upgrade was captured"
    );
    assert!(requests.iter().any(|r| r.path.ends_with("/view")));
    for request in &requests {
        let has = |name: &str| {
            request
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        assert!(
            request
                .headers
                .iter()
                .any(|(k, v)| k == "x-proxy-auth" && v == "secret token"),
            "{} {} lacks the header",
            request.method,
            request.path
        );
        assert!(
            !has("origin"),
            "{} {} sent an Origin",
            request.method,
            request.path
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_sent_over_the_socket_are_saved_as_outputs() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let workflow = json!({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 32, "height": 32, "batch_size": 2, "color": 255}},
        "2": {"class_type": "SaveImageWebsocket", "inputs": {"images": ["1", 0]}}
    });
    let run = run_json(&sim.url(), &workflow, |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    let outputs = run.events("output");
    assert_eq!(outputs.len(), 2, "{}", run.text);
    for output in outputs {
        assert_eq!(output["type"], "websocket");
        let bytes = std::fs::read(output["path"].as_str().expect("path")).expect("saved");
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG was saved");
    }
    assert!(run.events("preview").is_empty(), "not counted as previews");
    sim.shutdown().await;
}
