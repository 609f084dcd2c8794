//! The cockpit's screen rendered into `TestBackend` (insta snapshots at 80×24, 120×40 and
//! 60×20), fed from `/queue`, `/history` and `/system_stats` bodies in the shapes a real
//! server sends: a running prompt with progress, pending prompts of two clients, and a
//! history of a success, a failure, an interrupt and a text output.

use comfy_tui::cockpit::{self, JobRow, Motion, Selection, filter};
use comfy_tui::comfy::listing::{HistoryItem, QueueListing};
use comfy_tui::comfy::system::SystemStats;
use comfy_tui::comfy::{ClientId, PromptId};
use comfy_tui::ui::cockpit::{CockpitView, layout, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use serde_json::{Value, json};

/// This machine's client id (a job store would say these prompts are mine).
const MINE: &str = "3f9c2a7e1b5d4c8a9e0f6b2d7a1c4e8f";
/// Someone in the web UI.
const THEIRS: &str = "a41f0c9e2b7d4e15b8c3d6f9e0a1b2c3";
const NOW: u64 = 1_796_073_000_000;
const SEC: u64 = 1_000;

const HINTS: &[(&str, &str)] = &[
    ("↵", "follow"),
    ("i", "interrupt"),
    ("d", "delete"),
    ("f", "front"),
    ("r", "re-run"),
    ("/", "filter"),
    ("L", "log"),
    ("?", "help"),
    ("q", "quit"),
];

fn txt2img(seed: u64) -> Value {
    json!({
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl_base_1.0.safetensors"},
              "_meta": {"title": "Load Checkpoint"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse at dusk", "clip": ["4", 1]},
              "_meta": {"title": "Positive Prompt"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]},
              "_meta": {"title": "Negative Prompt"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 2},
              "_meta": {"title": "Empty Latent Image"}},
        "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": 30, "cfg": 7.0,
              "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
              "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]},
              "_meta": {"title": "KSampler"}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]},
              "_meta": {"title": "VAE Decode"}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "lighthouse", "images": ["8", 0]},
              "_meta": {"title": "Save Image"}}
    })
}

fn probe() -> Value {
    json!({
        "1": {"class_type": "ProbeSteps", "inputs": {"steps": 10, "step_seconds": 0.1, "seed": 3,
              "fail_at_step": 3}, "_meta": {"title": "Probe Steps (fails at 3)"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "probe_fail"},
              "_meta": {"title": "Save Image"}}
    })
}

fn item(number: i64, id: &str, prompt: Value, client: Option<&str>, created: u64) -> Value {
    let mut extra = json!({"create_time": created});
    if let Some(client) = client {
        extra["client_id"] = json!(client);
    }
    json!([number, id, prompt, extra, ["9"]])
}

/// A `/queue` body: one running, five pending (sent in heap order, not run order).
fn queue() -> QueueListing {
    QueueListing::from_value(&json!({
        "queue_running": [item(41, "af66ea32-a4ab-473f-ac83-40f5c3f5c844", txt2img(1), Some(MINE), NOW - 95 * SEC)],
        "queue_pending": [
            item(44, "0b3e7c51-9d2a-4f6e-8a1b-5c4d3e2f1a0b", txt2img(4), Some(THEIRS), NOW - 12 * SEC),
            item(42, "556212cd-3495-4284-a16b-54b5b53ffe87", txt2img(2), Some(THEIRS), NOW - 80 * SEC),
            item(45, "e9d8c7b6-a5f4-4e3d-9c2b-1a0f9e8d7c6b", probe(), Some(MINE), NOW - 3 * SEC),
            item(43, "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", txt2img(3), Some(MINE), NOW - 61 * SEC),
            item(46, "19a8b7c6-d5e4-4f3a-b2c1-0d9e8f7a6b5c", txt2img(5), None, NOW - SEC),
        ]
    }))
}

