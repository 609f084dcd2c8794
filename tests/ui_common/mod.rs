//! Scenes for the view tests: app states built by feeding events through `app::update`
//! with fixed instants, so that every time on screen comes from the event stamps.

#![allow(dead_code)]

use bytes::Bytes;
use comfy_tui::app::{self, App, AppConfig, Event, Key, Stamped};
use comfy_tui::app::{JobEvent, JobKey, ServerEvent, ServerKey};
use comfy_tui::comfy::http::{HistoryEntry, QueueSnapshot, Submitted};
use comfy_tui::comfy::preview::{BinaryFrame, ImageFormat, Preview};
use comfy_tui::comfy::ws::WsItem;
use comfy_tui::comfy::{ClientId, FileRef, NodeId, PromptId, ServerMessage, Workflow};
use comfy_tui::job::Job;
use comfy_tui::ui::{self, PreviewState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const PROMPT: &str = "5f0c6a62-8f2b-4c39-9a3e-0d1f7c1e2a11";

const WORKFLOW: &str = r#"{
  "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}, "_meta": {"title": "Load Checkpoint"}},
  "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse", "clip": ["4", 1]}, "_meta": {"title": "Positive Prompt"}},
  "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}, "_meta": {"title": "Negative Prompt"}},
  "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}, "_meta": {"title": "Empty Latent Image"}},
  "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}, "_meta": {"title": "KSampler"}},
  "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}, "_meta": {"title": "VAE Decode"}},
  "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}, "_meta": {"title": "Save Image"}}
}"#;

/// An app plus the clock its events are stamped with.
pub struct Scene {
    pub app: App,
    pub t0: Instant,
    pub at: Duration,
}

impl Scene {
    pub fn new() -> Self {
        Self::with_workflow(WORKFLOW)
    }

    /// A scene for another API-format graph.
    pub fn with_workflow(json: &str) -> Self {
        let workflow = Workflow::parse(json, Path::new("workflow.json")).expect("workflow");
        let t0 = Instant::now();
        let config = AppConfig {
            server: "http://127.0.0.1:8188".into(),
            client_id: ClientId::from("tui-test"),
            download: true,
            timeout: None,
            interactive: true,
            seeds: Vec::new(),
            picks: Vec::new(),
            attach: false,
        };
        let app = App::new(Job::new(&workflow, PromptId::from(PROMPT)), config, t0);
        Self {
            app,
            t0,
            at: Duration::ZERO,
        }
    }

    /// Moves the scene clock on.
    pub fn wait(&mut self, d: Duration) -> &mut Self {
        self.at += d;
        self
    }

    pub fn secs(&mut self, s: f64) -> &mut Self {
        self.wait(Duration::from_secs_f64(s))
    }

    pub fn send(&mut self, event: Event) -> Vec<app::Effect> {
        app::update(&mut self.app, Stamped::new(self.t0 + self.at, event))
    }

    pub fn key(&mut self, c: char) -> Vec<app::Effect> {
        self.send(Event::Key(Key::Char(c)))
    }

    /// The terminal is `width`×`height` (the keys scroll by what it shows).
    pub fn resize(&mut self, width: u16, height: u16) -> &mut Self {
        self.send(Event::Resize { width, height });
        self
    }

    pub fn msg(&mut self, json: &str) -> &mut Self {
        let text = json.replace("PID", PROMPT);
        let message = ServerMessage::parse(&text).expect("message");
        self.send(Event::Server(
            ServerKey::FIRST,
            ServerEvent::Ws(WsItem::Message(message)),
        ));
        self
    }

    /// A server message stamped at the scene's clock, not applied (for the loop tests).
    pub fn stamped(&self, json: &str) -> Stamped {
        let text = json.replace("PID", PROMPT);
        let message = ServerMessage::parse(&text).expect("message");
        Stamped::new(
            self.t0 + self.at,
            Event::Server(ServerKey::FIRST, ServerEvent::Ws(WsItem::Message(message))),
        )
    }

    pub fn executing(&mut self, node: &str) -> &mut Self {
        self.msg(&format!(
            r#"{{"type":"executing","data":{{"node":"{node}","display_node":"{node}","prompt_id":"PID"}}}}"#
        ))
    }

    pub fn progress(&mut self, node: &str, value: u32, max: u32) -> &mut Self {
        self.msg(&format!(
            r#"{{"type":"progress","data":{{"value":{value},"max":{max},"prompt_id":"PID","node":"{node}"}}}}"#
        ))
    }

    pub fn preview(&mut self) -> &mut Self {
        let image = Bytes::from(png(48, 48));
        self.send(Event::Server(
            ServerKey::FIRST,
            ServerEvent::Ws(WsItem::Binary(BinaryFrame::Preview(Preview {
                format: ImageFormat::Png,
                meta: None,
                image,
            }))),
        ));
        self
    }

    pub fn executed_image(&mut self, node: &str, file: &str) -> &mut Self {
        self.msg(&format!(
            r#"{{"type":"executed","data":{{"node":"{node}","display_node":"{node}","output":{{"images":[{{"filename":"{file}","subfolder":"","type":"output"}}]}},"prompt_id":"PID"}}}}"#
        ))
    }

