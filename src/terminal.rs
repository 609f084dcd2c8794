//! The terminal guard: raw mode, the alternate screen and mouse reports on the way in, and
//! always undone on the way out (drop, panic hook, SIGTERM/SIGHUP via the loop, Ctrl-Z).
//! Also the mapping from crossterm's key events to the app's keys, the title and
//! notification escapes, and the count of every byte written to the terminal (the view's
//! byte budget is kept on it).

use crate::app::{self, Key};
use crate::text::sanitize;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self, Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent,
    MouseEventKind,
};
use ratatui::crossterm::{cursor, execute, terminal};
use std::io::{self, IsTerminal, Stdout, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Once};

/// Whether the terminal is in our hands (raw, alternate screen): restore only then, once.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// xterm's title stack: save the user's title on entry, give it back on exit.
const PUSH_TITLE: &str = "\x1b[22;0t";
const POP_TITLE: &str = "\x1b[23;0t";

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("standard input and output are not both a terminal")]
    NotATerminal,
    #[error("could not set up the terminal: {0}")]
    Io(#[from] io::Error),
}

pub type Backend = CrosstermBackend<Counting<Stdout>>;

/// A writer that counts the bytes that went through it: what the terminal actually
/// received, escapes included, as the byte budget needs. The count is read through a
/// [`ByteCount`] handle, since the backend owns the writer.
#[derive(Debug)]
pub struct Counting<W> {
    inner: W,
    written: ByteCount,
}

/// A shared view of a [`Counting`] writer's total.
#[derive(Debug, Clone, Default)]
pub struct ByteCount(Arc<AtomicU64>);

impl ByteCount {
    /// Bytes written so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl<W> Counting<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            written: ByteCount::default(),
        }
    }

    /// A handle that reads this writer's total.
    pub fn count(&self) -> ByteCount {
        self.written.clone()
    }
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The terminal in raw mode on the alternate screen; restored when dropped.
pub struct Guard {
    terminal: Terminal<Backend>,
    written: ByteCount,
}

impl Guard {
    /// Takes over the terminal. On error nothing is left changed, so the caller can fall
    /// back to plain lines.
    pub fn new() -> Result<Self, SetupError> {
        if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
            return Err(SetupError::NotATerminal);
        }
        install_panic_hook();
        let out = Counting::new(io::stdout());
        let written = out.count();
        let entered = enter().and_then(|()| Terminal::new(CrosstermBackend::new(out)));
        match entered {
            Ok(terminal) => Ok(Self { terminal, written }),
            Err(error) => {
                restore();
                Err(SetupError::Io(error))
            }
        }
    }

    /// Ctrl-Z: gives the terminal back, stops the process as the shell expects, and when
    /// it is resumed (`fg`, SIGCONT) takes the terminal again and clears it, so that the
    /// next draw repaints every cell.
    pub fn suspend(&mut self) -> io::Result<()> {
        restore();
        stop_process();
        enter()?;
        // Not `Terminal::clear`: it asks the terminal where the cursor is, and the answer
        // would go to the key reader instead.
        ratatui::backend::Backend::clear(self.terminal.backend_mut())?;
        // Both buffers blank: the next draw writes every cell that is not.
        self.terminal.swap_buffers();
        self.terminal.current_buffer_mut().reset();
        Ok(())
    }

    pub fn terminal(&mut self) -> &mut Terminal<Backend> {
        &mut self.terminal
    }

    pub fn terminal_ref(&self) -> &Terminal<Backend> {
        &self.terminal
    }

    /// Bytes written to the terminal through the view so far.
    pub fn bytes_written(&self) -> u64 {
        self.written.get()
    }

    /// Sets the window title (sanitized: it goes straight into an escape sequence).
    pub fn set_title(&mut self, title: &str) -> io::Result<()> {
        execute!(
            self.terminal.backend_mut(),
            terminal::SetTitle(sanitize(title))
        )
    }

    /// A bell and an OSC 9 desktop notification (iTerm2, kitty, WezTerm, foot, ...).
    pub fn notify(&mut self, text: &str) -> io::Result<()> {
        let backend = self.terminal.backend_mut();
        write!(backend, "\x07\x1b]9;{}\x1b\\", sanitize(text))?;
        backend.flush()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Overrides the graphics detection: `halfblocks` never asks the terminal, `query` always does.
pub const GRAPHICS_ENV: &str = "COMFY_TUI_GRAPHICS";

/// Whether asking the terminal about pictures is worth it. A terminal that never answers
/// costs the query's timeout and leaves its reader thread blocked on standard input, where
/// it would swallow the user's next key; so only terminals that announce themselves as
/// able to draw pictures are asked. Inside tmux, half blocks (passthrough is often off).
pub fn graphics_likely() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    match var(GRAPHICS_ENV).as_str() {
        "halfblocks" => return false,
        "query" => return true,
        _ => {}
    }
    if std::env::var_os("TMUX").is_some() || var("TERM").starts_with("screen") {
        return false;
    }
    let term = var("TERM");
    let program = var("TERM_PROGRAM");
    std::env::var_os("KITTY_WINDOW_ID").is_some()
        || std::env::var_os("WEZTERM_EXECUTABLE").is_some()
        || std::env::var_os("GHOSTTY_RESOURCES_DIR").is_some()
        || var("LC_TERMINAL") == "iTerm2"
        || [
            "kitty", "ghostty", "foot", "wezterm", "sixel", "mlterm", "contour",
        ]
        .iter()
        .any(|t| term.contains(t))
        || matches!(
            program.as_str(),
            "iTerm.app" | "WezTerm" | "ghostty" | "vscode" | "WarpTerminal" | "rio" | "mintty"
        )
}

