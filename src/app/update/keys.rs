//! Keys: what each key does in each state, and scrolling the pane the user points at.

use super::super::keymap::{self, Action, Answer};
use super::super::{App, Effect, Key, Leaving, Pane, Popup, Scroll};
use super::Out;
use super::follow::Follow;
use super::leaving::{leave, quit, quit_when_settled, request_cancel};
use crate::job::Phase;
use crate::session::server::LogStream;
use crate::ui::scroll::{self, Motion};
use std::time::Instant;

pub(super) fn on_key(app: &mut App, key: Key, at: Instant, out: &mut Out) {
    let focus = app.session.focus;
    if keymap::action_for(key) == Some(Action::Suspend) {
        // Ctrl-Z works whatever shows: the question is still there after `fg`.
        out.effects.push(Effect::Suspend);
        return;
    }
    match app.ui.popup {
        Some(Popup::ConfirmCancel) => {
            match keymap::answer_for(keymap::CONFIRM_CANCEL, key) {
                Some(Answer::Yes) => {
                    app.ui.popup = None;
                    request_cancel(&mut Follow::new(app, focus, out), at);
                }
                Some(_) => app.ui.popup = None,
                None => {}
            }
            return;
        }
        Some(Popup::ConfirmCancelBatch) => {
            match keymap::answer_for(keymap::CONFIRM_CANCEL, key) {
                Some(Answer::Yes) => {
                    app.ui.popup = None;
                    super::cancel_all(app, at, out);
                }
                Some(_) => app.ui.popup = None,
                None => {}
            }
            return;
        }
        Some(Popup::ConfirmQuit) => {
            match keymap::answer_for(keymap::CONFIRM_QUIT, key) {
                Some(Answer::LeaveRunning | Answer::CancelRun) if app.job().is_finished() => {
                    // The run ended while the question was open: both answers mean quit.
                    app.ui.popup = None;
                    quit_when_settled(app, out);
                }
                Some(Answer::LeaveRunning) => {
                    app.ui.popup = None;
                    leave(app, at, out, "left running at the user's request");
                }
                Some(Answer::CancelRun) => {
                    app.ui.popup = None;
                    app.leaving = Leaving::WhenSettled;
                    // Quitting cancels all that is ours, not only the job in view.
                    super::cancel_all(app, at, out);
                }
                Some(_) => app.ui.popup = None,
                None => {}
            }
            return;
        }
        Some(Popup::Help) => {
            if matches!(key, Key::Esc | Key::Char('?') | Key::Char('q')) {
                app.ui.popup = None;
            }
            return;
        }
        Some(Popup::ServerLog) => {
            if matches!(key, Key::Esc | Key::Char('L') | Key::Char('q')) {
                app.ui.popup = None;
            }
            return;
        }
        None => {}
    }
    let Some(action) = keymap::action_for(key) else {
        return;
    };
    match action {
        Action::Cancel => {
            if app.job().is_finished() {
                if key == Key::Ctrl('c') {
                    quit(app, at, out);
                }
            } else if !app.focused().user_cancelled() {
                app.ui.popup = Some(Popup::ConfirmCancel);
            }
        }
        Action::Quit => {
            if app.job().is_finished()
                && !app.focused().saves.in_flight.is_empty()
                && !app.quitting()
            {
                // Files are being written: leave when they are (a second `q`: now).
                app.leaving = Leaving::WhenSettled;
            } else if app.job().is_finished()
                || app.focused().user_cancelled() && app.job().phase == Phase::Connecting
            {
                quit(app, at, out);
            } else if app.focused().user_cancelled() {
                // The cancel is on its way already: quit once it is confirmed.
                quit_when_settled(app, out);
            } else {
                app.ui.popup = Some(Popup::ConfirmQuit);
            }
        }
        Action::CancelBatch => {
            if app.is_batch() && !app.session.jobs.iter().all(|t| t.job.is_finished()) {
                app.ui.popup = Some(Popup::ConfirmCancelBatch);
            }
        }
        Action::SwitchJob => {
            let total = app.session.jobs.len();
            let now = app.session.focus.0;
            let next = if key == Key::Char(']') {
                (now + 1).min(total.saturating_sub(1))
            } else {
                now.saturating_sub(1)
            };
            if next != now {
                app.session.focus = crate::session::JobKey(next);
                // The view starts over for the job now shown.
                app.ui.nodes = Scroll::FOLLOW;
                app.ui.error = Scroll::TOP;
            }
        }
        Action::TogglePreview => app.ui.hide_preview = !app.ui.hide_preview,
        Action::ToggleLog => app.ui.show_log = !app.ui.show_log,
        Action::Help => app.ui.popup = Some(Popup::Help),
        Action::ServerLog => {
            app.ui.popup = Some(Popup::ServerLog);
            let key = app.focused().server;
            let server = app.session.server_mut(key);
            if std::mem::replace(&mut server.log_stream, LogStream::Subscribed) == LogStream::Off {
                out.effects.push(Effect::SubscribeLogs(key));
            }
        }
        Action::ScrollUp => scroll_focused(app, Motion::Up(1)),
        Action::ScrollDown => scroll_focused(app, Motion::Down(1)),
        Action::PageUp => scroll_focused(app, Motion::PageUp),
        Action::PageDown => scroll_focused(app, Motion::PageDown),
        Action::Top => scroll_focused(app, Motion::Top),
        Action::Bottom => scroll_focused(app, Motion::Bottom),
        Action::Follow => {
            app.ui.nodes = Scroll::FOLLOW;
            app.ui.log = Scroll::FOLLOW;
        }
        Action::FocusNext => app.ui.focus = Some(scroll::next_focus(app)),
        Action::Suspend => {}
        Action::ClosePopup => {}
    }
}

fn scroll_focused(app: &mut App, motion: Motion) {
    let pane = scroll::focused(app);
    scroll_pane(app, pane, motion);
}

/// Moves a pane's view from where it shows now; following stops.
pub(super) fn scroll_pane(app: &mut App, pane: Pane, motion: Motion) {
    let Some(view) = scroll::view(app, pane) else {
        return;
    };
    let first = scroll::moved(&view, motion);
    let offset = match pane {
        Pane::Log => crate::ui::log::anchor(app, first),
        Pane::Nodes | Pane::Error => first,
    };
    *app.ui.scroll_mut(pane) = Scroll {
        offset,
        follow: false,
    };
}
