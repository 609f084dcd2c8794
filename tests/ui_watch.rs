//! The cockpit as `watch` draws it (`watch::view`), into `TestBackend`: the questions,
//! the help, the server log, the filter being typed and an answer in the footer, fed
//! through the cockpit's own update from `/queue` and `/history` bodies.

use comfy_tui::app::{Event, Key, ServerEvent, ServerKey, Stamped};
use comfy_tui::comfy::listing::{HistoryItem, QueueListing};
use comfy_tui::comfy::{ClientId, PromptId};
use comfy_tui::session::Server;
use comfy_tui::watch::state::Cockpit;
use comfy_tui::watch::{update::update, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use std::time::Instant;

const NOW: u64 = 1_796_073_000_000;

fn id(n: u64) -> String {
    format!("{n:08x}-5a5a-4b4b-8c8c-{n:012x}")
}

fn item(n: u64, client: &str) -> serde_json::Value {
    json!([n, id(n), {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
        "3": {"class_type": "KSampler", "inputs": {"seed": n, "steps": 30, "model": ["4", 0]},
              "_meta": {"title": "KSampler"}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["3", 0]}}
    }, {"client_id": client, "create_time": NOW - n * 7_000}, ["9"]])
}

fn cockpit(width: u16, height: u16) -> (Cockpit, Instant) {
    let t0 = Instant::now();
    let server = Server::new("http://gpu-box.lan:8188/".into(), ClientId::from("watch"));
    let mine = [PromptId::from(id(3).as_str())].into_iter().collect();
    let mut cockpit = Cockpit::new(server, mine, t0, NOW);
    let send = |cockpit: &mut Cockpit, event: Event| {
        update(cockpit, Stamped::new(t0, event));
    };
    send(&mut cockpit, Event::Resize { width, height });
    send(
        &mut cockpit,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Connected { reconnect: false },
        ),
    );
    let queue = QueueListing::from_value(&json!({
        "queue_running": [item(1, "web-ui")],
        "queue_pending": [item(2, "web-ui"), item(3, "me"), item(4, "laptop")],
    }));
    let history = HistoryItem::list_from_value(&json!({
        id(9): {
            "prompt": item(9, "me"),
            "outputs": {"9": {"images": [{"filename": "lighthouse_00001_.png", "subfolder": "", "type": "output"}]}},
            "status": {"status_str": "success", "completed": true, "messages": [
                ["execution_start", {"prompt_id": id(9), "timestamp": NOW - 90_000}],
                ["execution_success", {"prompt_id": id(9), "timestamp": NOW - 62_000}]]},
            "meta": {}
        }
    }));
    send(
        &mut cockpit,
        Event::Server(ServerKey::FIRST, ServerEvent::Listing { queue, history }),
    );
    let stats = comfy_tui::comfy::system::SystemStats::from_value(&json!({
        "system": {"os": "posix", "ram_total": 68_719_476_736u64, "ram_free": 40_000_000_000u64,
                   "comfyui_version": "0.3.64"},
        "devices": [{"name": "cuda:0 NVIDIA GeForce RTX 4090", "type": "cuda", "index": 0,
                     "vram_total": 25_757_220_864u64, "vram_free": 9_000_000_000u64,
                     "torch_vram_total": 0, "torch_vram_free": 0}]
    }));
    send(
        &mut cockpit,
        Event::Server(ServerKey::FIRST, ServerEvent::Stats(stats)),
    );
    (cockpit, t0)
}

fn keys(cockpit: &mut Cockpit, t0: Instant, keys: &[Key]) {
    for key in keys {
        update(cockpit, Stamped::new(t0, Event::Key(*key)));
    }
}

fn draw(cockpit: &Cockpit) -> Terminal<TestBackend> {
    let (width, height) = cockpit.screen;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|frame| {
            view::render(
                frame,
                cockpit,
                &comfy_tui::ui::preview::PreviewState::halfblocks(),
            )
        })
        .expect("draw");
    terminal
}