/// How pictures are drawn: asks the terminal (kitty, sixel, iTerm2) when `query` is set,
/// else half blocks. Call it after [`Guard::new`] and before reading terminal events: the
/// answer arrives on standard input.
pub fn picker(query: bool) -> ratatui_image::picker::Picker {
    use ratatui_image::picker::{Picker, cap_parser::QueryStdioOptions};
    if query {
        // Kitty pictures go deflated when the terminal says it can inflate them: raw RGBA
        // in base64 is the most expensive thing a view can send.
        let options = QueryStdioOptions {
            kitty_compression: true,
            ..QueryStdioOptions::default()
        };
        Picker::from_query_stdio_with_options(options).unwrap_or_else(|_| Picker::halfblocks())
    } else {
        Picker::halfblocks()
    }
}

/// Raw mode, the alternate screen, mouse reports, the cursor hidden and the user's title
/// saved. On error the caller restores.
fn enter() -> io::Result<()> {
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(
        io::stdout(),
        terminal::EnterAlternateScreen,
        event::EnableMouseCapture,
        cursor::Hide
    )?;
    let mut out = io::stdout();
    out.write_all(PUSH_TITLE.as_bytes())?;
    out.flush()
}

/// Stops the process group the way the terminal does for Ctrl-Z in cooked mode; returns
/// once the process is continued.
#[cfg(unix)]
fn stop_process() {
    // SAFETY: kill(2) with pid 0 and a valid signal number has no memory effects; it
    // stops this process group until a SIGCONT comes.
    unsafe {
        libc::kill(0, libc::SIGTSTP);
    }
}

#[cfg(not(unix))]
fn stop_process() {}

/// Gives the terminal back: idempotent, errors ignored (there is nobody left to tell).
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = out.write_all(POP_TITLE.as_bytes());
    let _ = execute!(
        out,
        event::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal before the default hook prints the panic, so that the message
/// lands on the normal screen and the shell is usable afterwards.
///
/// Only a panic on the thread that owns the screen ends the view. A background task that
/// panics (a preview decoder fed odd bytes) is logged instead: its runtime turns the panic
/// into an error, the view goes on, and a message printed now would land on the screen.
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let owner = std::thread::current().id();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == owner || !ACTIVE.load(Ordering::SeqCst) {
                restore();
                previous(info);
            } else {
                tracing::error!("a background task panicked: {info}");
            }
        }));
    });
}

