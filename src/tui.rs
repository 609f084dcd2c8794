//! The interactive loop: wait for events, drain them through `update`, hand the effects
//! to the runtime, and draw at most once per frame budget when something changed. It keeps
//! the view's byte budget: every byte the screen wrote is counted, and a step preview is
//! decoded only when [`PreviewBudget`] says it may be shown.
//!
//! The loop is written against two small traits so that it can be tested without a
//! terminal or a server: [`Driver`] (the runtime: events in, effects out) and [`Screen`]
//! (the terminal: draw, title, notifications).

use crate::app::{self, App, Effect, Event, Stamped};
use crate::budget::{Picture, PreviewBudget};
use crate::runtime::Runtime;
use crate::terminal::{self, Guard};
use crate::ui::preview::{Decoded, Source};
use crate::ui::{self, PreviewState};
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
    /// Bytes written to the terminal so far, escapes included.
    fn bytes_written(&self) -> u64;
}

#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// A bell and a desktop notification when the run ends.
    pub notify: bool,
    /// Ask the terminal for an image protocol (kitty, sixel, iTerm2); half blocks if not.
    pub query_graphics: bool,
    /// What the whole view may write, in bytes a second averaged over 5 s; 0 = unlimited.
    pub preview_budget: u64,
}

impl Default for TuiOptions {
    fn default() -> Self {
        Self {
            notify: true,
            query_graphics: true,
            preview_budget: crate::budget::DEFAULT_BYTES_PER_SEC,
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

    fn bytes_written(&self) -> u64 {
        Guard::bytes_written(self)
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
    let mut preview = PreviewState::new(picker).budgeted(options.preview_budget > 0);
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
    let mut was_finished = app.job().is_finished();
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
    let mut budget = PreviewBudget::new(options.preview_budget, preview.cell_bytes_guess());
    let mut counted = screen.bytes_written();
    // A picture decoded but not drawn yet: its first draw tells what pictures cost.
    let mut fresh_picture = false;
    // When a preview held back by the budget may be shown, if one is.
    let mut held_until: Option<Instant> = None;
    loop {
        let frame_due = last_draw.filter(|_| app.dirty).map(|t| t + FRAME);
        let deadline = match (frame_due, held_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
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
                fresh_picture = true;
                app.dirty = true;
            }
            () = sleep_until(deadline), if deadline.is_some() => {}
        }
        if let Some(code) = exit {
            return Ok(code);
        }
        if app.job().is_finished() && !was_finished {
            was_finished = true;
            // A run the user cancelled needs no bell: they are at the keyboard.
            if options.notify
                && !app.focused().user_cancelled()
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
        let now = Instant::now();
        let area = screen.size()?;
        let image_area = ui::layout(area, app).and_then(|a| a.preview_image());
        let image_area = image_area.filter(|_| !app.ui.hide_preview);
        let (image_area, picture) = picture_box(app, image_area, &budget, preview);
        // A batch's contact strip: its small pictures, one decode at a time.
        if let Some(strip) = ui::layout(area, app).and_then(|a| a.jobs) {
            let (wanted, size) = ui::jobs::wanted_thumbs(app, strip);
            if let Some(job) = preview.thumb_job(&wanted, size) {
                let tx = decoded_tx.clone();
                tokio::task::spawn_blocking(move || {
                    let _ = tx.send(job.run());
                });
            }
        }
        held_until = None;
        if preview.pending(app, image_area).is_some() {
            if budget.may_show(now.into_std(), picture) {
                if let Some(job) = preview.next_job(app, image_area) {
                    let tx = decoded_tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let _ = tx.send(job.run());
                    });
                }
            } else {
                held_until = Some(Instant::from_std(budget.next_chance(now.into_std())));
            }
        }
        if app.dirty && last_draw.is_none_or(|t| Instant::now().duration_since(t) >= FRAME) {
            let before = screen.bytes_written();
            // The frame clock starts when the frame does, not when this pass began.
            last_draw = Some(Instant::now());
            screen.draw(app, preview)?;
            app.dirty = false;
            if fresh_picture {
                fresh_picture = false;
                let cost = screen.bytes_written().saturating_sub(before);
                budget.record(now.into_std(), cost);
                counted += cost;
                let cells = preview
                    .shown_size()
                    .map_or(0, |s| u32::from(s.width) * u32::from(s.height));
                budget.picture_drawn(now.into_std(), cells, cost);
            }
            if panic_after_first_frame {
                panic!("{PANIC_ENV} is set: panicking after the first frame");
            }
        }
        let total = screen.bytes_written();
        budget.record(now.into_std(), total.saturating_sub(counted));
        counted = total;
    }
}

/// Where the wanted picture goes and whether the budget may skip it: a step preview is
/// fitted to the box the budget affords, and so is a node's last preview (the same size,
/// no jump); an output gets the whole pane.
fn picture_box(
    app: &App,
    area: Option<Rect>,
    budget: &PreviewBudget,
    preview: &PreviewState,
) -> (Option<Rect>, Picture) {
    match PreviewState::wanted(app) {
        Some(Source::Preview(_)) => {
            let picture = if app.job().preview_is_final() {
                Picture::Final
            } else {
                Picture::Step
            };
            let fitted = area.map(|a| {
                let size = budget.fit(a.as_size(), preview.shown_size());
                // Centred where the full box would be, so the pane looks the same.
                Rect::new(
                    a.x + (a.width - size.width) / 2,
                    a.y + (a.height - size.height) / 2,
                    size.width,
                    size.height,
                )
            });
            (fitted, picture)
        }
        _ => (area, Picture::Final),
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
pub(crate) async fn read_terminal(tx: mpsc::Sender<Stamped>) {
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
