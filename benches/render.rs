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

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = render
}
criterion_main!(benches);
