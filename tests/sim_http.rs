//! The simulator's HTTP routes and run behaviour: validation errors, /view, queue,
//! interrupts, caching, uploads, routing of messages between clients.

mod sim_support;

use std::time::Duration;

use comfy_tui::sim::SimConfig;
use serde_json::{Value, json};
use sim_support::*;

fn recorded(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

#[tokio::test]
async fn validation_errors_have_the_recorded_shapes() {
    let sim = start(fast()).await;
    let invalid = json!({"prompt": {
        "1": {"class_type": "ProbeSteps", "inputs": {"steps": 0, "step_seconds": 0.1, "width": 64, "height": 64, "fail_at_step": 0, "send_previews": true}, "_meta": {"title": "Probe Steps (invalid)"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "invalid"}, "_meta": {"title": "Save Image"}},
    }, "client_id": "c"});
    assert_eq!(
        post_json(&sim, "/prompt", &invalid).await,
        (400, recorded("prompt_post_400_node_errors.json"))
    );
    let unknown = json!({"prompt": {"1": {"class_type": "NoSuchNodeType", "inputs": {}}, "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "invalid"}}}});
    assert_eq!(
        post_json(&sim, "/prompt", &unknown).await,
        (400, recorded("prompt_post_400_unknown_class.json"))
    );
    let no_outputs = json!({"prompt": {"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}}}});
    assert_eq!(
        post_json(&sim, "/api/prompt", &no_outputs).await,
        (400, recorded("prompt_post_400_no_outputs.json"))
    );
    assert_eq!(
        post_json(&sim, "/prompt", &json!({"client_id": "c"})).await,
        (400, recorded("prompt_post_400_no_prompt.json"))
    );

    let (status, bad_id) = post_json(
        &sim,
        "/prompt",
        &json!({"prompt": empty_image_prompt("x", 0), "prompt_id": "NOT-A-UUID"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(bad_id["error"]["type"], "invalid_prompt_id");
    assert_eq!(
        shape(&bad_id),
        shape(&recorded("prompt_post_400_no_outputs.json"))
    );

    let mut big = empty_image_prompt("x", 0);
    big["1"]["inputs"]["width"] = json!(99999);
    big["2"]["inputs"]["images"] = json!(["7", 0]);
    let (status, e) = post_json(&sim, "/prompt", &json!({"prompt": big})).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["type"], "prompt_outputs_failed_validation");
    assert_eq!(
        e["node_errors"]["2"]["errors"][0]["type"],
        "exception_during_inner_validation"
    );
    assert_eq!(e["node_errors"]["2"]["class_type"], "SaveImage");
    let (_, e) = post_json(&sim, "/prompt", &json!({"prompt": {"1": big["1"].clone(), "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}})).await;
    let types: Vec<&Value> = e["node_errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| &n["errors"][0]["type"])
        .collect();
    // Inner nodes are recorded first, as in ComfyUI.
    assert_eq!(
        types,
        [
            &json!("value_bigger_than_max"),
            &json!("required_input_missing")
        ]
    );

    // Nothing was queued, and a client-chosen canonical id is adopted.
    assert_eq!(
        get_json(&sim, "/queue").await.1,
        json!({"queue_running": [], "queue_pending": []})
    );
    let id = "0d9c4f4e-6a3b-4c2e-9a51-2f0e8f1b7a10";
    let (status, ok) = post_json(
        &sim,
        "/prompt",
        &json!({"prompt": empty_image_prompt("x", 0), "prompt_id": id}),
    )
    .await;
    assert_eq!((status, ok["prompt_id"].as_str()), (200, Some(id)));
    sim.shutdown().await;
}

#[tokio::test]
async fn view_serves_saved_files_and_refuses_bad_paths() {
    let sim = start(fast()).await;
    let mut ws = Ws::connect(&sim, Some("viewer")).await;
    let id = queue_prompt(
        &sim,
        &empty_image_prompt("shots/fast", 0x3366cc),
        Some("viewer"),
    )
    .await;
    let frames = ws.until_done(&id).await;
    let executed = frames
        .iter()
        .find(|f| f.kind() == "executed")
        .unwrap()
        .data()
        .clone();
    assert_eq!(
        executed["output"],
        json!({"images": [{"filename": "fast_00001_.png", "subfolder": "shots", "type": "output"}]})
    );
    let on_disk = std::fs::read(sim.output_dir().join("shots/fast_00001_.png")).unwrap();

    let get = |q: &str| {
        let url = format!("{}/api/view?{q}", sim.url());
        async move { within(http().get(url).send()).await.unwrap() }
    };
    let r = get("filename=fast_00001_.png&subfolder=shots&type=output").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(
        r.headers()["content-length"],
        on_disk.len().to_string().as_str()
    );
    assert_eq!(within(r.bytes()).await.unwrap().to_vec(), on_disk);
    assert_eq!(get("filename=missing.png&type=output").await.status(), 404);
    assert_eq!(
        get("filename=..%2Fsecret.png&type=output").await.status(),
        400
    );
    assert_eq!(get("filename=%2Fetc%2Fpasswd").await.status(), 400);
    assert_eq!(
        get("filename=fast_00001_.png&subfolder=..%2F..&type=output")
            .await
            .status(),
        403
    );
    assert_eq!(
        get("filename=fast_00001_.png&subfolder=shots&type=bogus")
            .await
            .status(),
        400
    );
    let jpeg = get("filename=fast_00001_.png&subfolder=shots&preview=jpeg;50").await;
    assert_eq!(jpeg.headers()["content-type"], "image/jpeg");

    // The history entry names the same file.
    let (_, h) = get_json(&sim, &format!("/history/{id}")).await;
    assert_eq!(h[&id]["outputs"]["2"], executed["output"]);
    assert_eq!(h[&id]["status"]["completed"], true);
    sim.shutdown().await;
}

#[tokio::test]
async fn identical_prompt_is_served_from_cache() {
    let sim = start(fast()).await;
    let mut ws = Ws::connect(&sim, Some("cache")).await;
    let first = queue_prompt(&sim, &empty_image_prompt("c", 1), Some("cache")).await;
    let a = ws.until_done(&first).await;
    let second = queue_prompt(&sim, &empty_image_prompt("c", 1), Some("cache")).await;
    let b = ws.until_done(&second).await;
    let exec =
        |fs: &[Frame]| fs.iter().find(|f| f.kind() == "executed").unwrap().data()["output"].clone();
    assert_eq!(exec(&a), exec(&b));
    let cached = b.iter().find(|f| f.kind() == "execution_cached").unwrap();
    assert_eq!(cached.data()["nodes"], json!(["1", "2"]));
    assert!(
        !b.iter()
            .any(|f| f.kind() == "executing" && f.data()["node"].is_string())
    );
    assert_eq!(
        std::fs::read_dir(sim.output_dir()).unwrap().count(),
        1,
        "no new file"
    );
    // A changed upstream input re-runs both nodes.
    let third = queue_prompt(&sim, &empty_image_prompt("c", 2), Some("cache")).await;
    let c = ws.until_done(&third).await;
    assert_eq!(
        c.iter()
            .find(|f| f.kind() == "execution_cached")
            .unwrap()
            .data()["nodes"],
        json!([])
    );
    assert_eq!(exec(&c)["images"][0]["filename"], "c_00002_.png");

    // History is oldest first; max_items keeps the newest, offset skips the oldest.
    let keys = |v: Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(get_json(&sim, "/history").await.1),
        [first.as_str(), &second, &third]
    );
    assert_eq!(
        keys(get_json(&sim, "/history?max_items=1").await.1),
        [third.as_str()]
    );
    assert_eq!(
        keys(get_json(&sim, "/history?offset=1&max_items=1").await.1),
        [second.as_str()]
    );
    post_json(&sim, "/history", &json!({"delete": [second]})).await;
    assert_eq!(
        keys(get_json(&sim, "/history").await.1),
        [first.as_str(), &third]
    );
    post_json(&sim, "/history", &json!({"clear": true})).await;
    assert_eq!(get_json(&sim, "/history").await.1, json!({}));
    sim.shutdown().await;
}

#[tokio::test]
async fn interrupt_targets_only_the_running_prompt() {
    let sim = start(fast()).await;
    let mut ws = Ws::connect(&sim, Some("intr")).await;
    let id = queue_prompt(&sim, &probe_prompt(100_000, 7, false), Some("intr")).await;
    ws.until_kind("progress").await;
    let (status, _) = post_json(
        &sim,
        "/interrupt",
        &json!({"prompt_id": "00000000-0000-0000-0000-000000000000"}),
    )
    .await;
    assert_eq!(status, 200);
    // Still running: more progress arrives.
    for _ in 0..3 {
        ws.until_kind("progress").await;
    }
    post_json(&sim, "/api/interrupt", &json!({"prompt_id": id})).await;
    let tail = ws.until_done(&id).await;
    let kinds: Vec<String> = tail
        .iter()
        .map(Frame::kind)
        .filter(|k| !k.starts_with("progress"))
        .collect();
    assert_eq!(kinds, ["execution_interrupted", "status", "executing"]);
    let intr = tail
        .iter()
        .find(|f| f.kind() == "execution_interrupted")
        .unwrap()
        .data();
    assert_eq!(intr["node_id"], "1");
    assert_eq!(intr["node_type"], "ProbeSteps");
    let (_, h) = get_json(&sim, &format!("/history/{id}")).await;
    let status = &h[&id]["status"];
    assert_eq!(
        (status["status_str"].as_str(), status["completed"].as_bool()),
        (Some("error"), Some(false))
    );
    assert_eq!(
        status["messages"].as_array().unwrap().last().unwrap()[0],
        "execution_interrupted"
    );
    // A global interrupt while idle has no lasting effect.
    let r = within(http().post(format!("{}/interrupt", sim.url())).send())
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let next = queue_prompt(&sim, &probe_prompt(3, 1, false), Some("intr")).await;
    assert!(
        ws.until_done(&next)
            .await
            .iter()
            .any(|f| f.kind() == "execution_success")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn queue_shows_deletes_and_clears_pending_prompts() {
    let sim = start(fast()).await;
    let mut ws = Ws::connect(&sim, Some("q")).await;
    ws.next().await;
    let a = queue_prompt(&sim, &probe_prompt(100_000, 1, false), Some("q")).await;
    ws.until_kind("progress").await;
    let b = queue_prompt(&sim, &empty_image_prompt("b", 0), Some("q")).await;
    let (_, front) = post_json(
        &sim,
        "/prompt",
        &json!({"prompt": empty_image_prompt("c", 0), "front": true, "client_id": "q"}),
    )
    .await;
    assert!(front["number"].as_i64().unwrap() < 0);
    let (_, q) = get_json(&sim, "/queue").await;
    assert_eq!(q["queue_running"][0][1], a.as_str());
    assert_eq!(q["queue_pending"].as_array().unwrap().len(), 2);
    let recorded = recorded("queue_running_and_pending.json");
    assert_eq!(
        shape(&q["queue_running"]),
        shape(&recorded["queue_running"])
    );
    assert_eq!(
        get_json(&sim, "/prompt").await.1,
        json!({"exec_info": {"queue_remaining": 3}})
    );

    // Deleting one of two pending prompts: one status; deleting the last: two.
    post_json(&sim, "/queue", &json!({"delete": [b]})).await;
    let statuses = |fs: &[Frame]| fs.iter().filter(|f| f.kind() == "status").count();
    let mut seen = ws.until_kind("status").await;
    post_json(&sim, "/queue", &json!({"delete": [front["prompt_id"]]})).await;
    seen.extend(ws.until_kind("status").await);
    seen.extend(ws.until_kind("status").await);
    assert_eq!(statuses(&seen), 3);
    let (_, q) = get_json(&sim, "/queue").await;
    assert_eq!(q["queue_pending"], json!([]));
    assert_eq!(get_json(&sim, &format!("/history/{b}")).await.1, json!({}));

    // The running prompt cannot be deleted, only interrupted.
    post_json(&sim, "/queue", &json!({"delete": [a]})).await;
    assert_eq!(
        get_json(&sim, "/queue").await.1["queue_running"][0][1],
        a.as_str()
    );
    queue_prompt(&sim, &empty_image_prompt("d", 0), Some("q")).await;
    post_json(&sim, "/queue", &json!({"clear": true})).await;
    assert_eq!(get_json(&sim, "/queue").await.1["queue_pending"], json!([]));
    within(http().post(format!("{}/interrupt", sim.url())).send())
        .await
        .unwrap();
    ws.until_done(&a).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn read_only_routes_answer_like_comfyui() {
    let sim = start(fast()).await;
    for prefix in ["", "/api"] {
        let (s, stats) = get_json(&sim, &format!("{prefix}/system_stats")).await;
        assert_eq!(s, 200);
        assert_eq!(stats["system"]["comfyui_version"], "0.3.64");
        assert_eq!(
            get_json(&sim, &format!("{prefix}/features")).await.1,
            json!({"supports_preview_metadata": true, "max_upload_size": 104857600})
        );
        assert_eq!(
            get_json(&sim, &format!("{prefix}/embeddings")).await.1,
            json!(comfy_tui::sim::FAKE_EMBEDDINGS)
        );
        assert_eq!(
            get_json(&sim, &format!("{prefix}/models")).await.1[0],
            "checkpoints"
        );
        assert_eq!(
            get_json(&sim, &format!("{prefix}/models/checkpoints"))
                .await
                .1[0],
            "sd15-demo.safetensors"
        );
        assert_eq!(
            get_json(&sim, &format!("{prefix}/models/no_such_folder"))
                .await
                .0,
            404
        );
        assert_eq!(
            get_json(&sim, &format!("{prefix}/object_info/NoSuchNodeType"))
                .await
                .1,
            json!({})
        );
        let (_, ks) = get_json(&sim, &format!("{prefix}/object_info/KSampler")).await;
        assert_eq!(
            ks["KSampler"]["input"]["required"]["seed"][1]["max"],
            json!(u64::MAX)
        );
        assert_eq!(
            get_json(&sim, &format!("{prefix}/history?max_items=2"))
                .await
                .1,
            json!({})
        );
        assert_eq!(
            get_json(&sim, &format!("{prefix}/history/nope")).await.1,
            json!({})
        );
    }
    let (_, all) = get_json(&sim, "/object_info").await;
    assert!(all.as_object().unwrap().len() >= 16);
    let r = within(
        http()
            .post(format!("{}/prompt", sim.url()))
            .body("{not json")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 500);
    // Every request was captured, in order.
    let reqs = sim.requests();
    assert_eq!(reqs[0].path, "/system_stats");
    assert_eq!(reqs.last().unwrap().method, "POST");
    assert!(
        reqs.iter()
            .any(|r| r.query.as_deref() == Some("max_items=2"))
    );
    sim.shutdown().await;
}

fn multipart(name: &str, bytes: &[u8], extra: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "simtestboundary123";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n");
    for (k, v) in extra {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn upload_then_load_image() {
    let sim = start(fast()).await;
    let upload = |name: &'static str, bytes: Vec<u8>, extra: Vec<(&'static str, &'static str)>| {
        let url = format!("{}/upload/image", sim.url());
        async move {
            let (ct, body) = multipart(name, &bytes, &extra);
            let r = within(
                http()
                    .post(url)
                    .header("content-type", ct)
                    .body(body)
                    .send(),
            )
            .await
            .unwrap();
            let status = r.status().as_u16();
            (
                status,
                serde_json::from_slice::<Value>(&within(r.bytes()).await.unwrap())
                    .unwrap_or(Value::Null),
            )
        }
    };
    // A tiny valid PNG made by the simulator itself (via a run's output).
    let mut ws = Ws::connect(&sim, Some("up")).await;
    let id = queue_prompt(&sim, &empty_image_prompt("src", 0xff0000), Some("up")).await;
    ws.until_done(&id).await;
    let bytes = std::fs::read(sim.output_dir().join("src_00001_.png")).unwrap();
    assert_eq!(
        upload("in.png", bytes.clone(), vec![("type", "input")]).await,
        (
            200,
            json!({"name": "in.png", "subfolder": "", "type": "input"})
        )
    );
    assert_eq!(
        upload("in.png", bytes.clone(), vec![]).await.1["name"],
        "in.png"
    );
    assert_eq!(
        upload("in.png", b"other".to_vec(), vec![]).await.1["name"],
        "in (1).png"
    );
    assert_eq!(
        upload("in.png", b"x".to_vec(), vec![("type", "bogus")])
            .await
            .0,
        500
    );
    let r = within(
        http()
            .post(format!("{}/upload/image", sim.url()))
            .header("content-type", "multipart/form-data; boundary=zz")
            .body("--zz--\r\n")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let (_, info) = get_json(&sim, "/object_info/LoadImage").await;
    assert_eq!(
        info["LoadImage"]["input"]["required"]["image"][0],
        json!(["in (1).png", "in.png"])
    );

    let prompt = json!({
        "1": {"class_type": "LoadImage", "inputs": {"image": "in.png"}},
        "2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "nearest-exact", "width": 32, "height": 0, "crop": "disabled"}},
        "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}},
    });
    let id = queue_prompt(&sim, &prompt, Some("up")).await;
    let frames = ws.until_done(&id).await;
    let out = &frames
        .iter()
        .find(|f| f.kind() == "executed")
        .unwrap()
        .data()["output"]["images"][0];
    assert_eq!(out["type"], "temp");
    let name = out["filename"].as_str().unwrap();
    assert!(
        name.starts_with("ComfyUI_temp_") && name.ends_with("_00001_.png"),
        "{name}"
    );
    let file = std::fs::read(sim.temp_dir().join(name)).unwrap();
    assert_eq!(
        image_size(&file),
        (32, 16),
        "height 0 keeps the aspect ratio"
    );
    let (status, _) = post_json(&sim, "/prompt", &json!({"prompt": {"1": {"class_type": "LoadImage", "inputs": {"image": "nope.png"}}, "3": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}})).await;
    assert_eq!(status, 400);
    sim.shutdown().await;
}

/// Width and height from a PNG header.
fn image_size(png: &[u8]) -> (u32, u32) {
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    (w, h)
}

fn txt2img() -> Value {
    json!({
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15-demo.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 96, "height": 64, "batch_size": 2}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 6, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "txt2img", "images": ["8", 0]}},
    })
}

#[tokio::test]
async fn ksampler_txt2img_runs_with_previews() {
    let sim = start(fast()).await;
    let mut ws = Ws::connect(&sim, Some("t2i")).await;
    ws.next().await;
    ws.send_feature_flags().await;
    ws.until_kind("feature_flags").await;
    let body =
        json!({"prompt": txt2img(), "client_id": "t2i", "extra_data": {"preview_method": "auto"}});
    let (_, resp) = post_json(&sim, "/prompt", &body).await;
    let id = resp["prompt_id"].as_str().unwrap();
    let frames = ws.until_done(id).await;
    let order: Vec<&str> = frame_texts(&frames)
        .filter(|m| m["type"] == "executing")
        .filter_map(|m| m["data"]["node"].as_str())
        .collect();
    // ComfyUI's staging and pick rules: the loader first (it is two links from the
    // output), then the rest in staging order.
    assert_eq!(order, ["4", "5", "7", "6", "3", "8", "9"]);
    let previews: Vec<&Frame> = frames.iter().filter(|f| f.kind() == "bin4").collect();
    assert_eq!(previews.len(), 6);
    let progress: Vec<u64> = frame_texts(&frames)
        .filter(|m| m["type"] == "progress")
        .map(|m| m["data"]["value"].as_u64().unwrap())
        .collect();
    assert_eq!(progress, [1, 2, 3, 4, 5, 6]);
    let out = &frames
        .iter()
        .find(|f| f.kind() == "executed")
        .unwrap()
        .data()["output"]["images"];
    assert_eq!(out.as_array().unwrap().len(), 2);
    let file = std::fs::read(sim.output_dir().join("txt2img_00002_.png")).unwrap();
    assert_eq!(image_size(&file), (96, 64));

    // Without feature flags and without a preview method: no previews; with one: type 1.
    let mut plain = Ws::connect(&sim, Some("plain")).await;
    let mut p = txt2img();
    p["3"]["inputs"]["seed"] = json!(43);
    let id = queue_prompt(&sim, &p, Some("plain")).await;
    assert!(
        !plain
            .until_done(&id)
            .await
            .iter()
            .any(|f| f.kind().starts_with("bin"))
    );
    p["3"]["inputs"]["seed"] = json!(44);
    let (_, resp) = post_json(
        &sim,
        "/prompt",
        &json!({"prompt": p, "client_id": "plain", "extra_data": {"preview_method": "latent2rgb"}}),
    )
    .await;
    let frames = plain.until_done(resp["prompt_id"].as_str().unwrap()).await;
    let kinds: Vec<String> = frames.iter().map(Frame::kind).collect();
    let first = kinds.iter().position(|k| k == "progress").unwrap();
    assert_eq!(kinds[first + 1], "bin1");
    sim.shutdown().await;
}

#[tokio::test]
async fn messages_reach_only_their_client_and_broadcasts_reach_all() {
    let sim = start(fast()).await;
    let mut owner = Ws::connect(&sim, Some("owner")).await;
    let mut other = Ws::connect(&sim, Some("other")).await;
    let mut anon = Ws::connect(&sim, None).await;
    let hello = anon.next().await.unwrap();
    let sid = hello.data()["sid"].as_str().unwrap().to_owned();
    assert!(
        sid.len() == 32 && sid.chars().all(|c| c.is_ascii_hexdigit()),
        "{sid}"
    );
    other.next().await;

    let id = queue_prompt(&sim, &probe_prompt(3, 5, true), Some("owner")).await;
    owner.until_done(&id).await;
    // The other client saw only status broadcasts.
    let mut other_kinds = Vec::new();
    while let Ok(Some(f)) = other.next_within(Duration::from_millis(100)).await {
        other_kinds.push(f.kind());
    }
    assert!(
        !other_kinds.is_empty() && other_kinds.iter().all(|k| k == "status"),
        "{other_kinds:?}"
    );

    // Without client id: progress, progress_state and type 1 previews are broadcast, the
    // lifecycle messages are not sent at all.
    let id = queue_prompt(&sim, &probe_prompt(3, 6, true), None).await;
    let mut kinds = Vec::new();
    loop {
        let f = other.next().await.unwrap();
        kinds.push(f.kind());
        if f.kind() == "status"
            && f.data()["status"]["exec_info"]["queue_remaining"] == 0
            && kinds.contains(&"progress".to_owned())
        {
            break;
        }
    }
    assert!(kinds.contains(&"progress_state".to_owned()) && kinds.contains(&"bin1".to_owned()));
    assert!(
        !kinds
            .iter()
            .any(|k| k.starts_with("execution") || k == "executing" || k == "executed"),
        "{kinds:?}"
    );
    assert_eq!(
        get_json(&sim, &format!("/history/{id}")).await.1[&id]["status"]["status_str"],
        "success"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn feature_flags_only_count_as_first_message_and_reconnect_gets_executing() {
    let sim = start(SimConfig {
        step_delay: Duration::from_millis(5),
        ..fast()
    })
    .await;
    let mut late = Ws::connect(&sim, Some("late")).await;
    late.next().await;
    late.send_json(&json!({"type": "hello", "data": {}})).await;
    late.send_feature_flags().await;
    assert!(
        late.next_within(Duration::from_millis(150)).await.is_err(),
        "no reply to a late feature_flags"
    );

    let mut first = Ws::connect(&sim, Some("re")).await;
    first.next().await;
    let id = queue_prompt(&sim, &probe_prompt(60, 9, false), Some("re")).await;
    first.until_kind("progress").await;
    within(first.stream.close(None)).await.ok();
    drop(first);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut second = Ws::connect(&sim, Some("re")).await;
    let hello = second.next().await.unwrap();
    assert_eq!(hello.data()["sid"], "re");
    let again = second.next().await.unwrap();
    assert_eq!(
        again,
        Frame::Text(json!({"type": "executing", "data": {"node": "1"}}))
    );
    second.until_done(&id).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn interrupt_during_a_sleep_keeps_finished_outputs() {
    let sim = start(fast()).await;
    let mut ws = Ws::connect(&sim, Some("part")).await;
    let prompt = json!({
        "1": {"class_type": "ProbeSteps", "inputs": {"steps": 3, "step_seconds": 0.05, "seed": 21, "width": 64, "height": 64, "fail_at_step": 0, "send_previews": false}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "partial_first"}},
        "3": {"class_type": "ProbeSleep", "inputs": {"image": ["1", 0], "seconds": 60.0}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "partial_second"}},
    });
    let id = queue_prompt(&sim, &prompt, Some("part")).await;
    loop {
        let f = ws.next().await.unwrap();
        if f.kind() == "executing" && f.data()["node"] == "3" {
            break;
        }
    }
    post_json(&sim, "/interrupt", &json!({"prompt_id": id})).await;
    let tail = ws.until_done(&id).await;
    let intr = tail
        .iter()
        .find(|f| f.kind() == "execution_interrupted")
        .unwrap()
        .data();
    assert_eq!(intr["node_id"], "3");
    assert_eq!(intr["executed"], json!(["1", "2"]));
    let (_, h) = get_json(&sim, &format!("/history/{id}")).await;
    assert_eq!(
        h[&id]["outputs"]["2"]["images"][0]["filename"],
        "partial_first_00001_.png"
    );
    assert_eq!(h[&id]["outputs"].as_object().unwrap().len(), 1);

    // Without a client id, the interrupt is the one terminal message that is broadcast.
    let id = queue_prompt(
        &sim,
        &json!({"3": prompt["3"], "4": prompt["4"], "1": prompt["1"]}),
        None,
    )
    .await;
    let mut seen = Vec::new();
    loop {
        let f = ws.next().await.unwrap();
        if f.kind() == "progress_state" && f.data()["nodes"]["3"]["state"] == "running" {
            break;
        }
        seen.push(f.kind());
    }
    within(http().post(format!("{}/interrupt", sim.url())).send())
        .await
        .unwrap();
    let f = ws.until_kind("execution_interrupted").await;
    assert_eq!(f.last().unwrap().data()["prompt_id"], id.as_str());
    assert!(
        !seen
            .iter()
            .any(|k| k == "executing" || k == "execution_start")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn api_ws_alias_and_origin_check() {
    let sim = start(fast()).await;
    let (mut ws, _) = within(tokio_tungstenite::connect_async(format!(
        "ws://{}/api/ws?clientId=alias",
        sim.addr()
    )))
    .await
    .unwrap();
    use futures_util::StreamExt;
    let first = within(ws.next()).await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("\"sid\":\"alias\""));
    let r = within(
        http()
            .get(format!("{}/queue", sim.url()))
            .header("origin", "http://evil.example")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    let same = format!("http://{}", sim.addr());
    let r = within(
        http()
            .get(format!("{}/queue", sim.url()))
            .header("origin", same)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    sim.shutdown().await;
}