    pub fn end(&mut self) -> &mut Self {
        self.msg(r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#)
    }

    /// Connected, submitted and accepted.
    pub fn submitted(&mut self) -> &mut Self {
        self.send(Event::Server(
            ServerKey::FIRST,
            ServerEvent::Connected { reconnect: false },
        ));
        self.secs(0.1);
        self.send(Event::Job(
            JobKey::FIRST,
            JobEvent::Submitted(Submitted {
                prompt_id: PromptId::from(PROMPT),
                number: 12.0,
                node_errors: vec![],
            }),
        ));
        self.msg(r#"{"type":"status","data":{"status":{"exec_info":{"queue_remaining":3}}}}"#);
        self
    }

    /// Waiting behind two other prompts.
    pub fn queued(&mut self) -> &mut Self {
        self.submitted().secs(0.2);
        let snapshot = QueueSnapshot {
            asked: None,
            running: vec![PromptId::from("aaaaaaaa-0000-0000-0000-000000000000")],
            pending: vec![
                PromptId::from("bbbbbbbb-0000-0000-0000-000000000000"),
                PromptId::from(PROMPT),
            ],
        };
        self.send(Event::Server(
            ServerKey::FIRST,
            ServerEvent::Queue(snapshot),
        ));
        self
    }

    /// Started; the loader and the encoders came from the cache; the sampler at 12/20
    /// with a preview.
    pub fn running(&mut self) -> &mut Self {
        self.submitted().secs(1.0);
        self.msg(r#"{"type":"execution_start","data":{"prompt_id":"PID","timestamp":1}}"#);
        self.msg(r#"{"type":"execution_cached","data":{"nodes":["4","6","7"],"prompt_id":"PID","timestamp":1}}"#);
        self.executing("5").secs(0.3).executing("3");
        for step in 1..=12 {
            self.secs(0.25).progress("3", step, 20);
        }
        self.preview().secs(0.1)
    }

    pub fn failed(&mut self) -> &mut Self {
        self.running().secs(0.5);
        self.msg(r#"{"type":"execution_error","data":{"prompt_id":"PID","node_id":"3","node_type":"KSampler","executed":["4","6","7","5"],"exception_message":"CUDA out of memory. Tried to allocate 2.00 GiB\n","exception_type":"torch.OutOfMemoryError","traceback":["  File \"/ComfyUI/execution.py\", line 496, in execute\n    output_data, output_ui, has_subgraph = get_output_data(obj, input_data_all)\n","  File \"/ComfyUI/execution.py\", line 315, in get_output_data\n    return_values = _map_node_over_list(obj, input_data_all, obj.FUNCTION)\n","  File \"/ComfyUI/nodes.py\", line 1525, in sample\n    return common_ksampler(model, seed, steps, cfg)\n","  File \"/ComfyUI/comfy/sample.py\", line 43, in sample\n    samples = sampler.sample(noise, positive, negative)\n"],"current_inputs":{},"current_outputs":{},"timestamp":2}}"#);
        self.end().secs(0.2).history("error", "execution_error")
    }

    /// `/history` answered after the end (nothing more to save).
    pub fn history(&mut self, status: &str, last: &str) -> &mut Self {
        self.send(Event::Job(
            JobKey::FIRST,
            JobEvent::History(Some(HistoryEntry {
                outputs: vec![],
                status_str: status.into(),
                completed: true,
                last_message: Some(last.into()),
                error: None,
                cached: vec![],
            })),
        ));
        self
    }

    pub fn interrupted(&mut self) -> &mut Self {
        self.running();
        self.key('c');
        self.key('y');
        self.secs(0.4);
        self.msg(r#"{"type":"execution_interrupted","data":{"prompt_id":"PID","node_id":"3","node_type":"KSampler","executed":["5"],"timestamp":3}}"#);
        self.end()
            .secs(0.2)
            .history("error", "execution_interrupted")
    }

    pub fn done(&mut self) -> &mut Self {
        self.running();
        for step in 13..=20 {
            self.secs(0.25).progress("3", step, 20);
        }
        self.secs(0.1)
            .executing("8")
            .secs(0.4)
            .executing("9")
            .secs(0.2);
        self.executed_image("9", "ComfyUI_00001_.png");
        self.executed_image("9", "ComfyUI_00002_.png");
        self.end().secs(0.1).history("success", "execution_success");
        let path = output_png();
        for (name, path, bytes) in [
            (
                "ComfyUI_00001_.png",
                PathBuf::from("comfy-out/ComfyUI_00001_.png"),
                412_331,
            ),
            ("ComfyUI_00002_.png", path, 398_004),
        ] {
            self.secs(0.2);
            self.send(Event::Job(
                JobKey::FIRST,
                JobEvent::Saved {
                    node: NodeId::from("9"),
                    file: FileRef {
                        media: "images".into(),
                        filename: name.into(),
                        subfolder: String::new(),
                        folder_type: "output".into(),
                    },
                    path,
                    bytes,
                },
            ));
        }
        self
    }
}

impl Default for Scene {
    fn default() -> Self {
        Self::new()
    }
}

/// A small gradient, as a PNG.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A saved output image at a fixed relative path (tests run in the crate folder), so that
/// the final-image pane has a real file to decode and the snapshot a stable path.
pub fn output_png() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = PathBuf::from("target/ui-test-out/ComfyUI_00002_.png");
        std::fs::create_dir_all("target/ui-test-out").expect("output folder");
        std::fs::write(&path, png(64, 64)).expect("output file");
        path
    })
    .clone()
}

/// Renders the app as the TUI would, the preview decoded in place.
pub fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    let mut preview = PreviewState::halfblocks();
    let area = ratatui::layout::Rect::new(0, 0, width, height);
    if let Some(image) = ui::layout(area, app).and_then(|a| a.preview_image()) {
        preview.decode_now(app, image);
    }
    // A batch's contact strip, every picture decoded in place.
    if let Some(strip) = ui::layout(area, app).and_then(|a| a.jobs) {
        let (wanted, size) = ui::jobs::wanted_thumbs(app, strip);
        while let Some(job) = preview.thumb_job(&wanted, size) {
            preview.finish(job.run());
        }
    }
    terminal
        .draw(|frame| ui::render(frame, app, &preview))
        .expect("draw");
    terminal
}

/// The screen as text, one line per row (for `contains` checks).
pub fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}
