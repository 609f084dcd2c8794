//! Render cost: one full frame of a busy run (50 nodes, preview on, log full) drawn into
//! ratatui's `TestBackend`, at a large and a small terminal size.

use bytes::Bytes;
use comfy_tui::app::{self, App, AppConfig, Event, Stamped};
use comfy_tui::app::{JobEvent, JobKey, ServerEvent, ServerKey};
use comfy_tui::comfy::http::Submitted;
use comfy_tui::comfy::preview::{BinaryFrame, ImageFormat, Preview};
use comfy_tui::comfy::ws::WsItem;
use comfy_tui::comfy::{ClientId, PromptId, ServerMessage, Workflow};
use comfy_tui::job::Job;
use comfy_tui::ui::{self, PreviewState};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Map, Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const PROMPT: &str = "6c1b2f0e-8d3a-4c5e-9f70-1a2b3c4d5e6f";

fn busy_app() -> App {
    let mut graph = Map::new();
    for i in 1..=50 {
        let inputs = if i == 1 {
            json!({"steps": 30})
        } else {
            json!({"image": [(i - 1).to_string(), 0], "steps": 30})
        };
        graph.insert(
            i.to_string(),
            json!({"class_type": "KSampler", "inputs": inputs, "_meta": {"title": format!("Sampler pass {i}")}}),
        );
    }
    let workflow = Workflow::parse(&Value::Object(graph).to_string(), Path::new("busy.json"))
        .expect("workflow");
    let t0 = Instant::now();
    let config = AppConfig {
        server: "http://127.0.0.1:8188".into(),
        client_id: ClientId::from("bench"),
        download: true,
        timeout: None,
        interactive: true,
        seeds: Vec::new(),
        picks: Vec::new(),
        attach: false,
    };
    let mut app = App::new(Job::new(&workflow, PromptId::from(PROMPT)), config, t0);
    let mut at = t0;
    let mut send = |app: &mut App, event: Event| {
        at += Duration::from_millis(10);
        app::update(app, Stamped::new(at, event));
    };
    let msg = |text: String| {
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Ws(WsItem::Message(
                ServerMessage::parse(&text).expect("message"),
            )),
        )
    };
    send(
        &mut app,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Connected { reconnect: false },
        ),
    );
    send(
        &mut app,
        Event::Job(
            JobKey::FIRST,
            JobEvent::Submitted(Submitted {
                prompt_id: PromptId::from(PROMPT),
                number: 1.0,
                node_errors: vec![],
            }),
        ),
    );
    send(
        &mut app,
        msg(format!(
            r#"{{"type":"execution_start","data":{{"prompt_id":"{PROMPT}"}}}}"#
        )),
    );
    // Half the graph done, node 25 stepping; enough events to fill the log ring.
    for node in 1..=25 {
        send(
            &mut app,
            msg(format!(
                r#"{{"type":"executing","data":{{"node":"{node}","prompt_id":"{PROMPT}"}}}}"#
            )),
        );
        for step in 1..=30 {
            send(
                &mut app,
                msg(format!(
                    r#"{{"type":"progress","data":{{"value":{step},"max":30,"prompt_id":"{PROMPT}","node":"{node}"}}}}"#
                )),
            );
        }
    }
    let mut image = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(256, 256, |x, y| {
        image::Rgb([x as u8, y as u8, 128])
    }))
    .write_to(
        &mut std::io::Cursor::new(&mut image),
        image::ImageFormat::Png,
    )
    .expect("png");
    send(
        &mut app,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Ws(WsItem::Binary(BinaryFrame::Preview(Preview {
                format: ImageFormat::Png,
                meta: None,
                image: Bytes::from(image),
            }))),
        ),
    );
    app.ui.show_log = true;
    assert!(app.log.len() >= comfy_tui::app::LOG_CAPACITY, "log is full");
    app
}

fn render(c: &mut Criterion) {
    let app = busy_app();
    let mut group = c.benchmark_group("render");
    for (w, h) in [(200u16, 60u16), (80, 24)] {
        let backend = TestBackend::new(w, h);
        let mut terminal = Terminal::new(backend).expect("terminal");
        let mut preview = PreviewState::halfblocks();
        let area = ratatui::layout::Rect::new(0, 0, w, h);
        if let Some(image) = ui::layout(area, &app).and_then(|a| a.preview_image()) {
            preview.decode_now(&app, image);
        }
        group.bench_function(BenchmarkId::from_parameter(format!("{w}x{h}")), |b| {
            b.iter(|| {
                // A fresh frame each time: the full cost, not ratatui's diff of an
                // unchanged screen.
                terminal.clear().expect("clear");
                terminal
                    .draw(|frame| ui::render(frame, &app, &preview))
                    .expect("draw");
            });
        });
    }
    group.finish();
}

