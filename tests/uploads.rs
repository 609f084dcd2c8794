//! Local files as inputs against the simulator: the upload itself (streamed, stored
//! byte-identical, renamed on a collision), the mask route, folders and globs, one
//! upload per content across jobs, the automatic upload, and the local and server
//! refusals.

mod common;

use comfy_tui::comfy::http::{ComfyClient, HttpError, SubmitRequest, UploadKind, Uploaded};
use comfy_tui::comfy::object_info::ObjectInfo;
use comfy_tui::comfy::{ClientId, PromptId, ServerUrl, Workflow};
use comfy_tui::sim::{SimConfig, SimHandle};
use comfy_tui::upload::{self, InputArg, InputError, Plan, PlannedKind, UploadAs, Wanted};
use common::sim::{requests_to, start_sim_with, within};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fast() -> SimConfig {
    SimConfig {
        step_delay: Duration::from_millis(1),
        ..SimConfig::default()
    }
}

fn client(sim: &SimHandle) -> ComfyClient {
    ComfyClient::new(
        ServerUrl::parse(&sim.url()).expect("url"),
        Default::default(),
    )
    .expect("client")
}

/// A picture of `w`×`h` whose pixels differ by `seed`.
fn picture(w: u32, h: u32, seed: u64) -> Vec<u8> {
    comfy_tui::sim::images::png(w, h, seed)
}

