//! Each fault knob of the simulator does what it says.

mod sim_support;

use std::time::{Duration, Instant};

use comfy_tui::sim::{self, FailNode, Faults, NodeMatch, SimConfig};
use serde_json::{Value, json};
use sim_support::*;

fn with_faults(faults: Faults) -> SimConfig {
    SimConfig { faults, ..fast() }
}

#[tokio::test]
async fn a_node_fails_at_the_chosen_step() {
    let sim = start(with_faults(Faults {
        fail_node: Some(FailNode {
            target: NodeMatch::Class("ProbeSteps".into()),
            at_step: 2,
        }),
        ..Faults::default()
    }))
    .await;
    let mut ws = Ws::connect(&sim, Some("f")).await;
    let id = queue_prompt(&sim, &probe_prompt(5, 1, false), Some("f")).await;
    let frames = ws.until_done(&id).await;
    let progress: Vec<&Value> = frame_texts(&frames)
        .filter(|m| m["type"] == "progress")
        .map(|m| &m["data"]["value"])
        .collect();
    assert_eq!(progress, [&json!(1)]);
    let err = frames
        .iter()
        .find(|f| f.kind() == "execution_error")
        .unwrap()
        .data();
    assert_eq!(err["node_id"], "1");
    assert_eq!(
        err["exception_message"],
        "ProbeSteps: simulated failure at step 2 of 5 (sim fault)\n"
    );
    assert_eq!(err["current_inputs"]["unique_id"], json!(["1"]));
    let keys: Vec<&String> = err.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "prompt_id",
            "node_id",
            "node_type",
            "executed",
            "exception_message",
            "exception_type",
            "traceback",
            "current_inputs",
            "current_outputs",
            "timestamp"
        ]
    );

    // Changed at run time: now the SaveImage node (by id) fails, with escapes.
    sim.faults().update(|f| {
        f.fail_node = Some(FailNode {
            target: NodeMatch::Id("2".into()),
            at_step: 1,
        });
        f.escape_in_errors = true;
    });
    let id = queue_prompt(&sim, &probe_prompt(2, 2, false), Some("f")).await;
    let frames = ws.until_done(&id).await;
    let err = frames
        .iter()
        .find(|f| f.kind() == "execution_error")
        .unwrap()
        .data();
    assert_eq!(
        (err["node_id"].as_str(), err["node_type"].as_str()),
        (Some("2"), Some("SaveImage"))
    );
    assert_eq!(err["executed"], json!(["1"]));
    let msg = err["exception_message"].as_str().unwrap();
    assert!(
        msg.contains("\u{1b}]0;owned\u{7}") && msg.contains("\u{1b}[2J"),
        "{msg:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn socket_is_dropped_after_n_frames_once() {
    let sim = start(with_faults(Faults {
        drop_ws_after_frames: Some(6),
        ..Faults::default()
    }))
    .await;
    let mut ws = Ws::connect(&sim, Some("d")).await;
    let id = queue_prompt(&sim, &probe_prompt(50, 3, false), Some("d")).await;
    let mut got = 0;
    while ws.next().await.is_some() {
        got += 1;
    }
    assert_eq!(got, 6);
    assert_eq!(sim.faults().get().drop_ws_after_frames, None, "one-shot");
    // The reconnect is not dropped and sees the rest of the run.
    let mut again = Ws::connect(&sim, Some("d")).await;
    again.until_done(&id).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn http_responses_can_be_delayed() {
    let sim = start(fast()).await;
    sim.faults()
        .set_http_delay(Some(Duration::from_millis(250)));
    let t = Instant::now();
    assert_eq!(get_json(&sim, "/prompt").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(250));
    let t = Instant::now();
    let mut ws = Ws::connect(&sim, Some("slow")).await;
    ws.next().await.unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "the WebSocket is not delayed"
    );
    sim.faults().set_http_delay(None);
    let t = Instant::now();
    get_json(&sim, "/prompt").await;
    assert!(t.elapsed() < Duration::from_millis(250));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_server_that_stops_answering() {
    let sim = start(SimConfig {
        step_delay: Duration::from_millis(2),
        ..fast()
    })
    .await;
    let mut ws = Ws::connect(&sim, Some("s")).await;
    let id = queue_prompt(&sim, &probe_prompt(150, 4, false), Some("s")).await;
    ws.until_kind("progress").await;
    sim.faults().set_stop_answering(true);
    // Frames already on the wire may still arrive; then silence.
    while ws.next_within(Duration::from_millis(100)).await.is_ok() {}
    assert!(
        ws.next_within(Duration::from_millis(300)).await.is_err(),
        "no frames while stopped"
    );
    let url = format!("{}/queue", sim.url());
    let pending =
        tokio::spawn(async move { http().get(url).send().await.map(|r| r.status().as_u16()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!pending.is_finished(), "the request is held");
    assert_eq!(
        sim.requests().last().unwrap().path,
        "/queue",
        "but it was received"
    );
    // A new WebSocket is accepted at TCP level but its upgrade is never answered.
    let addr = sim.addr();
    let upgrade = tokio::spawn(async move {
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .is_ok()
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!upgrade.is_finished());

    sim.faults().set_stop_answering(false);
    assert_eq!(within(pending).await.unwrap().unwrap(), 200);
    assert!(within(upgrade).await.unwrap());
    ws.until_done(&id).await;
    sim.shutdown().await;
}

async fn saved_probe_file(sim: &sim::SimHandle, cid: &str) -> (String, Vec<u8>) {
    let mut ws = Ws::connect(sim, Some(cid)).await;
    let prompt = json!({
        "1": {"class_type": "ProbeBatch", "inputs": {"count": 1, "seed": 11, "width": 128, "height": 128}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "big"}},
    });
    let id = queue_prompt(sim, &prompt, Some(cid)).await;
    let frames = ws.until_done(&id).await;
    let out = frames
        .iter()
        .find(|f| f.kind() == "executed")
        .unwrap()
        .data()["output"]["images"][0]["filename"]
        .clone();
    let name = out.as_str().unwrap().to_owned();
    let bytes = std::fs::read(sim.output_dir().join(&name)).unwrap();
    (name, bytes)
}

#[tokio::test]
async fn view_can_be_slow_or_truncated() {
    let sim = start(fast()).await;
    let (name, bytes) = saved_probe_file(&sim, "v").await;
    assert!(bytes.len() > 2000, "{}", bytes.len());
    let url = format!("{}/view?filename={name}&type=output", sim.url());

    let bps = bytes.len() as u64 * 3; // about a third of a second
    sim.faults().update(|f| f.view_bytes_per_sec = Some(bps));
    let t = Instant::now();
    let body = within(within(http().get(&url).send()).await.unwrap().bytes())
        .await
        .unwrap();
    assert_eq!(body.to_vec(), bytes);
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );

    sim.faults().update(|f| {
        f.view_bytes_per_sec = None;
        f.view_truncate_at = Some(1000);
    });
    let mut resp = within(http().get(&url).send()).await.unwrap();
    assert_eq!(
        resp.headers()["content-length"],
        bytes.len().to_string().as_str()
    );
    let mut got = Vec::new();
    let failed = loop {
        match within(resp.chunk()).await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    assert!(failed, "the body ends in an error");
    assert_eq!(got, bytes[..1000]);
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_and_unknown_frames_are_injected() {
    let sim = start(with_faults(Faults {
        malformed_frames: true,
        ..Faults::default()
    }))
    .await;
    let mut ws = Ws::connect(&sim, Some("m")).await;
    let id = queue_prompt(&sim, &probe_prompt(2, 5, false), Some("m")).await;
    let frames = ws.until_done(&id).await;
    assert!(frames.iter().any(|f| matches!(f, Frame::BadText(_))));
    assert!(frames.iter().any(|f| f.kind() == "sim_unknown_event"));
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::Binary(b) if b.starts_with(&[0, 0, 0, 99])))
    );
    assert!(
        frames
            .iter()
            .any(|f| matches!(f, Frame::Binary(b) if b.len() < 4))
    );
    let truncated = frames.iter().any(|f| match f {
        Frame::Binary(b) if b.len() >= 8 && b[3] == 4 => {
            u32::from_be_bytes([b[4], b[5], b[6], b[7]]) as usize > b.len() - 8
        }
        _ => false,
    });
    assert!(
        truncated,
        "a type 4 frame announcing more metadata than it has"
    );
    assert!(
        frames.iter().any(|f| f.kind() == "execution_success"),
        "the run goes on"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn hostile_file_names_are_reported_and_served() {
    let names = Faults::sample_hostile_filenames();
    let sim = start(with_faults(Faults {
        hostile_filenames: names.clone(),
        ..Faults::default()
    }))
    .await;
    let mut ws = Ws::connect(&sim, Some("h")).await;
    let id = queue_prompt(&sim, &empty_image_prompt("h", 0x00ff00), Some("h")).await;
    let frames = ws.until_done(&id).await;
    let images = frames
        .iter()
        .find(|f| f.kind() == "executed")
        .unwrap()
        .data()["output"]["images"]
        .clone();
    let reported: Vec<&str> = images
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["filename"].as_str().unwrap())
        .collect();
    assert_eq!(
        reported,
        names.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let (_, h) = get_json(&sim, &format!("/history/{id}")).await;
    assert_eq!(h[&id]["outputs"]["2"]["images"], images);
    for name in &names {
        let r = within(
            http()
                .get(format!("{}/view", sim.url()))
                .query(&[("filename", name.as_str()), ("type", "output")])
                .send(),
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200, "{name:?}");
        assert!(within(r.bytes()).await.unwrap().starts_with(b"\x89PNG"));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn restart_on_the_same_port_starts_empty() {
    let sim = start(fast()).await;
    let addr = sim.addr();
    let mut ws = Ws::connect(&sim, Some("r")).await;
    let id = queue_prompt(&sim, &empty_image_prompt("keep", 1), Some("r")).await;
    ws.until_done(&id).await;
    let sim = within(sim.restart()).await.unwrap();
    assert_eq!(sim.addr(), addr);
    assert_eq!(ws.next().await, None, "old sockets are closed");
    assert_eq!(get_json(&sim, "/history").await.1, json!({}));
    assert_eq!(get_json(&sim, &format!("/history/{id}")).await.1, json!({}));
    let (_, resp) = post_json(
        &sim,
        "/prompt",
        &json!({"prompt": empty_image_prompt("keep", 1)}),
    )
    .await;
    assert_eq!(resp["number"], 0, "the counter starts over");
    let r = within(
        http()
            .get(format!("{}/view?filename=keep_00001_.png", sim.url()))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200, "output files survive a restart");

    // Shutting down by hand and binding again works too.
    sim.shutdown().await;
    let listener = sim::bind_reusable(addr).unwrap();
    let again = sim::start(listener, fast()).await.unwrap();
    assert_eq!(
        get_json(&again, "/prompt").await.1,
        json!({"exec_info": {"queue_remaining": 0}})
    );
    again.shutdown().await;
}

#[tokio::test]
async fn a_flood_of_steps_goes_out_quickly() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let sim = start(SimConfig {
        step_delay: Duration::ZERO,
        ..fast()
    })
    .await;
    let mut ws = Ws::connect(&sim, Some("flood")).await;
    let steps = 10_000;
    let t = Instant::now();
    let id = queue_prompt(&sim, &probe_prompt(steps, 1, false), Some("flood")).await;
    // Frames are only peeked at (no JSON parsing) so the client keeps up in debug builds.
    let (mut progress, mut frames) = (0, 0);
    let end =
        format!("{{\"type\":\"executing\",\"data\":{{\"node\":null,\"prompt_id\":\"{id}\"}}}}");
    loop {
        let Some(Ok(Message::Text(t))) = within(ws.stream.next()).await else {
            continue;
        };
        frames += 1;
        if t.as_str().starts_with("{\"type\":\"progress\"") {
            progress += 1;
        }
        if t.as_str() == end {
            break;
        }
    }
    assert_eq!(progress, steps);
    eprintln!("{steps} steps ({frames} frames) in {:?}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(8));
    sim.shutdown().await;
}

#[tokio::test]
async fn probe_sleep_is_quiet() {
    let sim = start(fast()).await;
    let mut ws = Ws::connect(&sim, Some("q")).await;
    let prompt = json!({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
        "2": {"class_type": "ProbeSleep", "inputs": {"image": ["1", 0], "seconds": 0.4}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "q"}},
    });
    let id = queue_prompt(&sim, &prompt, Some("q")).await;
    loop {
        let f = ws.next().await.unwrap();
        if f.kind() == "executing" && f.data()["node"] == "2" {
            break;
        }
    }
    let t = Instant::now();
    let next = ws.next().await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(350),
        "silent while sleeping"
    );
    assert_eq!(next.kind(), "progress_state");
    ws.until_done(&id).await;
    sim.shutdown().await;
}

#[tokio::test]
async fn stale_close_hazard_can_be_reproduced() {
    for hazard in [false, true] {
        let sim = start(with_faults(Faults {
            stale_close_unregisters: hazard,
            ..Faults::default()
        }))
        .await;
        let mut old = Ws::connect(&sim, Some("dup")).await;
        old.next().await;
        let mut new = Ws::connect(&sim, Some("dup")).await;
        new.next().await;
        within(old.stream.close(None)).await.ok();
        while old.next().await.is_some() {}
        tokio::time::sleep(Duration::from_millis(50)).await;
        let id = queue_prompt(&sim, &empty_image_prompt("dup", 0), Some("dup")).await;
        let got = new.next_within(Duration::from_millis(300)).await;
        if hazard {
            assert!(
                got.is_err(),
                "the newer socket was unregistered by the older one's close"
            );
        } else {
            assert!(matches!(got, Ok(Some(_))));
            new.until_done(&id).await;
        }
        sim.shutdown().await;
    }
}
