//! The interactive loop against a fake runtime and a `TestBackend` screen: coalesced
//! draws, the frame budget, title and notification, exit codes.

mod ui_common;

use comfy_tui::app::{Effect, Event, Signal, Stamped};
use comfy_tui::tui::{self, Driver, Screen, TuiOptions};
use comfy_tui::ui::{self, PreviewState};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
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
}

fn options() -> TuiOptions {
    TuiOptions {
        notify: true,
        query_graphics: false,
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
                Event::History(Some(Default::default())),
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