fn status(outcome: &str, id: &str, start: u64, last: Value) -> Value {
    json!({
        "status_str": if outcome == "success" { "success" } else { "error" },
        "completed": outcome == "success",
        "messages": [
            ["execution_start", {"prompt_id": id, "timestamp": start}],
            ["execution_cached", {"nodes": [], "prompt_id": id, "timestamp": start}],
            last
        ]
    })
}

/// A `/history?max_items=4` body, oldest first as the server sends it.
fn history() -> Vec<HistoryItem> {
    let success = "5d2f8e1a-6b3c-4d9e-a7f0-1e2d3c4b5a69";
    let failed = "c5813cad-f35e-4938-aaa9-a08170dd2838";
    let interrupted = "a0799e8e-eb6b-4f8b-88ad-ba8bbce544fb";
    let text = "2e4c6a8b-0d1f-4e3a-9b5c-7d9e1f3a5b7c";
    HistoryItem::list_from_value(&json!({
        text: {
            "prompt": [30, text, {"1": {"class_type": "ShowText", "inputs": {"text": "hi"}}}, {"client_id": THEIRS}, ["1"]],
            "outputs": {"1": {"text": ["a lighthouse, dusk, 35mm\nsecond line"]}},
            "status": status("success", text, NOW - 3_600 * SEC,
                json!(["execution_success", {"prompt_id": text, "timestamp": NOW - 3_598 * SEC}])),
            "meta": {}
        },
        interrupted: {
            "prompt": [38, interrupted, txt2img(9), {"client_id": THEIRS}, ["9"]],
            "outputs": {},
            "status": status("interrupted", interrupted, NOW - 700 * SEC,
                json!(["execution_interrupted", {"prompt_id": interrupted, "node_id": "3",
                    "node_type": "KSampler", "executed": ["4", "5", "6", "7"], "timestamp": NOW - 694 * SEC}])),
            "meta": {}
        },
        failed: {
            "prompt": [39, failed, probe(), {"client_id": MINE}, ["2"]],
            "outputs": {},
            "status": status("error", failed, NOW - 400 * SEC,
                json!(["execution_error", {"prompt_id": failed, "node_id": "1", "node_type": "ProbeSteps",
                    "executed": [], "exception_message": "ProbeSteps: deliberate failure at step 3 of 10 (fail_at_step=3)\n",
                    "exception_type": "RuntimeError", "traceback": ["  File \"execution.py\", line 496\n"],
                    "current_inputs": {}, "current_outputs": ["2", "1"], "timestamp": NOW - 399 * SEC}])),
            "meta": {}
        },
        success: {
            "prompt": [40, success, txt2img(7), {"client_id": MINE}, ["9"]],
            "outputs": {"9": {"images": [
                {"filename": "lighthouse_00041_.png", "subfolder": "", "type": "output"},
                {"filename": "lighthouse_00042_.png", "subfolder": "", "type": "output"}]}},
            "status": status("success", success, NOW - 230 * SEC,
                json!(["execution_success", {"prompt_id": success, "timestamp": NOW - 105 * SEC}])),
            "meta": {"9": {"node_id": "9", "display_node": "9", "parent_node": null, "real_node_id": "9"}}
        }
    }))
}

/// `/system_stats` of a box with one GPU.
fn stats() -> SystemStats {
    SystemStats::from_value(&json!({
        "system": {"os": "linux", "ram_total": 67_205_427_200u64, "ram_free": 41_875_238_912u64,
                   "comfyui_version": "0.3.64", "python_version": "3.11.7", "pytorch_version": "2.8.0+cu128",
                   "embedded_python": false, "argv": ["main.py", "--listen"]},
        "devices": [{"name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync", "type": "cuda", "index": 0,
                     "vram_total": 25_757_220_864u64, "vram_free": 6_120_734_720u64,
                     "torch_vram_total": 18_253_611_008u64, "torch_vram_free": 1_342_177_280u64}]
    }))
}

/// Everything a cockpit holds for one server, as its update would.
struct Cockpit {
    queue: QueueListing,
    history: Vec<HistoryItem>,
    stats: Option<SystemStats>,
    rows: Vec<JobRow>,
    filter: Option<String>,
    selection: Selection,
}

