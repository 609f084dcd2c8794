//! The interactive loop against a fake runtime and a `TestBackend` screen: coalesced
//! draws, the frame budget, title and notification, exit codes.

mod ui_common;

use bytes::Bytes;
use comfy_tui::app::{Effect, Event, Signal, Stamped};
use comfy_tui::app::{JobEvent, JobKey, ServerEvent, ServerKey};
use comfy_tui::comfy::preview::{BinaryFrame, ImageFormat, Preview};
use comfy_tui::comfy::ws::WsItem;
use comfy_tui::terminal::{ByteCount, Counting};
use comfy_tui::tui::{self, Driver, Screen, TuiOptions};
use comfy_tui::ui::preview::Source;
use comfy_tui::ui::{self, PreviewState};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::{TerminalOptions, Viewport};
use std::io;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use ui_common::Scene;

struct FakeDriver {
    tx: mpsc::Sender<Stamped>,
    rx: mpsc::Receiver<Stamped>,
    effects: Vec<Effect>,
}

impl FakeDriver {
    fn new() -> Self {
        let (tx, rx) = mpsc::channel(1024);
        Self {
            tx,
            rx,
            effects: Vec::new(),
        }
    }
}

impl Driver for FakeDriver {
    fn start(&mut self) {}
    fn shutdown(&mut self) {}

    fn sender(&self) -> mpsc::Sender<Stamped> {
        self.tx.clone()
    }

    async fn next_batch(&mut self) -> Vec<Stamped> {
        let mut batch = Vec::new();
        if let Some(first) = self.rx.recv().await {
            batch.push(first);
        }
        while let Ok(more) = self.rx.try_recv() {
            batch.push(more);
        }
        batch
    }

    fn perform(&mut self, effects: Vec<Effect>) -> Option<i32> {
        let exit = effects.iter().find_map(|e| match e {
            Effect::Exit(code) => Some(*code),
            _ => None,
        });
        self.effects.extend(effects);
        exit
    }
}

struct FakeScreen {
    terminal: Terminal<TestBackend>,
    draws: Vec<Instant>,
    titles: Vec<String>,
    notifications: Vec<String>,
    suspends: usize,
    suspended_at: Option<Instant>,
    /// Sent into the loop when the process is "resumed" (to end a test).
    on_resume: Option<(mpsc::Sender<Stamped>, Signal)>,
}

impl FakeScreen {
    fn new() -> Self {
        Self {
            terminal: Terminal::new(TestBackend::new(80, 24)).expect("terminal"),
            draws: Vec::new(),
            titles: Vec::new(),
            notifications: Vec::new(),
            suspends: 0,
            suspended_at: None,
            on_resume: None,
        }
    }
}

impl Screen for FakeScreen {
    fn size(&self) -> io::Result<Rect> {
        Ok(Rect::new(0, 0, 80, 24))
    }

    fn draw(&mut self, app: &comfy_tui::app::App, preview: &PreviewState) -> io::Result<()> {
        self.draws.push(Instant::now());
        let _ = self.terminal.draw(|f| ui::render(f, app, preview));
        Ok(())
    }

    fn set_title(&mut self, title: &str) -> io::Result<()> {
        self.titles.push(title.to_owned());
        Ok(())
    }

    fn notify(&mut self, text: &str) -> io::Result<()> {
        self.notifications.push(text.to_owned());
        Ok(())
    }

    fn suspend(&mut self) -> io::Result<()> {
        self.suspends += 1;
        self.suspended_at = Some(Instant::now());
        if let Some((tx, sig)) = &self.on_resume {
            let _ = tx.try_send(signal(*sig));
        }
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        0
    }
}

fn options() -> TuiOptions {
    TuiOptions {
        notify: true,
        query_graphics: false,
        preview_budget: comfy_tui::budget::DEFAULT_BYTES_PER_SEC,
    }
}

fn signal(signal: Signal) -> Stamped {
    Stamped::new(Instant::now(), Event::Signal(signal))
}

async fn run(
    driver: &mut FakeDriver,
    scene: &mut Scene,
    screen: &mut FakeScreen,
) -> io::Result<i32> {
    let mut preview = PreviewState::halfblocks();
    let options = options();
    let run = tui::drive(
        driver,
        &mut scene.app,
        screen,
        &mut preview,
        &options,
        false,
    );
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .expect("the loop ends")
}

