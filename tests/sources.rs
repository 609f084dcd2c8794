//! Where a workflow comes from, as whole runs of the built binary against the simulator:
//! stdin, the server's saved workflows (`run @NAME`, `workflows`), and pictures the
//! simulator saved, which run again with the same prompt.

mod common;

use comfy_tui::source::{self, Part};
use common::sim::{requests_to, start_sim, within};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const DEMO: &str = include_str!("../assets/workflows/demo.json");

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary with `stdin` piped in (or none) and waits for it, bounded.
async fn run_binary(args: &[&str], stdin: Option<Vec<u8>>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_comfy-tui"));
    command
        .env_remove("COMFYUI_URL")
        .env(
            comfy_tui::state::STATE_DIR_ENV,
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("state"),
        )
        .kill_on_drop(true)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    let mut child = command.spawn().expect("spawn");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        within(pipe.write_all(&bytes)).await.expect("write stdin");
        drop(pipe);
    }
    let output = within(child.wait_with_output()).await.expect("runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn last_line(out: &Output) -> Value {
    common::schema::parse(out.stdout.lines().last().unwrap_or("{}"))
}

fn submitted_prompts(sim: &comfy_tui::sim::SimHandle) -> Vec<Value> {
    requests_to(sim, "POST", "/prompt")
        .into_iter()
        .map(|r| r.body.expect("json body")["prompt"].clone())
        .collect()
}

/// JSON equality with numbers compared by value: the server stores validated inputs
/// back into the prompt as Python does (`cfg: 7` becomes `7.0`), and the picture carries
/// that.
fn same_by_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_by_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_by_value(v, w)))
        }
        _ => a == b,
    }
}

