//! The cockpit's keys as data: one table drives dispatch, the footer hints, the help
//! popup and the README's list.

use crate::app::Key;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Follow,
    Interrupt,
    Delete,
    ClearMine,
    Front,
    Free,
    Rerun,
    Save,
    Filter,
    ServerLog,
    Help,
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Esc: closes what is open, or clears the filter.
    Back,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    pub label: &'static str,
    pub action: Action,
    pub hint: &'static str,
    pub help: &'static str,
    pub in_footer: bool,
}

pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: &[Key::Enter],
        label: "↵",
        action: Action::Follow,
        hint: "follow",
        help: "Follow the selected job in the live view (as `run` shows it); q there comes back.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('i')],
        label: "i",
        action: Action::Interrupt,
        hint: "interrupt",
        help: "Interrupt the selected running job, only that one (asks first).",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('d')],
        label: "d",
        action: Action::Delete,
        hint: "delete",
        help: "Remove the selected pending job from the queue (asks first).",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('D')],
        label: "D",
        action: Action::ClearMine,
        hint: "clear mine",
        help: "Remove every pending job of mine from the queue (asks first).",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Char('f')],
        label: "f",
        action: Action::Front,
        hint: "front",
        help: "Move the selected pending job to the front: removed, then submitted again in front (a new id).",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('F')],
        label: "F",
        action: Action::Free,
        hint: "free",
        help: "Free the server's memory: unload models and empty caches (asks first).",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Char('r')],
        label: "r",
        action: Action::Rerun,
        hint: "re-run",
        help: "Run the selected finished job again (same prompt, a new id).",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('s')],
        label: "s",
        action: Action::Save,
        hint: "save",
        help: "Save the selected finished job's outputs into --out.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('/')],
        label: "/",
        action: Action::Filter,
        hint: "filter",
        help: "Filter the jobs: type words (id, mine, a client id, a state); Enter keeps, Esc clears.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Char('L')],
        label: "L",
        action: Action::ServerLog,
        hint: "log",
        help: "Show the server's own log (ComfyUI's console).",
        in_footer: true,
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
        keys: &[Key::Char('q'), Key::Ctrl('c')],
        label: "q",
        action: Action::Quit,
        hint: "quit",
        help: "Quit the cockpit; jobs on the server go on.",
        in_footer: true,
    },
    Binding {
        keys: &[Key::Up, Key::Char('k')],
        label: "↑/k",
        action: Action::Up,
        hint: "up",
        help: "Select the job above.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Down, Key::Char('j')],
        label: "↓/j",
        action: Action::Down,
        hint: "down",
        help: "Select the job below.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::PageUp],
        label: "PgUp",
        action: Action::PageUp,
        hint: "page up",
        help: "Up a page of jobs.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::PageDown],
        label: "PgDn",
        action: Action::PageDown,
        hint: "page down",
        help: "Down a page of jobs.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Home, Key::Char('g')],
        label: "g",
        action: Action::Top,
        hint: "top",
        help: "Select the first job.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::End, Key::Char('G')],
        label: "G",
        action: Action::Bottom,
        hint: "bottom",
        help: "Select the last job.",
        in_footer: false,
    },
    Binding {
        keys: &[Key::Esc],
        label: "Esc",
        action: Action::Back,
        hint: "back",
        help: "Close what is open, or clear the filter.",
        in_footer: false,
    },
];

pub fn action_for(key: Key) -> Option<Action> {
    KEYMAP
        .iter()
        .find(|b| b.keys.contains(&key))
        .map(|b| b.action)
}

/// The footer's hints, in table order.
pub fn hints() -> Vec<(&'static str, &'static str)> {
    KEYMAP
        .iter()
        .filter(|b| b.in_footer)
        .map(|b| (b.label, b.hint))
        .collect()
}

/// The keys as a Markdown table, for the README (a test keeps the two in step).
pub fn markdown_key_table() -> String {
    let mut out = String::from("| Key | Action |\n|-----|--------|\n");
    for binding in KEYMAP {
        let keys: Vec<String> = binding
            .keys
            .iter()
            .map(|k| format!("`{}`", crate::ui::help::key_name(*k)))
            .collect();
        out.push_str(&format!("| {} | {} |\n", keys.join(", "), binding.help));
    }
    out
}
