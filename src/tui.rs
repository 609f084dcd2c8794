//! The interactive loop: wait for events, drain them through `update`, hand the effects
//! to the runtime, and draw at most once per frame budget when something changed.
//!
//! The loop is written against two small traits so that it can be tested without a
//! terminal or a server: [`Driver`] (the runtime: events in, effects out) and [`Screen`]
//! (the terminal: draw, title, notifications).

use crate::app::{self, App, Effect, Event, Stamped};
use crate::runtime::Runtime;
use crate::terminal::{self, Guard};
use crate::ui::{self, PreviewState, preview::Decoded};
use futures_util::StreamExt;
use ratatui::layout::Rect;
use std::future::Future;
use std::io;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// At most this often a frame (about 30 per second).
pub const FRAME: Duration = Duration::from_millis(33);

/// The runtime as the loop sees it.
pub trait Driver {
    /// Starts the background work (socket, ticker).
    fn start(&mut self);
    /// Stops it.
    fn shutdown(&mut self);
    /// Where the terminal reader, the signal listener and the ticker send their events.
    fn sender(&self) -> mpsc::Sender<Stamped>;
    /// Waits for one event and drains those already waiting. Must be cancel-safe (the loop
    /// races it against the frame deadline and the preview decoder).
    fn next_batch(&mut self) -> impl Future<Output = Vec<Stamped>>;
    /// Starts the effects' I/O; `Some(code)` when one of them is `Exit`.
    fn perform(&mut self, effects: Vec<Effect>) -> Option<i32>;
}

impl Driver for Runtime {
    fn start(&mut self) {
        Runtime::start(self);
    }

    fn shutdown(&mut self) {
        Runtime::shutdown(self);
    }

    fn sender(&self) -> mpsc::Sender<Stamped> {
        Runtime::sender(self)
    }

    fn next_batch(&mut self) -> impl Future<Output = Vec<Stamped>> {
        Runtime::next_batch(self)
    }

    fn perform(&mut self, effects: Vec<Effect>) -> Option<i32> {
        Runtime::perform(self, effects)
    }
}

/// The terminal as the loop sees it.
pub trait Screen {
    fn size(&self) -> io::Result<Rect>;
    fn draw(&mut self, app: &App, preview: &PreviewState) -> io::Result<()>;
    fn set_title(&mut self, title: &str) -> io::Result<()>;
    fn notify(&mut self, text: &str) -> io::Result<()>;
    /// Gives the terminal back and stops the process until it is continued, then takes
    /// the terminal again with nothing on it (the next draw repaints every cell).
    fn suspend(&mut self) -> io::Result<()>;
}

#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// A bell and a desktop notification when the run ends.
    pub notify: bool,
    /// Ask the terminal for an image protocol (kitty, sixel, iTerm2); half blocks if not.
    pub query_graphics: bool,
}

impl Default for TuiOptions {
    fn default() -> Self {
        Self {
            notify: true,
            query_graphics: true,
        }
    }
}

/// Set to make the TUI panic right after its first frame: the end-to-end tests use it to
/// check that a panic gives the terminal back.
pub const PANIC_ENV: &str = "COMFY_TUI_TEST_PANIC";

impl Screen for Guard {
    fn size(&self) -> io::Result<Rect> {
        use ratatui::backend::Backend;
        let size = self.terminal_ref().backend().size()?;
        Ok(Rect::new(0, 0, size.width, size.height))
    }

    fn draw(&mut self, app: &App, preview: &PreviewState) -> io::Result<()> {
        self.terminal()
            .draw(|frame| ui::render(frame, app, preview))
            .map(|_| ())
    }

    fn set_title(&mut self, title: &str) -> io::Result<()> {
        Guard::set_title(self, title)
    }

    fn notify(&mut self, text: &str) -> io::Result<()> {
        Guard::notify(self, text)
    }

    fn suspend(&mut self) -> io::Result<()> {
        Guard::suspend(self)
    }
}

/// Runs the TUI until the app asks to exit; restores the terminal, prints the summary and
/// returns the exit code. If the terminal cannot be set up, returns a
/// [`terminal::SetupError`] before touching the app (check with `downcast_ref`); callers
/// that want to fall back to plain output with the same app use [`Guard::new`] first and
/// then [`run_with`].
pub async fn run_tui<D: Driver>(driver: D, app: App, options: TuiOptions) -> anyhow::Result<i32> {
    let guard = Guard::new()?;
    run_with(guard, driver, app, options).await
}