fn pngs_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("out dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_dash_reads_the_workflow_from_stdin() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let out_dir = dir.path().join("out");
    let out = run_binary(
        &[
            "run",
            "-",
            "--server",
            &sim.url(),
            "--json",
            "--out",
            out_dir.to_str().expect("utf-8"),
        ],
        Some(DEMO.as_bytes().to_vec()),
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(last_line(&out)["status"], "success");
    let expected: Value = serde_json::from_str(DEMO).expect("demo");
    assert_eq!(submitted_prompts(&sim), vec![expected]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_at_name_fetches_a_saved_workflow_with_or_without_json() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let expected: Value = serde_json::from_str(DEMO).expect("demo");
    for name in ["@examples/demo", "@examples/demo.json"] {
        let out = run_binary(
            &[
                "run",
                name,
                "--server",
                &sim.url(),
                "--json",
                "--no-download",
                "--out",
                dir.path().to_str().expect("utf-8"),
            ],
            None,
        )
        .await;
        assert_eq!(out.code, 0, "{name}: {}{}", out.stdout, out.stderr);
    }
    let fetched: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/userdata/"))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        fetched,
        vec!["/api/userdata/workflows%2Fexamples%2Fdemo.json"; 2],
        "one path segment, `/` as %2F"
    );
    assert_eq!(submitted_prompts(&sim), vec![expected.clone(), expected]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_saved_name_exits_2_with_the_closest_names_and_sends_nothing() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let out = run_binary(
        &["run", "@exmples/dmeo", "--server", &sim.url(), "--json"],
        None,
    )
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("no saved workflow `@exmples/dmeo`")
            && out.stderr.contains("did you mean @examples/demo"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("@templates/default"), "{}", out.stderr);
    let done = last_line(&out);
    assert_eq!(
        (done["event"].as_str(), done["exit_code"].as_i64()),
        (Some("done"), Some(2))
    );
    assert!(submitted_prompts(&sim).is_empty());
    assert_eq!(
        requests_to(&sim, "GET", "/userdata").len(),
        1,
        "the list was asked for"
    );

    let out = run_binary(&["run", "@../secrets", "--server", &sim.url()], None).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("must not"), "{}", out.stderr);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_ui_format_workflow_is_converted_and_run() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let out = run_binary(
        &[
            "run",
            "@templates/default",
            "--server",
            &sim.url(),
            "--json",
            "--out",
            dir.path().join("out").to_str().expect("utf-8"),
        ],
        None,
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let prompts = submitted_prompts(&sim);
    assert_eq!(prompts.len(), 1);
    // The editor's default graph: a sampler, and no UI-only fields on the wire.
    let prompt = prompts[0].as_object().expect("prompt");
    assert!(
        prompt.values().any(|n| n["class_type"] == "KSampler"),
        "{prompt:?}"
    );
    assert!(prompt.values().all(|n| n.get("widgets_values").is_none()));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_workflows_from_an_unreachable_server_exit_4() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let out = run_binary(&["run", "@x", "--server", &url, "--json"], None).await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(last_line(&out)["exit_code"], 4);
    let out = run_binary(&["workflows", "--server", &url], None).await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("cannot reach"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflows_lists_the_saved_ones_as_json_and_as_a_table() {
    let sim = start_sim(Duration::from_millis(1)).await;
    // A file that is not a workflow is not listed.
    std::fs::write(sim.user_dir().join("workflows/notes.txt"), "x").expect("write");
    let out = run_binary(&["workflows", "--server", &sim.url(), "--json"], None).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let listing = common::schema::parse(out.stdout.trim());
    let workflows = listing["workflows"].as_array().expect("list");
    let paths: Vec<&str> = workflows
        .iter()
        .filter_map(|w| w["path"].as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "examples/demo.json",
            "templates/default.json",
            "txt2img.json"
        ]
    );
    let demo = &workflows[0];
    assert_eq!(demo["name"], "examples/demo");
    assert_eq!(demo["size"], DEMO.len());
    let modified = demo["modified"].as_str().expect("time");
    assert!(humantime::parse_rfc3339(modified).is_ok(), "{modified}");
    let asked = requests_to(&sim, "GET", "/userdata");
    let query = asked[0].query.as_deref().unwrap_or_default();
    assert!(
        query.contains("dir=workflows")
            && query.contains("recurse=true")
            && query.contains("full_info=true"),
        "{query}"
    );

    let out = run_binary(&["workflows", "--server", &sim.url()], None).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("PATH") && lines[0].ends_with("MODIFIED"),
        "{}",
        out.stdout
    );
    assert!(
        lines[1].starts_with("examples/demo.json") && lines[1].contains("UTC"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("comfy-tui run @examples/demo"),
        "{}",
        out.stdout
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_picture_runs_again_with_the_same_prompt() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let first_out = dir.path().join("first");
    let demo_file = dir.path().join("demo.json");
    std::fs::write(&demo_file, DEMO).expect("write");
    let out = run_binary(
        &[
            "run",
            demo_file.to_str().expect("utf-8"),
            "--server",
            &sim.url(),
            "--json",
            "--seed",
            "random",
            "--out",
            first_out.to_str().expect("utf-8"),
        ],
        None,
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let pictures = pngs_in(&first_out);
    assert!(!pictures.is_empty(), "the run saved a picture");
    let picture = pictures[0].to_str().expect("utf-8").to_owned();

    let out = run_binary(
        &[
            "run",
            &picture,
            "--server",
            &sim.url(),
            "--json",
            "--no-download",
        ],
        None,
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // The same picture on stdin.
    let bytes = std::fs::read(&picture).expect("read");
    let out = run_binary(
        &[
            "run",
            "-",
            "--server",
            &sim.url(),
            "--json",
            "--no-download",
        ],
        Some(bytes),
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    let prompts = submitted_prompts(&sim);
    assert_eq!(prompts.len(), 3);
    // The random seed of the first run is what the picture carries and re-runs.
    let demo: Value = serde_json::from_str(DEMO).expect("demo");
    assert_ne!(
        prompts[0]["3"]["inputs"]["seed"],
        demo["3"]["inputs"]["seed"]
    );
    assert!(same_by_value(&prompts[1], &prompts[0]), "{:#}", prompts[1]);
    assert_ne!(prompts[1], demo, "the random seeds came along");
    assert_eq!(prompts[2], prompts[1]);

    // Without an editable graph in it, --from-workflow says what is missing.
    let out = run_binary(
        &["run", &picture, "--from-workflow", "--server", &sim.url()],
        None,
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no `workflow`"), "{}", out.stderr);
    assert_eq!(submitted_prompts(&sim).len(), 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_without_a_workflow_exits_2_naming_the_file() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("plain.png");
    let img = image::RgbImage::new(2, 2);
    img.save(&path).expect("png");
    let out = run_binary(
        &[
            "run",
            path.to_str().expect("utf-8"),
            "--server",
            &sim.url(),
            "--json",
        ],
        None,
    )
    .await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("plain.png") && out.stderr.contains("carries no workflow"),
        "{}",
        out.stderr
    );
    assert_eq!(last_line(&out)["exit_code"], 2);
    assert!(sim.requests().is_empty());
    sim.shutdown().await;
}

/// Posts a prompt the way the web UI does (with `extra_pnginfo`) and waits until its
/// history entry is there.
async fn run_like_the_web_ui(sim: &comfy_tui::sim::SimHandle, prompt: &Value, graph: &Value) {
    let client = reqwest::Client::new();
    let body = json!({
        "prompt": prompt,
        "client_id": "web-ui",
        "extra_data": {"extra_pnginfo": {"workflow": graph, "note": {"by": "test"}}}
    });
    let answer: Value = within(async {
        client
            .post(format!("{}/prompt", sim.url()))
            .json(&body)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json")
    })
    .await;
    let id = answer["prompt_id"].as_str().expect("queued").to_owned();
    within(async {
        loop {
            let history: Value = client
                .get(format!("{}/history/{id}", sim.url()))
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
            if history.get(&id).is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_pictures_carry_prompt_and_every_extra_pnginfo_key() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let prompt: Value = serde_json::from_str(DEMO).expect("demo");
    let graph: Value = serde_json::from_str(include_str!(
        "../assets/sim/userdata/workflows/templates/default.json"
    ))
    .expect("ui graph");
    run_like_the_web_ui(&sim, &prompt, &graph).await;
    let pictures = pngs_in(sim.output_dir());
    assert!(!pictures.is_empty(), "SaveImage wrote a picture");

    let loaded = source::read_file(&pictures[0], Part::Prompt).expect("prompt");
    assert!(same_by_value(&loaded.value, &prompt), "{:#}", loaded.value);
    assert_eq!(
        loaded.value["3"]["inputs"]["cfg"],
        json!(7.0),
        "validated, as stored"
    );
    assert_eq!(loaded.ui_workflow.as_ref(), Some(&graph));
    let loaded = source::read_file(&pictures[0], Part::Workflow).expect("workflow");
    assert_eq!(loaded.value, graph);
    assert!(comfy_tui::convert::is_ui_format(&loaded.value));

    // The chunks themselves: tEXt, in ComfyUI's order, written as Python's json.dumps.
    let file = std::io::BufReader::new(std::fs::File::open(&pictures[0]).expect("open"));
    let reader = png::Decoder::new(file).read_info().expect("png");
    let keys: Vec<&str> = reader
        .info()
        .uncompressed_latin1_text
        .iter()
        .map(|c| c.keyword.as_str())
        .collect();
    assert_eq!(keys, ["prompt", "workflow", "note"]);
    assert_eq!(
        reader.info().uncompressed_latin1_text[2].text,
        r#"{"by": "test"}"#
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_userdata_routes_answer_like_comfyui() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let client = reqwest::Client::new();
    let get = |route: String| {
        let client = client.clone();
        let url = format!("{}{route}", sim.url());
        async move {
            let response = within(client.get(url).send()).await.expect("get");
            let status = response.status().as_u16();
            (status, within(response.text()).await.expect("body"))
        }
    };
    assert_eq!(get("/api/userdata".into()).await.0, 400);
    assert_eq!(get("/api/userdata?dir=nothing".into()).await.0, 404);
    assert_eq!(get("/api/userdata?dir=..".into()).await.0, 403);
    let (status, flat) = get("/api/userdata?dir=workflows".into()).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&flat).expect("json"),
        json!(["txt2img.json"])
    );
    let (_, split) = get("/userdata?dir=workflows&recurse=true&split=true".into()).await;
    let split: Value = serde_json::from_str(&split).expect("json");
    assert_eq!(
        split[0],
        json!(["examples/demo.json", "examples", "demo.json"])
    );
    let (_, full) = get("/api/userdata?dir=workflows&recurse=True&full_info=true".into()).await;
    let full: Value = serde_json::from_str(&full).expect("json");
    assert_eq!(full.as_array().map(Vec::len), Some(3));
    assert!(
        full[0]["modified"]
            .as_f64()
            .is_some_and(|t| t > 1e9 && t < 1e11)
    );
    let (status, body) = get("/api/userdata/workflows%2Fexamples%2Fdemo.json".into()).await;
    assert_eq!((status, body.as_str()), (200, DEMO));
    assert_eq!(
        get("/api/userdata/workflows%2Fnope.json".into()).await.0,
        404
    );
    assert_eq!(
        get("/api/userdata/..%2F..%2Fetc%2Fpasswd".into()).await.0,
        403
    );
    sim.shutdown().await;
}