#[tokio::test]
async fn a_burst_of_events_is_drawn_once_and_a_hangup_detaches() {
    let mut scene = Scene::new();
    // Preview hidden: a decode result would be a (legitimate) second frame.
    scene.running().key('p');
    let mut driver = FakeDriver::new();
    for step in 13..=18 {
        scene.secs(0.05);
        let json = format!(
            r#"{{"type":"progress","data":{{"value":{step},"max":20,"prompt_id":"PID","node":"3"}}}}"#
        );
        driver.tx.send(scene.stamped(&json)).await.expect("send");
    }
    let tx = driver.sender();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = tx.send(signal(Signal::Hangup)).await;
    });
    let mut screen = FakeScreen::new();
    let code = run(&mut driver, &mut scene, &mut screen)
        .await
        .expect("run");
    assert_eq!(code, comfy_tui::exit::DETACHED);
    assert_eq!(screen.draws.len(), 1, "one batch, one frame");
    assert_eq!(screen.titles, vec!["[70%] KSampler — comfy-tui".to_owned()]);
    assert!(screen.notifications.is_empty());
}

#[tokio::test]
async fn frames_are_spaced_by_the_budget_and_the_last_change_is_drawn() {
    let mut scene = Scene::new();
    scene.running();
    let mut driver = FakeDriver::new();
    let tx = driver.sender();
    let messages: Vec<Stamped> = (13..=16)
        .map(|step| {
            scene.secs(0.05);
            scene.stamped(&format!(
                r#"{{"type":"progress","data":{{"value":{step},"max":20,"prompt_id":"PID","node":"3"}}}}"#
            ))
        })
        .collect();
    tokio::spawn(async move {
        for message in messages {
            let _ = tx.send(message).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Room for the preview decode on a busy machine.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let _ = tx.send(signal(Signal::Hangup)).await;
    });
    let mut screen = FakeScreen::new();
    run(&mut driver, &mut scene, &mut screen)
        .await
        .expect("run");
    assert!(screen.draws.len() >= 2, "{:?}", screen.draws);
    for pair in screen.draws.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(gap >= tui::FRAME - Duration::from_millis(1), "{gap:?}");
    }
    // The last progress made it to the screen even though it came inside a frame budget.
    let screen_text = ui_common::screen_text(&screen.terminal);
    assert!(screen_text.contains("16/20"), "{screen_text}");
    // The preview was decoded off the loop and came back as a frame of its own.
    assert!(screen_text.contains('▄'), "{screen_text}");
}

#[tokio::test]
async fn the_end_of_the_run_notifies_once_and_the_view_stays_until_q() {
    let mut scene = Scene::new();
    // Preview hidden: no decode result arrives to cause a frame of its own.
    scene.running().key('p');
    let mut driver = FakeDriver::new();
    for json in [
        r#"{"type":"execution_success","data":{"prompt_id":"PID","timestamp":9}}"#,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    ] {
        driver.tx.send(scene.stamped(json)).await.expect("send");
    }
    let tx = driver.sender();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(80)).await;
        let _ = tx
            .send(Stamped::new(
                Instant::now(),
                Event::Job(JobKey::FIRST, JobEvent::History(Some(Default::default()))),
            ))
            .await;
        tokio::time::sleep(Duration::from_millis(80)).await;
        // Ticks after the run change nothing on screen: no frame for them.
        for _ in 0..3 {
            let _ = tx.send(Stamped::new(Instant::now(), Event::Tick)).await;
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        let _ = tx
            .send(Stamped::new(
                Instant::now(),
                Event::Key(comfy_tui::app::Key::Char('q')),
            ))
            .await;
    });
    let mut screen = FakeScreen::new();
    let code = run(&mut driver, &mut scene, &mut screen)
        .await
        .expect("run");
    assert_eq!(code, 0);
    assert_eq!(screen.notifications, vec!["comfy-tui: run done".to_owned()]);
    assert_eq!(
        screen.titles.last().map(String::as_str),
        Some("[done] — comfy-tui")
    );
    assert_eq!(
        screen.draws.len(),
        2,
        "the end, then the history; not the ticks"
    );
}