/// A key press as the app knows it; releases and repeats are dropped (terminals with the
/// kitty keyboard protocol report them, and a held key must not confirm twice).
pub fn map_key(event: KeyEvent) -> Option<Key> {
    if event.kind != KeyEventKind::Press {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Esc => Key::Esc,
        KeyCode::Enter => Key::Enter,
        KeyCode::Tab => Key::Tab,
        KeyCode::Backspace => Key::Backspace,
        _ => return None,
    })
}

/// A terminal event as an app event, if the app cares.
pub fn map_event(event: TermEvent) -> Option<app::Event> {
    match event {
        TermEvent::Key(key) => map_key(key).map(app::Event::Key),
        TermEvent::Resize(width, height) => Some(app::Event::Resize { width, height }),
        TermEvent::Mouse(MouseEvent {
            kind: kind @ (MouseEventKind::ScrollUp | MouseEventKind::ScrollDown),
            column,
            row,
            ..
        }) => Some(app::Event::Wheel {
            column,
            row,
            down: kind == MouseEventKind::ScrollDown,
        }),
        TermEvent::Mouse(MouseEvent {
            kind: MouseEventKind::Down(ratatui::crossterm::event::MouseButton::Left),
            column,
            row,
            ..
        }) => Some(app::Event::Click { column, row }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEventState;

    fn key(code: KeyCode, modifiers: KeyModifiers, kind: KeyEventKind) -> KeyEvent {
        KeyEvent {
            code,
            modifiers,
            kind,
            state: KeyEventState::NONE,
        }
    }

    #[test]
    fn only_presses_become_keys() {
        let press = key(KeyCode::Char('c'), KeyModifiers::NONE, KeyEventKind::Press);
        assert_eq!(map_key(press), Some(Key::Char('c')));
        for kind in [KeyEventKind::Release, KeyEventKind::Repeat] {
            assert_eq!(
                map_key(key(KeyCode::Char('y'), KeyModifiers::NONE, kind)),
                None
            );
        }
    }

    #[test]
    fn ctrl_c_is_a_key_and_shifted_letters_keep_their_case() {
        let ctrl_c = key(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
            KeyEventKind::Press,
        );
        assert_eq!(map_key(ctrl_c), Some(Key::Ctrl('c')));
        let big_g = key(KeyCode::Char('G'), KeyModifiers::SHIFT, KeyEventKind::Press);
        assert_eq!(map_key(big_g), Some(Key::Char('G')));
        let f1 = key(KeyCode::F(1), KeyModifiers::NONE, KeyEventKind::Press);
        assert_eq!(map_key(f1), None);
    }

    #[test]
    fn the_counting_writer_counts_what_went_through() {
        let mut w = Counting::new(Vec::new());
        let count = w.count();
        w.write_all(b"\x1b[1;1Hhello").unwrap();
        w.write_all("▀".as_bytes()).unwrap();
        assert_eq!(count.get(), 14);
        assert_eq!(w.inner.len(), 14);
    }

    #[test]
    fn resize_carries_the_size_and_only_the_wheel_of_the_mouse_counts() {
        assert!(matches!(
            map_event(TermEvent::Resize(100, 28)),
            Some(app::Event::Resize {
                width: 100,
                height: 28
            })
        ));
        assert!(map_event(TermEvent::FocusGained).is_none());
        let mouse = |kind| {
            map_event(TermEvent::Mouse(MouseEvent {
                kind,
                column: 7,
                row: 9,
                modifiers: KeyModifiers::NONE,
            }))
        };
        assert!(matches!(
            mouse(MouseEventKind::ScrollDown),
            Some(app::Event::Wheel {
                column: 7,
                row: 9,
                down: true
            })
        ));
        assert!(matches!(
            mouse(MouseEventKind::ScrollUp),
            Some(app::Event::Wheel { down: false, .. })
        ));
        assert!(mouse(MouseEventKind::Moved).is_none());
    }
}