/// Bytes that are not a picture (the server takes any file), `len` long.
fn noise(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

/// LoadImage → ImageScale → PreviewImage: the server checks that the file exists.
fn load_prompt(image: &str) -> Map<String, Value> {
    json!({
        "10": {"class_type": "LoadImage", "inputs": {"image": image}, "_meta": {"title": "Photo"}},
        "2": {"class_type": "ImageScale", "inputs": {"image": ["10", 0], "upscale_method": "nearest-exact", "width": 32, "height": 0, "crop": "disabled"}},
        "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
    })
    .as_object()
    .cloned()
    .expect("object")
}

async fn submit(client: &ComfyClient, prompt: &Map<String, Value>) -> Result<(), HttpError> {
    let request = SubmitRequest {
        prompt,
        client_id: &ClientId::random(),
        prompt_id: &PromptId::random(),
        preview_method: None,
        workflow: None,
        front: false,
    };
    let submitted = within(client.submit(&request)).await?;
    assert!(
        submitted.node_errors.is_empty(),
        "{:?}",
        submitted.node_errors
    );
    Ok(())
}

async fn catalog(client: &ComfyClient) -> ObjectInfo {
    let value = within(client.object_info(None)).await.expect("object_info");
    ObjectInfo::from_value(&value, "object_info").expect("catalogue")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[tokio::test]
async fn an_upload_streams_the_file_and_is_stored_byte_identical() {
    let sim = start_sim_with(fast()).await;
    let dir = tempfile::tempdir().expect("dir");
    let bytes = noise(3 * 1024 * 1024 + 17, 1);
    let path = write(dir.path(), "big scan.png", &bytes);
    let mut seen = Vec::new();
    let stored = within(
        client(&sim).upload(UploadKind::Image, &path, "", |sent, total| {
            seen.push((sent, total));
        }),
    )
    .await
    .expect("upload");
    assert_eq!(
        stored,
        Uploaded {
            name: "big scan.png".into(),
            subfolder: String::new(),
            folder_type: "input".into(),
        }
    );
    let on_server = std::fs::read(sim.input_dir().join("big scan.png")).expect("stored");
    assert!(
        on_server == bytes,
        "the stored file differs from the local one"
    );
    let total = bytes.len() as u64;
    assert_eq!(seen.first(), Some(&(0, total)));
    assert_eq!(seen.last(), Some(&(total, total)));
    assert!(seen.len() > 2, "progress while sending: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
    let sent = requests_to(&sim, "POST", "/upload/image");
    assert_eq!(sent.len(), 1);
    let content_type = sent[0]
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );

    // Into a subfolder: the value a prompt takes joins it, and the server accepts it.
    let small = write(dir.path(), "cat.png", &picture(8, 8, 1));
    let stored = within(client(&sim).upload(UploadKind::Image, &small, "batch", |_, _| {}))
        .await
        .expect("upload");
    assert_eq!(stored.input_value(), "batch/cat.png");
    assert!(sim.input_dir().join("batch/cat.png").is_file());
    submit(&client(&sim), &load_prompt(&stored.input_value()))
        .await
        .expect("the server finds the uploaded file");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_collision_is_renamed_and_the_returned_name_is_the_one_used() {
    let sim = start_sim_with(fast()).await;
    std::fs::write(sim.input_dir().join("cat.png"), picture(8, 8, 99)).expect("theirs");
    let dir = tempfile::tempdir().expect("dir");
    let ours = write(dir.path(), "cat.png", &picture(8, 8, 1));
    let client = client(&sim);
    let mut workflow = load_prompt("cat.png");
    let wf = Workflow::from_value(Value::Object(workflow.clone()), "w.json").expect("workflow");
    let info = catalog(&client).await;
    let arg = InputArg::parse(&format!("Photo={}", ours.display()), false).expect("arg");
    let resolved = arg.resolve(&wf, Some(&info)).expect("resolved");
    assert_eq!(
        (resolved.node.as_str(), resolved.input.as_str()),
        ("10", "image")
    );
    let jobs = vec![vec![resolved.wanted(0).expect("one file")]];
    let plan = Plan::from_disk(&workflow, Some(&info), &jobs).expect("plan");
    let stored = within(upload::upload_all(&client, &plan, |_| {}))
        .await
        .expect("uploads");
    assert_eq!(stored[0].name, "cat (1).png");
    assert_eq!(plan.apply(0, &mut workflow, &stored), 1);
    assert_eq!(workflow["10"]["inputs"]["image"], "cat (1).png");
    assert_eq!(
        std::fs::read(sim.input_dir().join("cat (1).png")).expect("ours"),
        std::fs::read(&ours).expect("local")
    );
    assert_eq!(
        std::fs::read(sim.input_dir().join("cat.png")).expect("theirs"),
        picture(8, 8, 99),
        "overwrite=false leaves the server's file alone"
    );
    // The same bytes again: the server keeps the name it gave them.
    let again = within(client.upload(UploadKind::Image, &ours, "", |_, _| {}))
        .await
        .expect("again");
    assert_eq!(again.name, "cat (1).png");
    // And its catalogue lists the new file, as ComfyUI re-lists its input folder.
    let listed = catalog(&client).await;
    let choices = match &listed.get("LoadImage").expect("class").inputs[0].kind {
        comfy_tui::comfy::object_info::InputType::Combo(combo) => combo.choices.clone(),
        other => panic!("not a combo: {other:?}"),
    };
    assert_eq!(choices, [json!("cat (1).png"), json!("cat.png")]);
    submit(&client, &workflow).await.expect("accepted");
    sim.shutdown().await;
}

/// A mask picture: transparent on its left half.
fn mask(w: u32, h: u32) -> Vec<u8> {
    let pixels = image::RgbaImage::from_fn(w, h, |x, _| {
        image::Rgba([0, 0, 0, if x < w / 2 { 0 } else { 255 }])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(pixels)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}

#[tokio::test]
async fn a_mask_goes_onto_the_uploaded_picture_with_original_ref() {
    let sim = start_sim_with(fast()).await;
    let client = client(&sim);
    let dir = tempfile::tempdir().expect("dir");
    let photo = write(dir.path(), "photo.png", &picture(16, 8, 3));
    let mask_path = write(dir.path(), "mask.png", &mask(16, 8));
    let mut prompt = load_prompt("example.png");
    let wf = Workflow::from_value(Value::Object(prompt.clone()), "w.json").expect("workflow");
    let info = catalog(&client).await;
    let image = InputArg::parse(&format!("10={}", photo.display()), false)
        .and_then(|a| a.resolve(&wf, Some(&info)))
        .expect("image");
    let masked = InputArg::parse(&format!("10.image={}", mask_path.display()), true)
        .and_then(|a| a.resolve(&wf, Some(&info)))
        .expect("mask");
    assert_eq!(masked.upload_as, UploadAs::Mask);
    let jobs = vec![vec![
        image.wanted(0).expect("image"),
        masked.wanted(0).expect("mask"),
    ]];
    let plan = Plan::from_disk(&prompt, Some(&info), &jobs).expect("plan");
    assert_eq!(plan.uploads.len(), 2);
    assert!(matches!(plan.uploads[1].kind, PlannedKind::Mask { .. }));
    let stored = within(upload::upload_all(&client, &plan, |_| {}))
        .await
        .expect("uploads");
    assert_eq!(
        stored.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["photo.png", "mask.png"]
    );
    let sent = requests_to(&sim, "POST", "/upload/mask");
    assert_eq!(sent.len(), 1, "one mask upload");
    plan.apply(0, &mut prompt, &stored);
    assert_eq!(
        prompt["10"]["inputs"]["image"], "mask.png",
        "the input takes the mask"
    );

    // What the server stored: the photo's colours with the mask's alpha.
    let composed = image::open(sim.input_dir().join("mask.png"))
        .expect("composed")
        .to_rgba8();
    let original = image::load_from_memory(&picture(16, 8, 3))
        .expect("photo")
        .to_rgba8();
    assert_eq!(composed.dimensions(), (16, 8));
    for (x, y, pixel) in composed.enumerate_pixels() {
        let want = original.get_pixel(x, y);
        assert_eq!(&pixel.0[..3], &want.0[..3], "colour at {x},{y}");
        assert_eq!(pixel.0[3], if x < 8 { 0 } else { 255 }, "alpha at {x},{y}");
    }
    submit(&client, &prompt).await.expect("accepted");

    // The route requires the reference (a client that forgets it learns at once).
    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(mask(16, 8)).file_name("m2.png"),
    );
    let answer = within(
        reqwest::Client::new()
            .post(format!("{}/api/upload/mask", sim.url()))
            .multipart(form)
            .send(),
    )
    .await
    .expect("answer");
    assert_eq!(answer.status(), 500);
    assert!(!sim.input_dir().join("m2.png").exists());
    // ComfyUI's quirk: a reference to no file answers 200 and writes nothing.
    let no_original = UploadKind::Mask {
        original: Uploaded::from_input_value("nowhere.png"),
    };
    let other_mask = write(dir.path(), "m3.png", &mask(16, 8));
    let answered = within(client.upload(no_original, &other_mask, "", |_, _| {}))
        .await
        .expect("a 200");
    assert_eq!(answered.name, "m3.png");
    assert!(!sim.input_dir().join("m3.png").exists());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_load_image_mask_node_takes_its_mask_onto_the_listed_picture() {
    let sim = start_sim_with(fast()).await;
    std::fs::write(sim.input_dir().join("face.png"), picture(16, 8, 5)).expect("listed");
    let client = client(&sim);
    let dir = tempfile::tempdir().expect("dir");
    let mask_path = write(dir.path(), "hole.png", &mask(16, 8));
    let mut prompt: Map<String, Value> = json!({
        "1": {"class_type": "LoadImageMask", "inputs": {"image": "face.png", "channel": "alpha"}},
        "2": {"class_type": "LoadImage", "inputs": {"image": "face.png"}},
        "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
    })
    .as_object()
    .cloned()
    .expect("object");
    let wf = Workflow::from_value(Value::Object(prompt.clone()), "w.json").expect("workflow");
    let info = catalog(&client).await;
    let resolved = InputArg::parse(&format!("LoadImageMask={}", mask_path.display()), false)
        .and_then(|a| a.resolve(&wf, Some(&info)))
        .expect("resolved");
    let plan = Plan::from_disk(
        &prompt,
        Some(&info),
        &[vec![resolved.wanted(0).expect("file")]],
    )
    .expect("plan");
    let stored = within(upload::upload_all(&client, &plan, |_| {}))
        .await
        .expect("uploads");
    assert_eq!(requests_to(&sim, "POST", "/upload/mask").len(), 1);
    plan.apply(0, &mut prompt, &stored);
    assert_eq!(prompt["1"]["inputs"]["image"], "hole.png");
    let composed = image::open(sim.input_dir().join("hole.png"))
        .expect("composed")
        .to_rgba8();
    assert_eq!(composed.get_pixel(0, 0).0[3], 0);
    assert_eq!(composed.get_pixel(15, 0).0[3], 255);
    submit(&client, &prompt).await.expect("accepted");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_folder_gives_one_job_per_picture_and_equal_content_uploads_once() {
    let sim = start_sim_with(fast()).await;
    let client = client(&sim);
    let dir = tempfile::tempdir().expect("dir");
    let shots = dir.path().join("shots");
    std::fs::create_dir(&shots).expect("folder");
    write(&shots, "c.png", &picture(8, 8, 1));
    write(&shots, "a.png", &picture(8, 8, 2));
    write(&shots, "b.png", &picture(8, 8, 1));
    write(&shots, "notes.txt", b"not a picture");
    let base = load_prompt("example.png");
    let wf = Workflow::from_value(Value::Object(base.clone()), "w.json").expect("workflow");
    let info = catalog(&client).await;
    let resolved = InputArg::parse(&format!("10={}", shots.display()), false)
        .and_then(|a| a.resolve(&wf, Some(&info)))
        .expect("folder");
    let names: Vec<String> = resolved
        .files
        .iter()
        .map(|f| f.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.png", "b.png", "c.png"], "pictures only, by name");
    let globbed = InputArg::parse(&format!("10={}/[bc].png", shots.display()), false)
        .and_then(|a| a.resolve(&wf, Some(&info)))
        .expect("glob");
    assert_eq!(globbed.files, resolved.files[1..]);

    let jobs: Vec<Vec<Wanted>> = (0..resolved.files.len())
        .map(|i| vec![resolved.wanted(i).expect("file")])
        .collect();
    let plan = Plan::from_disk(&base, Some(&info), &jobs).expect("plan");
    assert_eq!(plan.uploads.len(), 2, "b.png and c.png have the same bytes");
    let mut progress = Vec::new();
    let stored = within(upload::upload_all(&client, &plan, |p| {
        progress.push((p.index, p.count, p.sent, p.total));
    }))
    .await
    .expect("uploads");
    assert_eq!(requests_to(&sim, "POST", "/upload/image").len(), 2);
    assert!(progress.contains(&(1, 2, plan.uploads[1].size, plan.uploads[1].size)));
    let values: Vec<Value> = (0..jobs.len())
        .map(|job| {
            let mut prompt = base.clone();
            plan.apply(job, &mut prompt, &stored);
            prompt["10"]["inputs"]["image"].clone()
        })
        .collect();
    assert_eq!(values, [json!("a.png"), json!("b.png"), json!("b.png")]);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_local_file_the_server_does_not_list_is_found_and_a_listed_name_left_alone() {
    let sim = start_sim_with(fast()).await;
    let client = client(&sim);
    std::fs::write(sim.input_dir().join("listed.png"), picture(8, 8, 7)).expect("listed");
    let cwd = tempfile::tempdir().expect("cwd");
    write(cwd.path(), "cat.png", &picture(8, 8, 4));
    // A local file of the listed name too: the workflow meant the server's.
    write(cwd.path(), "listed.png", &picture(8, 8, 8));
    let mut prompt = load_prompt("cat.png");
    prompt.insert(
        "11".into(),
        json!({"class_type": "LoadImage", "inputs": {"image": "listed.png"}}),
    );
    prompt.insert(
        "12".into(),
        json!({"class_type": "PreviewImage", "inputs": {"images": ["11", 0]}}),
    );
    let info = catalog(&client).await;
    let found = upload::auto::detect(&prompt, &info, cwd.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].line(),
        "uploading ./cat.png for node 10 (LoadImage)"
    );
    assert_eq!(found[0].path, cwd.path().join("cat.png"));
    let plan = Plan::from_disk(&prompt, Some(&info), &[vec![found[0].wanted()]]).expect("plan");
    let stored = within(upload::upload_all(&client, &plan, |_| {}))
        .await
        .expect("uploads");
    plan.apply(0, &mut prompt, &stored);
    assert_eq!(prompt["10"]["inputs"]["image"], "cat.png");
    assert_eq!(prompt["11"]["inputs"]["image"], "listed.png");
    assert_eq!(
        std::fs::read(sim.input_dir().join("listed.png")).expect("theirs"),
        picture(8, 8, 7)
    );
    submit(&client, &prompt).await.expect("accepted");
    // Once uploaded it is listed, so nothing is found the next time.
    let info = catalog(&client).await;
    assert!(upload::auto::detect(&prompt, &info, cwd.path()).is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_missing_file_is_a_usage_error_naming_it_and_nothing_is_sent() {
    let sim = start_sim_with(fast()).await;
    let prompt = load_prompt("example.png");
    let wf = Workflow::from_value(Value::Object(prompt.clone()), "w.json").expect("workflow");
    let dir = tempfile::tempdir().expect("dir");
    let gone = dir.path().join("gone.png");
    let spec = format!("10={}", gone.display());
    let err = InputArg::parse(&spec, false)
        .and_then(|a| a.resolve(&wf, None))
        .expect_err("missing");
    assert_eq!(
        err.to_string(),
        format!("--input {spec}: no such file or folder: {}", gone.display())
    );
    assert_eq!(err.exit_code(), 2);
    let err = InputArg::parse(&format!("10={}/*.png", dir.path().display()), false)
        .and_then(|a| a.resolve(&wf, None))
        .expect_err("no match");
    assert!(matches!(err, InputError::NoMatch { .. }), "{err}");
    // A file that goes away after the check is named by the upload.
    let wanted = Wanted {
        node: "10".into(),
        input: "image".into(),
        path: gone.clone(),
        upload_as: UploadAs::Image,
    };
    let err = Plan::from_disk(&prompt, None, &[vec![wanted]]).expect_err("unreadable");
    assert!(err.to_string().contains("gone.png"), "{err}");
    let err = within(client(&sim).upload(UploadKind::Image, &gone, "", |_, _| {}))
        .await
        .expect_err("no file");
    assert!(matches!(err, HttpError::File { .. }), "{err}");
    assert!(err.to_string().contains("gone.png"), "{err}");
    assert!(
        requests_to(&sim, "POST", "/upload/image").is_empty(),
        "nothing was sent"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_upload_is_a_rejection_naming_the_file() {
    let sim = start_sim_with(fast()).await;
    let client = client(&sim);
    let dir = tempfile::tempdir().expect("dir");
    let path = write(dir.path(), "cat.png", &picture(8, 8, 1));
    let plan = Plan::from_disk(
        &load_prompt("x.png"),
        None,
        &[vec![Wanted {
            node: "10".into(),
            input: "image".into(),
            path: path.clone(),
            upload_as: UploadAs::Image,
        }]],
    )
    .expect("plan");

    sim.faults().update(|f| f.upload_status = Some(400));
    let err = within(upload::upload_all(&client, &plan, |_| {}))
        .await
        .expect_err("refused");
    assert_eq!(err.exit_code(), 3);
    assert_eq!(err.path, path);
    assert_eq!(
        err.to_string(),
        format!(
            "the server refused the upload of {} (HTTP 400 Bad Request)",
            path.display()
        )
    );
    match &err.source {
        HttpError::UploadRefused { file, rejection } => {
            assert_eq!(file, &path.display().to_string());
            assert_eq!(rejection.http_status, 400);
        }
        other => panic!("not a refusal: {other:?}"),
    }

    // A body over the server's limit: 413, also a refusal.
    sim.faults().update(|f| {
        f.upload_status = None;
        f.max_body_bytes = Some(64);
    });
    let err = within(upload::upload_all(&client, &plan, |_| {}))
        .await
        .expect_err("too large");
    assert_eq!(err.exit_code(), 3);
    let text = err.to_string();
    assert!(
        text.contains("upload of") && text.contains("cat.png") && text.contains("HTTP 413"),
        "{text}"
    );
    assert!(sim.input_dir().read_dir().expect("dir").next().is_none());

    // A server that is gone is not a refusal.
    sim.shutdown().await;
    let err = within(upload::upload_all(&client, &plan, |_| {}))
        .await
        .expect_err("gone");
    assert_eq!(err.exit_code(), 4, "{err}");
}