#[tokio::test]
async fn ctrl_z_suspends_and_everything_is_drawn_again_on_resume() {
    let mut scene = Scene::new();
    scene.running().key('p');
    // The loop tells the app the real size before anything else.
    scene.app.ui.screen = (1, 1);
    let mut driver = FakeDriver::new();
    driver
        .tx
        .send(Stamped::new(
            Instant::now(),
            Event::Key(comfy_tui::app::Key::Ctrl('z')),
        ))
        .await
        .expect("send");
    let mut screen = FakeScreen::new();
    screen.on_resume = Some((driver.sender(), Signal::Hangup));
    let code = run(&mut driver, &mut scene, &mut screen)
        .await
        .expect("run");
    assert_eq!(code, comfy_tui::exit::DETACHED);
    assert_eq!(scene.app.ui.screen, (80, 24));
    assert_eq!(screen.suspends, 1);
    assert!(
        !driver.effects.contains(&Effect::Suspend),
        "not the runtime's job"
    );
    let resumed = screen.suspended_at.expect("suspended");
    assert!(
        screen.draws.iter().any(|d| *d >= resumed),
        "a full frame after the resume"
    );
    assert!(!screen.titles.is_empty());
}

/// A screen that writes real escape sequences (into nothing) and counts them.
struct ByteScreen {
    terminal: Terminal<CrosstermBackend<Counting<io::Sink>>>,
    written: ByteCount,
    area: Rect,
    /// When each frame was drawn and what it wrote.
    draws: Vec<(Instant, u64)>,
    /// Told when a frame showing this picture has been drawn.
    drawn: Option<(Source, std::sync::Arc<tokio::sync::Notify>)>,
}

impl ByteScreen {
    fn new(width: u16, height: u16) -> Self {
        let out = Counting::new(io::sink());
        let written = out.count();
        let backend = CrosstermBackend::new(out);
        let area = Rect::new(0, 0, width, height);
        let viewport = Viewport::Fixed(area);
        Self {
            terminal: Terminal::with_options(backend, TerminalOptions { viewport })
                .expect("terminal"),
            written,
            area,
            draws: Vec::new(),
            drawn: None,
        }
    }
}

impl Screen for ByteScreen {
    fn size(&self) -> io::Result<Rect> {
        Ok(self.area)
    }

    fn draw(&mut self, app: &comfy_tui::app::App, preview: &PreviewState) -> io::Result<()> {
        let before = self.bytes_written();
        self.terminal.draw(|f| ui::render(f, app, preview))?;
        self.draws
            .push((Instant::now(), self.bytes_written() - before));
        if let Some((wanted, notify)) = &self.drawn
            && preview.shown_target().map(|t| &t.source) == Some(wanted)
        {
            notify.notify_one();
        }
        Ok(())
    }

    fn set_title(&mut self, _: &str) -> io::Result<()> {
        Ok(())
    }

    fn notify(&mut self, _: &str) -> io::Result<()> {
        Ok(())
    }

    fn suspend(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.written.get()
    }
}