/// A cockpit of a busy shared server: one running, 50 pending of three clients (some
/// mine), and a history of 50.
fn busy_cockpit() -> comfy_tui::watch::state::Cockpit {
    use comfy_tui::comfy::listing::{HistoryItem, QueueListing};
    use serde_json::json;
    let prompt = |seed: usize| {
        json!({
            "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
            "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": 30, "model": ["4", 0]},
                  "_meta": {"title": "KSampler"}},
            "9": {"class_type": "SaveImage", "inputs": {"images": ["3", 0]}}
        })
    };
    let id = |n: usize| format!("{n:08x}-0000-4000-8000-{n:012x}");
    let item = |n: usize| json!([n, id(n), prompt(n), {"client_id": format!("client{}", n % 3), "create_time": 1_700_000_000_000u64 + n as u64}, ["9"]]);
    let queue = QueueListing::from_value(&json!({
        "queue_running": [item(100)],
        "queue_pending": (101..151).map(item).collect::<Vec<_>>(),
    }));
    let history: serde_json::Map<String, serde_json::Value> = (0..50)
        .map(|n| {
            (id(n), json!({
                "prompt": item(n),
                "outputs": {"9": {"images": [{"filename": format!("out_{n}.png"), "subfolder": "", "type": "output"}]}},
                "status": {"status_str": "success", "completed": true, "messages": [
                    ["execution_start", {"prompt_id": id(n), "timestamp": 1_700_000_000_000u64}],
                    ["execution_success", {"prompt_id": id(n), "timestamp": 1_700_000_009_000u64}]]},
                "meta": {}
            }))
        })
        .collect();
    let history = HistoryItem::list_from_value(&serde_json::Value::Object(history));
    let server = comfy_tui::session::Server::new(
        "http://gpu-box:8188/".into(),
        comfy_tui::comfy::ClientId::from("watch"),
    );
    let mine = (101..151)
        .step_by(3)
        .map(|n| comfy_tui::comfy::PromptId::from(id(n).as_str()))
        .collect();
    let now = std::time::Instant::now();
    let mut cockpit = comfy_tui::watch::state::Cockpit::new(server, mine, now, 1_700_000_100_000);
    let server = cockpit
        .session
        .server_mut(comfy_tui::session::ServerKey::FIRST);
    server.queue = Some(queue);
    server.history = history;
    comfy_tui::watch::update::rebuild_rows(&mut cockpit);
    cockpit
}

/// A batch of 1,000 jobs in the live view: 300 done with a saved file each, one running
/// halfway, the rest queued.
fn busy_batch() -> App {
    let workflow = Workflow::parse(
        r#"{"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a"}},
            "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0]}},
            "9": {"class_type": "SaveImage", "inputs": {"images": ["3", 0]}}}"#,
        std::path::Path::new("w.json"),
    )
    .expect("workflow");
    let id = |n: usize| format!("{n:08x}-0000-4000-8000-{n:012x}");
    let jobs = (0..1000)
        .map(|n| {
            let spec = comfy_tui::session::JobSpec {
                download: true,
                timeout: None,
                seeds: workflow.seeds(),
                picks: Vec::new(),
                attach: false,
                swept: vec![("3.seed".into(), n.to_string())],
            };
            (Job::new(&workflow, PromptId::from(id(n).as_str())), spec)
        })
        .collect();
    let t0 = Instant::now();
    let server = comfy_tui::session::Server::new("http://gpu:8188".into(), ClientId::from("b"));
    let mut app = App::batch(server, jobs, true, t0);
    let send = |app: &mut App, event| {
        app::update(app, Stamped::new(t0, event));
    };
    send(
        &mut app,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Connected { reconnect: false },
        ),
    );
    let msg = |app: &mut App, text: String| {
        let message = ServerMessage::parse(&text).expect("message");
        app::update(
            app,
            Stamped::new(
                t0,
                Event::Server(ServerKey::FIRST, ServerEvent::Ws(WsItem::Message(message))),
            ),
        );
    };
    for n in 0..1000 {
        send(
            &mut app,
            Event::Job(
                JobKey(n),
                JobEvent::Submitted(Submitted {
                    prompt_id: PromptId::from(id(n).as_str()),
                    number: n as f64,
                    node_errors: vec![],
                }),
            ),
        );
    }
    for n in 0..301 {
        let pid = id(n);
        msg(
            &mut app,
            format!(r#"{{"type":"execution_start","data":{{"prompt_id":"{pid}"}}}}"#),
        );
        msg(
            &mut app,
            format!(r#"{{"type":"executing","data":{{"node":"3","prompt_id":"{pid}"}}}}"#),
        );
        msg(
            &mut app,
            format!(
                r#"{{"type":"progress","data":{{"value":10,"max":20,"node":"3","prompt_id":"{pid}"}}}}"#
            ),
        );
        if n == 300 {
            break;
        }
        msg(
            &mut app,
            format!(
                r#"{{"type":"execution_success","data":{{"prompt_id":"{pid}","timestamp":1}}}}"#
            ),
        );
        msg(
            &mut app,
            format!(r#"{{"type":"executing","data":{{"node":null,"prompt_id":"{pid}"}}}}"#),
        );
        send(&mut app, Event::Job(JobKey(n), JobEvent::History(None)));
    }
    app.session.focus = JobKey(300);
    app
}

fn render_batch(c: &mut Criterion) {
    let mut app = busy_batch();
    let mut group = c.benchmark_group("batch");
    for (w, h) in [(200u16, 60u16), (80, 24)] {
        app::update(
            &mut app,
            Stamped::new(
                Instant::now(),
                Event::Resize {
                    width: w,
                    height: h,
                },
            ),
        );
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        let preview = PreviewState::halfblocks();
        group.bench_function(BenchmarkId::from_parameter(format!("{w}x{h}")), |b| {
            b.iter(|| {
                terminal.clear().expect("clear");
                terminal
                    .draw(|frame| ui::render(frame, &app, &preview))
                    .expect("draw");
            });
        });
    }
    group.finish();
}

fn render_cockpit(c: &mut Criterion) {
    let mut cockpit = busy_cockpit();
    let mut group = c.benchmark_group("cockpit");
    for (w, h) in [(200u16, 60u16), (80, 24)] {
        cockpit.screen = (w, h);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        group.bench_function(BenchmarkId::from_parameter(format!("{w}x{h}")), |b| {
            b.iter(|| {
                terminal.clear().expect("clear");
                terminal
                    .draw(|frame| {
                        comfy_tui::watch::view::render(
                            frame,
                            &cockpit,
                            &comfy_tui::ui::preview::PreviewState::halfblocks(),
                        )
                    })
                    .expect("draw");
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = render, render_cockpit, render_batch
}
criterion_main!(benches);