impl Cockpit {
    fn new() -> Self {
        let queue = queue();
        let history = history();
        let mut all = cockpit::rows(
            Some(&queue),
            &history,
            |_: &PromptId, client: Option<&ClientId>| client.is_some_and(|c| c.as_str() == MINE),
        );
        // What the socket said of the running prompt.
        all[0].progress = Some(0.45);
        all[0].started_ms = Some(NOW - 42 * SEC);
        Self {
            queue,
            history,
            stats: Some(stats()),
            rows: all,
            filter: None,
            selection: Selection::default(),
        }
    }

    fn shown(&self) -> Vec<JobRow> {
        filter::apply(&self.rows, self.filter.as_deref().unwrap_or(""))
    }

    /// The selection refreshed for the rows shown at this size, then `motion`.
    fn select(&mut self, width: u16, height: u16, motion: Option<Motion>) {
        let shown = self.shown();
        let rows =
            layout(Rect::new(0, 0, width, height), shown.len()).map_or(0, |a| a.table_rows());
        self.selection.refresh(&shown, rows);
        if let Some(motion) = motion {
            self.selection.apply(motion, &shown, rows);
        }
    }

    fn draw(&self, width: u16, height: u16) -> Terminal<TestBackend> {
        let shown = self.shown();
        let selected = self.selection.selected().and_then(|i| shown.get(i));
        let id = selected.map(|row| &row.prompt_id);
        let record = id.and_then(|id| {
            self.queue
                .items()
                .map(|(record, _)| record)
                .find(|record| &record.prompt_id == id)
        });
        let history = id.and_then(|id| self.history.iter().find(|h| &h.prompt_id == id));
        let view = CockpitView {
            server: "gpu-box.lan:8188",
            connection: "connected",
            stats: self.stats.as_ref(),
            rows: &shown,
            selected: self.selection.selected(),
            offset: self.selection.offset(),
            record,
            history,
            filter: self.filter.as_deref(),
            now_ms: NOW,
            hints: HINTS,
        };
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal.draw(|frame| render(frame, &view)).expect("draw");
        terminal
    }
}

fn screen(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect()
        })
        .collect()
}

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (60, 20)];

