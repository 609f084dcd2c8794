//! Local files as inputs in whole runs against the simulator: `--input` with a folder
//! (one job per file), the automatic upload of a local file the graph names, the mask
//! upload, a missing file (exit 2, nothing sent) and a refused upload (exit 3, naming the
//! file).

mod common;

use comfy_tui::sim::{Faults, SimConfig};
use common::binary::{Output, run_binary};
use common::sim::{requests_to, start_sim, start_sim_with};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn graph(image: &str) -> Value {
    json!({
        "10": {"class_type": "LoadImage", "inputs": {"image": image}, "_meta": {"title": "Photo"}},
        "2": {"class_type": "ImageScale", "inputs": {"image": ["10", 0], "upscale_method": "nearest-exact", "width": 32, "height": 0, "crop": "disabled"}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "scaled"}}
    })
}

fn picture(dir: &Path, name: &str, seed: u64) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, comfy_tui::sim::images::png(16, 16, seed)).expect("picture");
    path
}

/// `comfy-tui run GRAPH --json --server URL` plus `extra`, as a user types it.
async fn run_cli(url: &str, graph: &Value, extra: &[String]) -> Output {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("graph.json");
    std::fs::write(&file, graph.to_string()).expect("graph");
    let out = dir.path().join("out");
    let mut args: Vec<String> = vec![
        "run".into(),
        file.display().to_string(),
        "--json".into(),
        "--server".into(),
        url.into(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_binary(&args).await
}

fn done(output: &Output) -> Value {
    output.lines().pop().expect("a done line")
}

fn submitted_images(sim: &comfy_tui::sim::SimHandle) -> Vec<Value> {
    requests_to(sim, "POST", "/prompt")
        .into_iter()
        .filter_map(|r| r.body)
        .map(|b| b["prompt"]["10"]["inputs"]["image"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_input_makes_one_job_per_file_each_with_its_upload() {
    let sim = start_sim(Duration::ZERO).await;
    let pictures = tempfile::tempdir().expect("dir");
    for (n, name) in ["a.png", "b.png", "c.png"].iter().enumerate() {
        picture(pictures.path(), name, n as u64);
    }
    std::fs::write(pictures.path().join("notes.txt"), "not a picture").expect("txt");
    let folder = pictures.path().to_str().expect("utf-8").to_owned();
    let run = run_cli(
        &sim.url(),
        &graph("example.png"),
        &["--input".into(), format!("Photo={folder}")],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(requests_to(&sim, "POST", "/upload/image").len(), 3);
    assert_eq!(
        submitted_images(&sim),
        [json!("a.png"), json!("b.png"), json!("c.png")]
    );
    let done = done(&run);
    assert_eq!(done["jobs"].as_array().map(Vec::len), Some(3));
    assert!(
        done["jobs"][1]["swept"]["10.image"]
            .as_str()
            .is_some_and(|p| p.ends_with("b.png")),
        "{done}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_file_the_graph_names_is_uploaded_automatically_and_said() {
    let sim = start_sim(Duration::ZERO).await;
    let pictures = tempfile::tempdir().expect("dir");
    let local = picture(pictures.path(), "cat.png", 7);
    let run = run_cli(&sim.url(), &graph(local.to_str().expect("utf-8")), &[]).await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cat.png"),
        "the upload is said: {}",
        run.stderr
    );
    let uploads = requests_to(&sim, "POST", "/upload/image");
    assert_eq!(uploads.len(), 1);
    assert_eq!(submitted_images(&sim), [json!("cat.png")]);
    // A name the server lists is left alone: nothing more goes up.
    let again = run_cli(&sim.url(), &graph("cat.png"), &[]).await;
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert_eq!(requests_to(&sim, "POST", "/upload/image").len(), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mask_goes_to_the_mask_route_on_its_picture() {
    let sim = start_sim(Duration::ZERO).await;
    let files = tempfile::tempdir().expect("dir");
    let photo = picture(files.path(), "photo.png", 1);
    let mask = picture(files.path(), "mask.png", 2);
    let run = run_cli(
        &sim.url(),
        &graph("example.png"),
        &[
            "--input".into(),
            format!("Photo={}", photo.display()),
            "--mask".into(),
            format!("Photo={}", mask.display()),
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(requests_to(&sim, "POST", "/upload/image").len(), 1);
    assert_eq!(requests_to(&sim, "POST", "/upload/mask").len(), 1);
    let image = submitted_images(&sim);
    assert_eq!(image.len(), 1);
    assert!(
        image[0].as_str().is_some_and(|n| n.ends_with(".png")),
        "{image:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_is_exit_2_and_a_refused_upload_exit_3_naming_it() {
    let sim = start_sim(Duration::ZERO).await;
    let missing = run_cli(
        &sim.url(),
        &graph("example.png"),
        &["--input".into(), "Photo=/nonexistent/dir/x.png".into()],
    )
    .await;
    assert_eq!(missing.code, 2, "{}{}", missing.stdout, missing.stderr);
    assert!(
        missing.stdout.contains("/nonexistent/dir/x.png"),
        "{}",
        missing.stdout
    );
    assert!(requests_to(&sim, "POST", "/prompt").is_empty());
    assert!(requests_to(&sim, "POST", "/upload/image").is_empty());
    sim.shutdown().await;

    let sim = start_sim_with(SimConfig {
        step_delay: Duration::ZERO,
        faults: Faults {
            upload_status: Some(413),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let files = tempfile::tempdir().expect("dir");
    let photo = picture(files.path(), "big.png", 3);
    let refused = run_cli(
        &sim.url(),
        &graph("example.png"),
        &["--input".into(), format!("Photo={}", photo.display())],
    )
    .await;
    assert_eq!(refused.code, 3, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("big.png"), "{}", refused.stdout);
    assert_eq!(done(&refused)["status"], "rejected");
    assert!(requests_to(&sim, "POST", "/prompt").is_empty());
    sim.shutdown().await;
}