/// [`run_tui`] with a terminal already set up.
pub async fn run_with<D: Driver>(
    mut guard: Guard,
    mut driver: D,
    mut app: App,
    options: TuiOptions,
) -> anyhow::Result<i32> {
    let picker = terminal::picker(options.query_graphics && terminal::graphics_likely());
    let mut preview = PreviewState::new(picker);
    let tasks = [
        tokio::spawn(read_terminal(driver.sender())),
        // In raw mode Ctrl-C is a key; a SIGINT can still come from `kill` or `timeout`.
        crate::signals::spawn(driver.sender(), true),
    ];
    driver.start();
    let panic_after_first_frame = std::env::var_os(PANIC_ENV).is_some();
    let result = drive(
        &mut driver,
        &mut app,
        &mut guard,
        &mut preview,
        &options,
        panic_after_first_frame,
    )
    .await;
    for task in tasks {
        task.abort();
    }
    driver.shutdown();
    drop(guard);
    let code = result?;
    print!("{}", ui::summary::summary(&app));
    Ok(code)
}

/// The loop proper. Returns the exit code the app asked for.
pub async fn drive<D: Driver, S: Screen>(
    driver: &mut D,
    app: &mut App,
    screen: &mut S,
    preview: &mut PreviewState,
    options: &TuiOptions,
    panic_after_first_frame: bool,
) -> io::Result<i32> {
    let (decoded_tx, mut decoded_rx) = mpsc::unbounded_channel::<Decoded>();
    let mut last_draw: Option<Instant> = None;
    let mut title = String::new();
    let mut was_finished = app.job.is_finished();
    let mut exit = None;
    // The keys scroll by what the panes show: the app learns the size before any key.
    let area = screen.size()?;
    let effects = app::update(
        app,
        stamp(Event::Resize {
            width: area.width,
            height: area.height,
        }),
    );
    if let Some(code) = driver.perform(effects) {
        return Ok(code);
    }
    loop {
        let deadline = last_draw.filter(|_| app.dirty).map(|t| t + FRAME);
        tokio::select! {
            biased;
            batch = driver.next_batch() => {
                if batch.is_empty() {
                    // Every sender is gone: nothing more can happen.
                    return Ok(app.exit_code());
                }
                for stamped in batch {
                    if matches!(stamped.event, Event::Tick) && app.is_settled() {
                        // Nothing moves once the run is over: no redraw for the clock.
                        continue;
                    }
                    let mut effects = app::update(app, stamped);
                    let suspend = effects.contains(&Effect::Suspend);
                    effects.retain(|e| *e != Effect::Suspend);
                    if let Some(code) = driver.perform(effects) {
                        exit = Some(code);
                        break;
                    }
                    if suspend {
                        screen.suspend()?;
                        // Back from the shell: the title and every cell are set again,
                        // at the size the terminal has now.
                        title.clear();
                        last_draw = None;
                        let area = screen.size()?;
                        let effects = app::update(
                            app,
                            stamp(Event::Resize {
                                width: area.width,
                                height: area.height,
                            }),
                        );
                        if let Some(code) = driver.perform(effects) {
                            exit = Some(code);
                            break;
                        }
                    }
                }
            }
            Some(decoded) = decoded_rx.recv() => {
                preview.finish(decoded);
                app.dirty = true;
            }
            () = sleep_until(deadline), if deadline.is_some() => {}
        }
        if let Some(code) = exit {
            return Ok(code);
        }
        if app.job.is_finished() && !was_finished {
            was_finished = true;
            // A run the user cancelled needs no bell: they are at the keyboard.
            if options.notify
                && !app.user_cancelled()
                && let Some(text) = ui::title::notification(app)
            {
                screen.notify(&text)?;
            }
        }
        let wanted = ui::title::terminal_title(app);
        if wanted != title {
            screen.set_title(&wanted)?;
            title = wanted;
        }
        let area = screen.size()?;
        let image_area = ui::layout(area, app).and_then(|a| a.preview_image());
        let image_area = image_area.filter(|_| !app.ui.hide_preview);
        if let Some(job) = preview.next_job(app, image_area) {
            let tx = decoded_tx.clone();
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(job.run());
            });
        }
        let now = Instant::now();
        if app.dirty && last_draw.is_none_or(|t| now.duration_since(t) >= FRAME) {
            screen.draw(app, preview)?;
            app.dirty = false;
            last_draw = Some(now);
            if panic_after_first_frame {
                panic!("{PANIC_ENV} is set: panicking after the first frame");
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn stamp(event: Event) -> Stamped {
    Stamped::new(std::time::Instant::now(), event)
}

/// Key presses and resizes, as app events. Ends when the terminal or the loop goes away.
async fn read_terminal(tx: mpsc::Sender<Stamped>) {
    let mut events = ratatui::crossterm::event::EventStream::new();
    while let Some(event) = events.next().await {
        let Ok(event) = event else { break };
        if let Some(event) = terminal::map_event(event)
            && tx.send(stamp(event)).await.is_err()
        {
            break;
        }
    }
}