/// A sampler at 20 steps/s sending a new, everywhere-different preview each step for
/// 3 s, then moving on to the next node. Returns the screen, what the pane showed last,
/// and how many previews the job saw.
async fn preview_stream(budget: u64) -> (ByteScreen, Option<Source>, u64) {
    let mut scene = Scene::new();
    scene.running();
    let steps = 60u64;
    let frames: Vec<Bytes> = (1..=steps)
        .map(|i| Bytes::from(comfy_tui::sim::images::preview_jpeg(512, 512, 9, i, steps)))
        .collect();
    let mut driver = FakeDriver::new();
    let tx = driver.sender();
    let mut events = Vec::new();
    for (i, image) in frames.into_iter().enumerate() {
        scene.secs(0.05);
        events.push(scene.stamped(&format!(
            r#"{{"type":"progress","data":{{"value":{},"max":{steps},"prompt_id":"PID","node":"3"}}}}"#,
            i + 1
        )));
        let preview = Preview {
            format: ImageFormat::Jpeg,
            meta: None,
            image,
        };
        events.push(Stamped::new(
            scene.t0 + scene.at,
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Ws(WsItem::Binary(BinaryFrame::Preview(preview))),
            ),
        ));
    }
    let next_node = scene.stamped(
        r#"{"type":"executing","data":{"node":"8","display_node":"8","prompt_id":"PID"}}"#,
    );
    let last_drawn = std::sync::Arc::new(tokio::sync::Notify::new());
    let drawn = std::sync::Arc::clone(&last_drawn);
    tokio::spawn(async move {
        // The pace of a real sampler: these sleeps make the stream, they wait for nothing.
        let mut events = events.into_iter();
        while let (Some(progress), Some(preview)) = (events.next(), events.next()) {
            let _ = tx.send(progress).await;
            let _ = tx.send(preview).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = tx.send(next_node).await;
        // Leave once the node's last preview is on screen (bounded: the loop's own
        // timeout below fails the test if it never is).
        let _ = tokio::time::timeout(Duration::from_secs(15), drawn.notified()).await;
        let _ = tx.send(signal(Signal::Hangup)).await;
    });
    let mut screen = ByteScreen::new(120, 40);
    screen.drawn = Some((Source::Preview(steps + 1), last_drawn));
    let mut preview = PreviewState::halfblocks();
    let options = TuiOptions {
        notify: false,
        query_graphics: false,
        preview_budget: budget,
    };
    let run = tui::drive(
        &mut driver,
        &mut scene.app,
        &mut screen,
        &mut preview,
        &options,
        false,
    );
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the loop ends")
        .expect("run");
    let shown = preview.shown_target().map(|t| t.source.clone());
    (screen, shown, scene.app.job().previews)
}

/// A draw that repainted a picture, not just text.
const PICTURE_DRAW: u64 = 4000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_byte_budget_holds_under_a_preview_every_step_and_the_last_one_is_drawn() {
    let budget = comfy_tui::budget::DEFAULT_BYTES_PER_SEC;
    let (screen, shown, previews) = preview_stream(budget).await;
    // The scene's own preview, then the stream's.
    assert_eq!(previews, 61);
    let total: u64 = screen.draws.iter().map(|(_, n)| n).sum();
    let first = screen.draws.first().expect("drawn").0;
    let last = screen.draws.last().expect("drawn").0;
    // The whole run fits in one 5 s window: all of it must fit the window's budget.
    assert!(last.duration_since(first) < Duration::from_secs(5));
    // The node's last preview is always drawn, whatever the budget says: it alone may
    // come on top (on a loaded machine it can land inside the same window).
    let largest = screen.draws.iter().map(|(_, n)| *n).max().unwrap_or(0);
    assert!(
        total - largest <= budget * 5,
        "{total} bytes, largest draw {largest}"
    );
    let pictures: Vec<Instant> = screen
        .draws
        .iter()
        .filter(|(_, n)| *n >= PICTURE_DRAW)
        .map(|(t, _)| *t)
        .collect();
    assert!(pictures.len() >= 3, "{:?}", screen.draws);
    for pair in pictures.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        // The floor is a second; a decode on a busy machine may add a little.
        assert!(gap <= Duration::from_millis(1400), "{gap:?}");
    }
    // The sampler's last preview was drawn once its node was done.
    assert_eq!(shown, Some(Source::Preview(61)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_budget_every_preview_costs_a_full_repaint() {
    let (unlimited, shown, _) = preview_stream(0).await;
    let total: u64 = unlimited.draws.iter().map(|(_, n)| n).sum();
    let pictures = unlimited
        .draws
        .iter()
        .filter(|(_, n)| *n >= PICTURE_DRAW)
        .count();
    let seconds = unlimited
        .draws
        .last()
        .expect("drawn")
        .0
        .duration_since(unlimited.draws[0].0)
        .as_secs_f64();
    eprintln!("unlimited: {total} bytes, {pictures} pictures in {seconds:.1} s");
    // As many pictures as the decoder keeps up with (fewer in a debug build), each a
    // full repaint of the pane: more bytes a second than the default budget lets through.
    assert!(pictures >= 3, "{pictures} pictures");
    assert!(
        total as f64 / seconds > comfy_tui::budget::DEFAULT_BYTES_PER_SEC as f64 * 1.2,
        "{total} bytes in {seconds:.1} s"
    );
    assert_eq!(shown, Some(Source::Preview(61)));
}
