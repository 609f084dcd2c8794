//! The discovery commands (`stats`, `queue`, `history`, `models`, `nodes`, `embeddings`,
//! `features`) as whole runs of the built binary against the simulator, the typed
//! parsers against the recorded bodies of a real server, and the simulator's side of
//! the cockpit: other clients' prompts, moving memory, `/free`, the log stream.

mod common;
mod sim_support;

use std::time::Duration;

use comfy_tui::comfy::http::ComfyClient;
use comfy_tui::comfy::listing::{Finished, HistoryItem, QueueListing};
use comfy_tui::comfy::messages::ServerMessage;
use comfy_tui::comfy::node_info::NodeInfo;
use comfy_tui::comfy::system::{Features, SystemStats};
use comfy_tui::comfy::{ClientId, ServerUrl};
use comfy_tui::sim::{SimConfig, SimHandle};
use common::binary::{Output, run_binary};
use serde_json::{Value, json};
use sim_support::{
    Ws, empty_image_prompt, fast, fixture, get_json, probe_prompt, queue_prompt, start, transcript,
    within,
};

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).expect("fixture is JSON")
}

async fn cmd(sim: &SimHandle, args: &[&str]) -> Output {
    let url = sim.url();
    let mut all = args.to_vec();
    all.extend(["--server", url.as_str()]);
    run_binary(&all).await
}