#[test]
fn the_cockpit_at_three_sizes() {
    for (width, height) in [(80, 24), (120, 40), (60, 20)] {
        let (cockpit, _) = cockpit(width, height);
        insta::assert_snapshot!(
            format!("cockpit_{width}x{height}"),
            draw(&cockpit).backend()
        );
    }
}

#[test]
fn the_delete_question_names_the_prompt_and_whose_it_is() {
    let (mut cockpit, t0) = cockpit(80, 24);
    keys(
        &mut cockpit,
        t0,
        &[Key::Char('g'), Key::Down, Key::Char('d')],
    );
    insta::assert_snapshot!("delete_question_80x24", draw(&cockpit).backend());
}

#[test]
fn the_help_lists_every_key() {
    let (mut cockpit, t0) = cockpit(120, 40);
    keys(&mut cockpit, t0, &[Key::Char('?')]);
    let screen = format!("{:?}", draw(&cockpit).backend());
    for binding in comfy_tui::watch::keymap::KEYMAP {
        assert!(screen.contains(binding.label), "{} missing", binding.label);
    }
    insta::assert_snapshot!("help_120x40", draw(&cockpit).backend());
}

#[test]
fn the_server_log_shows_sanitised_lines() {
    let (mut cockpit, t0) = cockpit(80, 24);
    keys(&mut cockpit, t0, &[Key::Char('L')]);
    update(
        &mut cockpit,
        Stamped::new(
            t0,
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Log(vec![
                    "got prompt".into(),
                    "\u{1b}]0;pwned\u{7}Prompt executed in 4.20 seconds".into(),
                ]),
            ),
        ),
    );
    let terminal = draw(&cockpit);
    let screen = format!("{:?}", terminal.backend());
    assert!(screen.contains("Prompt executed in 4.20 seconds"));
    assert!(!screen.contains('\u{1b}'));
    insta::assert_snapshot!("server_log_80x24", terminal.backend());
}

#[test]
fn a_filter_being_typed_and_an_answer_in_the_footer() {
    let (mut cockpit, t0) = cockpit(80, 24);
    keys(
        &mut cockpit,
        t0,
        &[
            Key::Char('/'),
            Key::Char('m'),
            Key::Char('i'),
            Key::Char('n'),
        ],
    );
    insta::assert_snapshot!("filter_typing_80x24", draw(&cockpit).backend());
    keys(
        &mut cockpit,
        t0,
        &[Key::Esc, Key::Char('g'), Key::Char('d')],
    );
    assert!(cockpit.notice.is_some(), "a running job cannot be deleted");
    insta::assert_snapshot!("notice_80x24", draw(&cockpit).backend());
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

#[test]
fn a_finished_job_shows_its_output_picture_in_the_preview_pane() {
    use comfy_tui::ui::preview::{PreviewState, Source, Target};
    let (mut cockpit, t0) = cockpit(120, 40);
    keys(&mut cockpit, t0, &[Key::Char('G')]);
    let file = cockpit
        .picture
        .file()
        .cloned()
        .expect("the picture is asked for");
    assert_eq!(file.filename, "lighthouse_00001_.png");
    update(
        &mut cockpit,
        Stamped::new(
            t0,
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Picture {
                    file: file.clone(),
                    bytes: png(64, 64).into(),
                },
            ),
        ),
    );
    let area = comfy_tui::ui::cockpit::layout(
        ratatui::layout::Rect::new(0, 0, 120, 40),
        cockpit.rows.len(),
    )
    .and_then(|a| a.preview)
    .expect("a preview pane at 120×40");
    let mut preview = PreviewState::halfblocks();
    let bytes = match &cockpit.picture {
        comfy_tui::watch::state::Picture::Have(_, bytes) => bytes.clone(),
        other => panic!("the picture arrived: {other:?}"),
    };
    let job = preview
        .job_for_bytes(
            Target {
                source: Source::Remote(file),
                size: area.as_size(),
            },
            bytes,
        )
        .expect("a decode");
    preview.finish(job.run());
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    terminal
        .draw(|frame| view::render(frame, &cockpit, &preview))
        .expect("draw");
    insta::assert_snapshot!("picture_120x40", terminal.backend());
}
