//! The keymap as data: one table drives key dispatch, the footer hints and the help popup.

use super::event::Key;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Cancel,
    /// Cancel every job of a batch.
    CancelBatch,
    /// Show the next (`]`) or the previous (`[`) job of a batch.
    SwitchJob,
    Quit,
    TogglePreview,
    ToggleLog,
    Help,
    ServerLog,
    ScrollUp,
    ScrollDown,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Follow,
    FocusNext,
    Suspend,
    ClosePopup,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    /// How the keys are written in the footer and help (`c`, `↑/k`).
    pub label: &'static str,
    pub action: Action,
    /// One or two words for the footer.
    pub hint: &'static str,
    /// A sentence for the help popup.
    pub help: &'static str,
    pub in_footer: bool,
}

pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: &[Key::Char('c'), Key::Ctrl('c')],
        label: "c",
        action: Action::Cancel,
        hint: "cancel",
        help: "Cancel this run on the server (asks first). Ctrl-C does the same while it runs.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('C')],
        label: "C",
        action: Action::CancelBatch,
        hint: "cancel all",
        help: "In a batch: cancel every job (asks first): pending ones are removed first, then the running one stops.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Char(']'), Key::Char('[')],
        label: "] [",
        action: Action::SwitchJob,
        hint: "job",
        help: "In a batch: show the next (]) or the previous ([) job.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Char('q')],
        label: "q",
        action: Action::Quit,
        hint: "quit",
        help: "Quit. While the run goes on, asks whether to leave it running or cancel it.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('p')],
        label: "p",
        action: Action::TogglePreview,
        hint: "preview",
        help: "Show or hide the preview image.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('l')],
        label: "l",
        action: Action::ToggleLog,
        hint: "log",
        help: "Show or hide the event log.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('L')],
        label: "L",
        action: Action::ServerLog,
        hint: "server log",
        help: "Show the server's own log (ComfyUI's console).",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Char('?')],
        label: "?",
        action: Action::Help,
        hint: "help",
        help: "Show this help.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Up, Key::Char('k')],
        label: "↑/k",
        action: Action::ScrollUp,
        hint: "up",
        help: "Scroll the focused pane up.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Down, Key::Char('j')],
        label: "↓/j",
        action: Action::ScrollDown,
        hint: "down",
        help: "Scroll the focused pane down.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::PageUp],
        label: "PgUp",
        action: Action::PageUp,
        hint: "page up",
        help: "Scroll a page up.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::PageDown],
        label: "PgDn",
        action: Action::PageDown,
        hint: "page down",
        help: "Scroll a page down.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Home, Key::Char('g')],
        label: "Home/g",
        action: Action::Top,
        hint: "top",
        help: "Go to the top.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::End, Key::Char('G')],
        label: "End/G",
        action: Action::Bottom,
        hint: "bottom",
        help: "Go to the bottom.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Char('f'), Key::Char('F')],
        label: "f",
        action: Action::Follow,
        hint: "follow",
        help: "Follow the running node and the newest log line again.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Tab],
        label: "Tab",
        action: Action::FocusNext,
        hint: "focus",
        help: "Move the scroll keys to the next pane; the wheel scrolls the one under it.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Ctrl('z')],
        label: "Ctrl-Z",
        action: Action::Suspend,
        hint: "suspend",
        help: "Suspend to the shell; fg brings the view back.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Esc],
        label: "Esc",
        action: Action::ClosePopup,
        hint: "close",
        help: "Close a popup.",
        in_footer: false,
    },
];

/// Keys that mean something only in a batch (the help of a single run leaves them out).
pub fn batch_only(action: Action) -> bool {
    matches!(action, Action::CancelBatch | Action::SwitchJob)
}

pub fn action_for(key: Key) -> Option<Action> {
    KEYMAP
        .iter()
        .find(|b| b.keys.contains(&key))
        .map(|b| b.action)
}

/// Answers inside a popup; the popup's own table, shown in the popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    LeaveRunning,
    CancelRun,
    Stay,
}

#[derive(Debug, Clone, Copy)]
pub struct AnswerBinding {
    pub keys: &'static [Key],
    pub label: &'static str,
    pub answer: Answer,
    pub text: &'static str,
}

pub const CONFIRM_CANCEL: &[AnswerBinding] = &[
    AnswerBinding {
        keys: &[Key::Char('y'), Key::Char('Y'), Key::Enter, Key::Ctrl('c')],
        label: "y",
        answer: Answer::Yes,
        text: "cancel the run",
    },
    AnswerBinding {
        keys: &[Key::Char('n'), Key::Char('N'), Key::Esc],
        label: "n",
        answer: Answer::No,
        text: "keep it running",
    },
];

pub const CONFIRM_QUIT: &[AnswerBinding] = &[
    AnswerBinding {
        keys: &[Key::Char('l'), Key::Char('L')],
        label: "l",
        answer: Answer::LeaveRunning,
        text: "leave it running on the server",
    },
    AnswerBinding {
        keys: &[Key::Char('c'), Key::Char('C'), Key::Ctrl('c')],
        label: "c",
        answer: Answer::CancelRun,
        text: "cancel it, then quit",
    },
    AnswerBinding {
        keys: &[Key::Char('s'), Key::Char('S'), Key::Esc, Key::Char('q')],
        label: "s",
        answer: Answer::Stay,
        text: "stay",
    },
];

pub fn answer_for(table: &[AnswerBinding], key: Key) -> Option<Answer> {
    table
        .iter()
        .find(|b| b.keys.contains(&key))
        .map(|b| b.answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn no_key_is_bound_twice() {
        let mut seen = HashSet::new();
        for binding in KEYMAP {
            for key in binding.keys {
                assert!(seen.insert(*key), "{key:?} bound twice");
            }
        }
    }

    #[test]
    fn every_binding_dispatches_to_its_action() {
        for binding in KEYMAP {
            for key in binding.keys {
                assert_eq!(action_for(*key), Some(binding.action));
            }
        }
    }
}