fn json_of(out: &Output) -> Value {
    assert_eq!(
        out.code, 0,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    out.json()
}

fn client(sim: &SimHandle) -> ComfyClient {
    let server = ServerUrl::parse(&sim.url()).expect("url");
    ComfyClient::new(server, Default::default()).expect("client")
}

/// Waits, bounded, until `check` holds for the value `probe` gives.
async fn eventually<T, F, Fut>(mut probe: F, check: impl Fn(&T) -> bool) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    within(async {
        loop {
            let value = probe().await;
            if check(&value) {
                return value;
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

/// The key names of an object, to compare shapes with a recording.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

// ---- the typed parsers read what a real server sent ------------------------------------

#[test]
fn recorded_bodies_parse_into_the_typed_results() {
    let stats = SystemStats::from_value(&fixture_json("system_stats.json"));
    assert_eq!(stats.comfyui_version.as_deref(), Some("0.3.64"));
    assert_eq!(stats.ram_total, Some(25_276_502_016));
    assert_eq!(stats.ram_used(), Some(25_276_502_016 - 24_191_467_520));
    assert_eq!(stats.devices.len(), 1);
    assert_eq!(stats.devices[0].kind, "cpu");
    assert_eq!(stats.devices[0].index, None);
    assert_eq!(stats.devices[0].torch_vram_free, Some(24_191_467_520));

    let queue = QueueListing::from_value(&fixture_json("queue_running_and_pending.json"));
    assert_eq!(
        queue.running[0].prompt_id.as_str(),
        "af66ea32-a4ab-473f-ac83-40f5c3f5c844"
    );
    assert_eq!(queue.running[0].node_count(), 2);
    assert_eq!(
        queue.running[0].client_id(),
        Some(ClientId::from("qdel-46b46fac-3159-454b-a4ec-40521da01c96"))
    );
    assert_eq!(queue.pending[0].node_count(), 4);
    assert_eq!(queue.pending[0].outputs_to_execute, ["3", "2", "4"]);
    assert_eq!(queue.pending[0].number, serde_json::Number::from(34));
    let idle = QueueListing::from_value(&fixture_json("queue_idle.json"));
    assert!(idle.running.is_empty() && idle.pending.is_empty());

    for (file, finished) in [
        ("history_fast_empty.json", Finished::Success),
        ("history_batch_images.json", Finished::Success),
        ("history_probe_steps.json", Finished::Success),
        ("history_ws_image_save.json", Finished::Success),
        ("history_probe_fail.json", Finished::Error),
        ("history_interrupted.json", Finished::Interrupted),
        ("history_interrupted_partial.json", Finished::Interrupted),
    ] {
        let items = HistoryItem::list_from_value(&fixture_json(file));
        assert_eq!(items.len(), 1, "{file}");
        let item = &items[0];
        assert_eq!(item.finished, finished, "{file}");
        assert!(item.record.is_some(), "{file}");
        assert!(item.node_count() >= 1, "{file}");
        assert!(item.client_id().is_some(), "{file}");
        assert!(item.duration_ms().is_some(), "{file}: times recorded");
        if finished == Finished::Success && file != "history_ws_image_save.json" {
            assert!(item.output_count() >= 1, "{file}");
        }
    }

    let features = Features::from_value(Some(&fixture_json("features.json")));
    assert!(features.known && features.supports_preview_metadata);
    assert_eq!(features.max_upload_size, 104_857_600);

    let full = fixture_json("object_info_full.json");
    let all = NodeInfo::list_from_value(&full);
    assert_eq!(all.len(), 500);
    assert!(all.windows(2).all(|w| w[0].class < w[1].class), "sorted");
    for node in &all {
        assert!(!node.display_name.is_empty(), "{}", node.class);
        assert!(
            node.inputs.iter().all(|i| !i.kind.is_empty()),
            "{}",
            node.class
        );
        let declared = full[&node.class]["output"].as_array().map_or(0, Vec::len);
        assert_eq!(node.outputs.len(), declared, "{}", node.class);
    }
    // A V3 combo keeps its choices in `options.options`.
    let v3 = all
        .iter()
        .flat_map(|n| &n.inputs)
        .filter(|i| i.kind == "COMBO")
        .count();
    assert!(v3 > 50, "combos of both shapes: {v3}");
    for file in [
        "object_info_KSampler.json",
        "object_info_ProbeSteps.json",
        "object_info_SaveImage.json",
    ] {
        let nodes = NodeInfo::list_from_value(&fixture_json(file));
        assert_eq!(nodes.len(), 1, "{file}");
        assert!(!nodes[0].inputs.is_empty(), "{file}");
    }
    let ks = &NodeInfo::list_from_value(&fixture_json("object_info_KSampler.json"))[0];
    let names: Vec<&str> = ks.inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "model",
            "seed",
            "steps",
            "cfg",
            "sampler_name",
            "scheduler",
            "positive",
            "negative",
            "latent_image",
            "denoise"
        ]
    );
    assert_eq!(ks.inputs[1].max, Some(json!(u64::MAX)));
    assert!(ks.inputs[4].options.contains(&json!("euler")));
    assert_eq!(ks.outputs[0].kind, "LATENT");

    // Every `logs` message recorded reads, with its terminal size when given.
    let logs: Vec<_> = transcript("logs_subscribe.jsonl")
        .into_iter()
        .filter(|e| e["ev"] == "ws_recv" && e["msg"]["type"] == "logs")
        .map(|e| match ServerMessage::parse(&e["msg"].to_string()) {
            Ok(ServerMessage::Logs(logs)) => logs,
            other => panic!("not a logs message: {other:?}"),
        })
        .collect();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].entries[0].m, "got prompt\n");
    assert_eq!(logs[0].size.map(|s| (s.cols, s.rows)), Some((80, 24)));
    assert_eq!(logs[1].size, None);
}

#[tokio::test]
async fn the_simulator_answers_in_the_recorded_shapes() {
    let sim = start(fast()).await;
    let (_, stats) = get_json(&sim, "/system_stats").await;
    let recorded = fixture_json("system_stats.json");
    assert_eq!(keys(&stats["system"]), keys(&recorded["system"]));
    assert_eq!(keys(&stats["devices"][0]), keys(&recorded["devices"][0]));
    let (_, models) = get_json(&sim, "/models").await;
    assert_eq!(models, fixture_json("models.json"));
    let (_, features) = get_json(&sim, "/features").await;
    assert_eq!(features, fixture_json("features.json"));
    let (_, ks) = get_json(&sim, "/object_info/KSampler").await;
    assert_eq!(
        keys(&ks["KSampler"]),
        keys(&fixture_json("object_info_KSampler.json")["KSampler"])
    );
    let id = queue_prompt(&sim, &empty_image_prompt("shape", 1), Some("c")).await;
    let entry = eventually(
        || async { get_json(&sim, &format!("/history/{id}")).await.1 },
        |h| h.get(&id).is_some(),
    )
    .await;
    assert_eq!(
        keys(&entry[&id]),
        fixture_json("history_fast_empty.json")
            .as_object()
            .and_then(|h| h.values().next())
            .map(keys)
            .expect("one recorded entry")
    );
    sim.shutdown().await;
}

// ---- the commands, whole runs ----------------------------------------------------------

#[tokio::test]
async fn stats_reports_memory_that_moves_while_a_prompt_runs() {
    let sim = start(SimConfig {
        step_delay: Duration::from_millis(5),
        ..SimConfig::default()
    })
    .await;
    let idle = json_of(&cmd(&sim, &["stats", "--json"]).await);
    assert_eq!(idle["server"], format!("{}/", sim.url()));
    assert_eq!(idle["system"]["comfyui_version"], "0.3.64");
    let device = &idle["devices"][0];
    assert_eq!(device["type"], "cuda");
    assert_eq!(device["index"], 0);
    assert_eq!(
        device["vram_used"].as_u64(),
        Some(device["vram_total"].as_u64().unwrap() - device["vram_free"].as_u64().unwrap())
    );
    assert_eq!(
        idle["system"]["ram_used"].as_u64(),
        Some(
            idle["system"]["ram_total"].as_u64().unwrap()
                - idle["system"]["ram_free"].as_u64().unwrap()
        )
    );

    let table = cmd(&sim, &["stats"]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("comfyui   0.3.64"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("ram used"), "{}", table.stdout);
    assert!(
        table.stdout.contains("NVIDIA GeForce RTX 4090"),
        "{}",
        table.stdout
    );

    let id = queue_prompt(&sim, &probe_prompt(100_000, 1, false), Some("me")).await;
    let client = client(&sim);
    let idle_free = device["vram_free"].as_u64();
    let busy = eventually(
        || async { client.stats().await.expect("stats") },
        |s| s.devices[0].vram_free < idle_free,
    )
    .await;
    // The working set moves with the steps: two later readings differ from this one.
    let first = busy.devices[0].vram_free;
    eventually(
        || async { client.stats().await.expect("stats") },
        |s| s.devices[0].vram_free != first,
    )
    .await;
    client
        .interrupt(&id.as_str().into())
        .await
        .expect("interrupt");
    sim.shutdown().await;
}

#[tokio::test]
async fn queue_lists_other_clients_and_marks_mine() {
    let sim = start(SimConfig {
        step_delay: Duration::from_millis(20),
        other_clients: 2,
        ..SimConfig::default()
    })
    .await;
    let mine = queue_prompt(&sim, &empty_image_prompt("mine", 2), Some("my-client")).await;
    let out = json_of(&cmd(&sim, &["queue", "--json", "--client-id", "my-client"]).await);
    assert_eq!(out["running"], 1);
    assert_eq!(out["pending"], 2);
    let items = out["items"].as_array().expect("items");
    assert_eq!(items[0]["state"], "running");
    assert_eq!(items[0]["position"], 0);
    assert_eq!(items[0]["mine"], false);
    assert_eq!(items[0]["nodes"], 2);
    assert_eq!(items[1]["state"], "pending");
    assert_eq!(items[1]["position"], 1);
    assert_eq!(items[2]["prompt_id"], mine.as_str());
    assert_eq!(items[2]["client_id"], "my-client");
    assert_eq!(items[2]["mine"], true);
    assert_ne!(
        items[0]["client_id"], items[1]["client_id"],
        "one id per other client"
    );
    assert!(
        items[0]["client_id"]
            .as_str()
            .is_some_and(|c| c.len() == 32)
    );

    // Without the id nothing is mine; the table says so too.
    let out = json_of(&cmd(&sim, &["queue", "--json"]).await);
    assert!(
        out["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["mine"] == false)
    );
    let table = cmd(&sim, &["queue", "--client-id", "my-client"]).await;
    let line = table
        .stdout
        .lines()
        .find(|l| l.contains(&mine))
        .expect("my row");
    assert!(
        line.split_whitespace().collect::<Vec<_>>()
            == ["pending", "2", "2", &mine, "my-client", "yes", "2"],
        "{line}"
    );
    assert!(
        table.stdout.ends_with("1 running, 2 pending, 1 mine\n"),
        "{}",
        table.stdout
    );

    // More can be queued at run time, and the wire items keep the recorded shape.
    let more = sim.queue_other_clients(1).await;
    let (_, raw) = get_json(&sim, "/queue").await;
    let recorded = fixture_json("queue_running_and_pending.json");
    let last = raw["queue_pending"]
        .as_array()
        .and_then(|p| p.iter().find(|i| i[1] == more[0].as_str()))
        .expect("queued at run time");
    assert_eq!(last.as_array().map(Vec::len), Some(5));
    assert_eq!(
        keys(&last[3]),
        keys(&recorded["queue_pending"][0][3]),
        "extra_data carries the client id"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn history_shows_the_newest_first_and_asks_for_only_n() {
    let sim = start(fast()).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = queue_prompt(&sim, &empty_image_prompt(&format!("h{i}"), i), Some("hc")).await;
        eventually(
            || async { get_json(&sim, &format!("/history/{id}")).await.1 },
            |h| h.get(&id).is_some(),
        )
        .await;
        ids.push(id);
    }
    sim.clear_requests();
    let out = json_of(&cmd(&sim, &["history", "-n", "2", "--json"]).await);
    let items = out["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["prompt_id"], ids[2].as_str());
    assert_eq!(items[1]["prompt_id"], ids[1].as_str());
    assert_eq!(items[0]["status"], "success");
    assert_eq!(items[0]["client_id"], "hc");
    assert_eq!(items[0]["nodes"], 2);
    assert_eq!(items[0]["outputs"], 1);
    assert!(items[0]["ended"].as_str().is_some_and(|t| t.ends_with('Z')));
    let asked: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/history"))
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].query.as_deref(), Some("max_items=2"));

    let table = cmd(&sim, &["history"]).await;
    let rows: Vec<&str> = table.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{}", table.stdout);
    assert!(rows[0].starts_with(ids[2].as_str()) && rows[0].contains("success"));
    let zero = cmd(&sim, &["history", "-n", "0"]).await;
    assert_eq!(zero.code, 2, "{}", zero.stderr);
    sim.shutdown().await;
}

#[tokio::test]
async fn models_list_folders_files_and_refuse_an_unknown_folder() {
    let sim = start(fast()).await;
    let out = json_of(&cmd(&sim, &["models", "--json"]).await);
    let folders = out["folders"].as_array().expect("folders");
    assert_eq!(
        folders.len(),
        fixture_json("models.json").as_array().unwrap().len()
    );
    let count = |name: &str| {
        folders
            .iter()
            .find(|f| f["name"] == name)
            .map(|f| f["files"].clone())
    };
    assert_eq!(
        count("checkpoints"),
        Some(json!(comfy_tui::sim::FAKE_CHECKPOINTS.len()))
    );
    assert_eq!(count("vae"), Some(json!(0)));

    let out = json_of(&cmd(&sim, &["models", "loras", "--json"]).await);
    assert_eq!(out["folder"], "loras");
    assert_eq!(out["models"], json!(comfy_tui::sim::FAKE_LORAS));
    let table = cmd(&sim, &["models", "loras"]).await;
    assert_eq!(
        table.stdout,
        "detail-tweaker-demo.safetensors\nstyles/ink-demo.safetensors\n2 file(s) in loras\n"
    );

    let bad = cmd(&sim, &["models", "lora"]).await;
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("no model folder `lora`"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("did you mean loras"), "{}", bad.stderr);
    assert!(bad.stdout.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn nodes_show_a_class_search_and_suggest() {
    let sim = start(fast()).await;
    let out = json_of(&cmd(&sim, &["nodes", "KSampler", "--json"]).await);
    let node = &out["node"];
    assert_eq!(node["class"], "KSampler");
    assert_eq!(node["inputs"][1]["name"], "seed");
    assert_eq!(node["inputs"][1]["max"], json!(u64::MAX));
    assert_eq!(node["inputs"][4]["type"], "COMBO");
    assert!(
        node["inputs"][4]["options"]
            .as_array()
            .is_some_and(|o| o.len() > 10)
    );
    assert_eq!(node["outputs"][0]["type"], "LATENT");

    let table = cmd(&sim, &["nodes", "KSampler"]).await;
    assert_eq!(table.code, 0);
    let text = &table.stdout;
    let steps = text
        .lines()
        .find(|l| l.starts_with("steps "))
        .expect("steps row");
    assert!(
        steps.contains("INT") && steps.contains("20") && steps.contains("1 … 10000"),
        "{steps}"
    );
    assert!(text.find("INPUT").unwrap() < text.find("OUTPUT").unwrap());

    let found = json_of(&cmd(&sim, &["nodes", "--search", "probe", "--json"]).await);
    let classes: Vec<&str> = found["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["class"].as_str())
        .collect();
    assert_eq!(
        classes,
        ["ProbeBatch", "ProbeSleep", "ProbeSteps", "ProbeText"]
    );
    let all = json_of(&cmd(&sim, &["nodes", "--json"]).await);
    assert!(all["nodes"].as_array().unwrap().len() > classes.len());

    let bad = cmd(&sim, &["nodes", "KSamplr"]).await;
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("no node class `KSamplr`"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("did you mean KSampler"),
        "{}",
        bad.stderr
    );
    let both = cmd(&sim, &["nodes", "KSampler", "--search", "x"]).await;
    assert_eq!(both.code, 2, "a class and a search exclude each other");
    sim.shutdown().await;
}

#[tokio::test]
async fn embeddings_and_features() {
    let sim = start(fast()).await;
    let out = json_of(&cmd(&sim, &["embeddings", "--json"]).await);
    assert_eq!(out["embeddings"], json!(comfy_tui::sim::FAKE_EMBEDDINGS));
    let table = cmd(&sim, &["embeddings"]).await;
    assert!(
        table
            .stdout
            .starts_with("easynegative-demo\nwatercolor-demo\n"),
        "{}",
        table.stdout
    );

    let out = json_of(&cmd(&sim, &["features", "--json"]).await);
    assert_eq!(out["known"], true);
    assert_eq!(out["supports_preview_metadata"], true);
    assert_eq!(out["max_upload_size"], 104_857_600);
    assert_eq!(out["flags"], fixture_json("features.json"));
    let table = cmd(&sim, &["features"]).await;
    assert!(
        table.stdout.contains("supports_preview_metadata  true"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.ends_with("uploads up to 100.0 MiB\n"));
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_arguments_exit_2_and_an_unreachable_server_4() {
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let nowhere = format!("http://127.0.0.1:{port}");
    for command in [
        "stats",
        "queue",
        "history",
        "models",
        "nodes",
        "embeddings",
        "features",
    ] {
        let out = run_binary(&[command, "--server", &nowhere]).await;
        assert_eq!(out.code, 4, "{command}: {}", out.stderr);
        assert!(
            out.stderr.contains("cannot reach the server"),
            "{command}: {}",
            out.stderr
        );
        let out = run_binary(&[command, "--server", "ftp://x"]).await;
        assert_eq!(out.code, 2, "{command}: {}", out.stderr);
        let out = run_binary(&[command, "--server", &nowhere, "--header", "no colon"]).await;
        assert_eq!(out.code, 2, "{command}: {}", out.stderr);
        assert!(
            out.stderr.contains("Name: value"),
            "{command}: {}",
            out.stderr
        );
    }
    // COMFYUI_URL is the default server.
    let sim = start(fast()).await;
    let out = common::binary::run_command(
        common::binary::binary()
            .args(["features", "--json"])
            .env("COMFYUI_URL", sim.url()),
    )
    .await;
    assert_eq!(json_of(&out)["known"], true);
    sim.shutdown().await;
}

// ---- the simulator's log stream and /free ----------------------------------------------

#[tokio::test]
async fn the_log_stream_reaches_subscribed_sockets_only() {
    let sim = start(fast()).await;
    let client = client(&sim);
    let me = ClientId::from("log-watcher");
    let mut ws = Ws::connect(&sim, Some(me.as_str())).await;
    ws.until_kind("status").await;
    within(client.subscribe_logs(&me, true))
        .await
        .expect("subscribe");
    let id = queue_prompt(&sim, &empty_image_prompt("logs", 3), Some(me.as_str())).await;
    let frames = ws.until_done(&id).await;
    let kinds: Vec<String> = frames.iter().map(|f| f.kind()).collect();
    assert_eq!(
        kinds[0], "logs",
        "got prompt comes before the queue status: {kinds:?}"
    );
    assert_eq!(frames[0].data()["entries"][0]["m"], "got prompt\n");
    assert_eq!(frames[0].data()["size"], json!({"cols": 80, "rows": 24}));
    let done = ws.until_kind("logs").await;
    let last = done.last().expect("a logs frame");
    let text = last.data()["entries"][0]["m"].as_str().unwrap_or_default();
    assert!(text.starts_with("Prompt executed in "), "{text}");
    assert_eq!(last.data()["size"], Value::Null);

    let raw = within(client.logs_raw()).await.expect("raw");
    assert_eq!(raw.size.map(|s| (s.cols, s.rows)), Some((80, 24)));
    let texts: Vec<&str> = raw.entries.iter().map(|e| e.m.as_str()).collect();
    assert!(texts.contains(&"\nStarting server\n\n"), "{texts:?}");
    assert!(texts.ends_with(&["got prompt\n", text]), "{texts:?}");
    assert!(
        raw.entries.iter().all(|e| e.t.len() == 26),
        "isoformat with microseconds"
    );

    // Unsubscribed: the next run's frames come without any `logs`.
    within(client.subscribe_logs(&me, false))
        .await
        .expect("unsubscribe");
    let id = queue_prompt(&sim, &empty_image_prompt("logs2", 4), Some(me.as_str())).await;
    let frames = ws.until_done(&id).await;
    assert!(frames.iter().all(|f| f.kind() != "logs"));
    let subscribe: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/internal/logs/subscribe")
        .collect();
    assert_eq!(subscribe.len(), 2);
    assert_eq!(subscribe[0].method, "PATCH");
    assert_eq!(
        subscribe[0].body,
        Some(json!({"clientId": "log-watcher", "enabled": true}))
    );
    let (status, _) = get_json(&sim, "/api/internal/logs/raw").await;
    assert_eq!(status, 404, "no /api alias, as on ComfyUI");
    sim.shutdown().await;
}

#[tokio::test]
async fn free_waits_for_the_running_prompt_then_unloads() {
    let sim = start(SimConfig {
        step_delay: Duration::from_millis(5),
        ..SimConfig::default()
    })
    .await;
    let client = client(&sim);
    assert!(!sim.models_loaded());
    let id = queue_prompt(&sim, &probe_prompt(100_000, 2, false), Some("f")).await;
    eventually(|| async { sim.models_loaded() }, |loaded| *loaded).await;
    within(client.free(true, false)).await.expect("free");
    let freed: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/free"))
        .collect();
    assert_eq!(
        freed[0].body,
        Some(json!({"unload_models": true, "free_memory": false}))
    );
    assert!(sim.models_loaded(), "applied only after the running prompt");
    within(client.interrupt(&id.as_str().into()))
        .await
        .expect("interrupt");
    eventually(|| async { sim.models_loaded() }, |loaded| !*loaded).await;
    let idle = within(client.stats()).await.expect("stats");
    assert_eq!(idle.devices[0].torch_vram_total, Some(0), "nothing held");
    sim.shutdown().await;
}