#[test]
fn a_failed_job_selected_at_every_size() {
    for (w, h) in SIZES {
        let mut cockpit = Cockpit::new();
        // Running, five pending, the success, then the failure.
        cockpit.select(w, h, Some(Motion::Down(7)));
        let terminal = cockpit.draw(w, h);
        let text = screen(&terminal).join("\n");
        assert!(text.contains("c5813cad-f35e"), "{text}");
        assert!(text.contains("deliberate failure"), "{text}");
        insta::assert_snapshot!(format!("failed_selected_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn the_running_job_selected_at_every_size() {
    for (w, h) in SIZES {
        let mut cockpit = Cockpit::new();
        cockpit.select(w, h, None);
        let terminal = cockpit.draw(w, h);
        insta::assert_snapshot!(format!("running_selected_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn a_filter_keeps_my_jobs() {
    let mut cockpit = Cockpit::new();
    cockpit.filter = Some("mine".into());
    cockpit.select(80, 24, Some(Motion::Down(3)));
    let terminal = cockpit.draw(80, 24);
    let lines = screen(&terminal);
    assert!(lines.iter().any(|l| l.starts_with("/mine")), "{lines:#?}");
    assert!(
        !lines.iter().any(|l| l.contains(&THEIRS[..8])),
        "{lines:#?}"
    );
    insta::assert_snapshot!("filter_mine_80x24", terminal.backend());
}

#[test]
fn no_stats_yet() {
    let mut cockpit = Cockpit::new();
    cockpit.stats = None;
    cockpit.select(80, 24, Some(Motion::Down(6)));
    let terminal = cockpit.draw(80, 24);
    assert!(screen(&terminal)[1].starts_with("stats unavailable"));
    insta::assert_snapshot!("no_stats_80x24", terminal.backend());
}

#[test]
fn too_small_says_so() {
    let cockpit = Cockpit::new();
    let terminal = cockpit.draw(59, 20);
    let text = screen(&terminal).join("\n");
    assert!(text.contains("Terminal too small"), "{text}");
    assert!(text.contains("59×20, needs 60×20"), "{text}");
}

#[test]
fn the_selected_row_is_highlighted_and_scrolled_into_view() {
    let mut cockpit = Cockpit::new();
    cockpit.select(80, 24, Some(Motion::Bottom));
    let area = layout(Rect::new(0, 0, 80, 24), cockpit.rows.len()).expect("fits");
    let terminal = cockpit.draw(80, 24);
    let lines = screen(&terminal);
    let buffer = terminal.backend().buffer();
    let body = area.table.y + 2;
    let last = body + area.table_rows() as u16 - 1;
    assert!(lines[usize::from(last)].contains("2e4c6a8b"), "{lines:#?}");
    assert!(buffer[(2, last)].modifier.contains(Modifier::REVERSED));
    assert!(!buffer[(2, body)].modifier.contains(Modifier::REVERSED));
    // A click on the first body line selects the row shown there.
    let line = area.table_line(5, body).expect("in the body");
    let shown = cockpit.shown();
    assert!(cockpit.selection.click(line, &shown, area.table_rows()));
    assert_eq!(
        cockpit.selection.selected(),
        Some(cockpit.selection.offset())
    );
    assert_eq!(
        area.table_line(5, area.table.y),
        None,
        "the border is no row"
    );
}

#[test]
fn the_preview_area_is_left_blank_for_the_caller() {
    for (w, h) in [(80, 24), (120, 40)] {
        let cockpit = Cockpit::new();
        let area = layout(Rect::new(0, 0, w, h), cockpit.rows.len()).expect("fits");
        let preview = area.preview.expect("room for a preview");
        let terminal = cockpit.draw(w, h);
        let buffer = terminal.backend().buffer();
        for y in preview.top()..preview.bottom() {
            for x in preview.left()..preview.right() {
                assert_eq!(buffer[(x, y)].symbol(), " ", "{w}x{h} at {x},{y}");
            }
        }
    }
    assert_eq!(
        layout(Rect::new(0, 0, 60, 20), 10).expect("fits").preview,
        None
    );
}

#[test]
fn server_text_is_sanitised() {
    let mut cockpit = Cockpit::new();
    cockpit.history = HistoryItem::list_from_value(&json!({
        "bad\u{1b}]0;owned\u{7}": {
            "prompt": [1, "bad\u{1b}]0;owned\u{7}", {"1": {"class_type": "Evil\u{1b}[2J", "inputs": {},
                        "_meta": {"title": "t\u{9b}31m"}}}, {"client_id": "c\u{1b}[31mlient"}, ["1"]],
            "outputs": {"1": {"images": [{"filename": "a\u{202e}gnp.exe", "subfolder": "s\u{7}", "type": "output"}]}},
            "status": {"status_str": "success", "completed": true, "messages": []}
        }
    }));
    cockpit.rows = cockpit::rows(None, &cockpit.history, |_, _| false);
    cockpit.select(120, 40, None);
    let text = screen(&cockpit.draw(120, 40)).join("\n");
    for bad in ['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'] {
        assert!(!text.contains(bad), "{bad:?} reached the screen");
    }
    assert!(text.contains("s/agnp.exe"), "{text}");
    assert!(text.contains("Evil"), "{text}");
}

#[test]
fn a_text_output_with_the_table_scrolled_to_the_end() {
    let mut cockpit = Cockpit::new();
    cockpit.select(80, 24, Some(Motion::Bottom));
    let terminal = cockpit.draw(80, 24);
    let text = screen(&terminal).join("\n");
    assert!(text.contains("“a lighthouse, dusk, 35mm”"), "{text}");
    insta::assert_snapshot!("text_output_bottom_80x24", terminal.backend());
}
