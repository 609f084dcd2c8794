//! Every colour and style the UI uses, in one place. Calm by default: colour marks state,
//! bold marks what is happening now, everything else is the terminal's own colours.

use crate::app::Connection;
use crate::cockpit::RowState;
use crate::comfy::listing::Finished;
use crate::job::{NodeState, Outcome, Phase};
use ratatui::style::{Color, Modifier, Style};

pub const ACCENT: Color = Color::Cyan;
pub const GOOD: Color = Color::Green;
pub const BAD: Color = Color::Red;
pub const WARN: Color = Color::Yellow;
pub const DIM: Color = Color::DarkGray;
pub const CACHED: Color = Color::Blue;

pub fn base() -> Style {
    Style::default()
}

pub fn dim() -> Style {
    Style::default().fg(DIM)
}

pub fn title() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

pub fn border() -> Style {
    Style::default().fg(DIM)
}

/// A scrolling pane's border: the accent when the scroll keys move it.
pub fn pane_border(focused: bool) -> Style {
    if focused {
        Style::default().fg(ACCENT)
    } else {
        border()
    }
}

pub fn key() -> Style {
    Style::default().fg(ACCENT).add_modifier(Modifier::BOLD)
}

pub fn label() -> Style {
    Style::default().fg(DIM)
}

pub fn error() -> Style {
    Style::default().fg(BAD)
}

pub fn error_title() -> Style {
    Style::default().fg(BAD).add_modifier(Modifier::BOLD)
}

pub fn warning() -> Style {
    Style::default().fg(WARN)
}

pub fn good() -> Style {
    Style::default().fg(GOOD)
}

/// The graph gauge's filled part.
pub fn graph_gauge() -> Style {
    Style::default().fg(GOOD).bg(Color::Black)
}

/// The running node's gauge.
pub fn node_gauge() -> Style {
    Style::default().fg(ACCENT).bg(Color::Black)
}

/// The running node's row in the list.
pub fn highlight() -> Style {
    Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
}

pub fn popup_border() -> Style {
    Style::default().fg(ACCENT)
}

pub fn node_state(state: NodeState) -> Style {
    match state {
        NodeState::Pending | NodeState::Skipped => dim(),
        NodeState::Cached => Style::default().fg(CACHED),
        NodeState::Running => Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
        NodeState::Done => good(),
        NodeState::Failed => error(),
        NodeState::Interrupted => warning(),
    }
}

/// A one-character mark for a node state, readable without colour.
pub fn node_mark(state: NodeState) -> &'static str {
    match state {
        NodeState::Pending => "·",
        NodeState::Cached => "≡",
        NodeState::Running => "▶",
        NodeState::Done => "✓",
        NodeState::Failed => "✗",
        NodeState::Interrupted => "■",
        NodeState::Skipped => "-",
    }
}

pub fn phase(phase: Phase) -> Style {
    match phase {
        Phase::Connecting | Phase::Submitting | Phase::Queued => warning(),
        Phase::Running => Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
        Phase::Finished(outcome) => self::outcome(outcome).add_modifier(Modifier::BOLD),
    }
}

pub fn outcome(outcome: Outcome) -> Style {
    match outcome {
        Outcome::Success => good(),
        Outcome::Interrupted => warning(),
        Outcome::Error | Outcome::Rejected | Outcome::Lost | Outcome::Timeout => error(),
    }
}

pub fn connection(connection: Connection) -> Style {
    match connection {
        Connection::Connected => good(),
        Connection::Connecting => warning(),
        Connection::Reconnecting { .. } => error(),
    }
}

/// A connection told as a word (the cockpit's header): connected is good, a retry bad,
/// anything else on its way.
pub fn connection_word(word: &str) -> Style {
    if word.starts_with("connected") {
        good()
    } else if word.starts_with("reconnecting") || word.starts_with("disconnected") {
        error()
    } else {
        warning()
    }
}

/// A memory bar by how full it is: room, getting tight, nearly out.
pub fn memory(ratio: f64) -> Style {
    let color = if ratio >= 0.9 {
        BAD
    } else if ratio >= 0.7 {
        WARN
    } else {
        GOOD
    };
    Style::default().fg(color)
}

/// A job's state in the cockpit's table, coloured as the run view colours an outcome.
pub fn job_state(state: RowState) -> Style {
    match state {
        RowState::Running => Style::default().fg(ACCENT).add_modifier(Modifier::BOLD),
        RowState::Pending { .. } => dim(),
        RowState::Finished(Finished::Success) => good(),
        RowState::Finished(Finished::Interrupted) => warning(),
        RowState::Finished(Finished::Error) => error(),
    }
}

/// A one-character mark for a job's state, readable without colour (as the node marks).
pub fn job_mark(state: RowState) -> &'static str {
    match state {
        RowState::Running => "▶",
        RowState::Pending { .. } => "·",
        RowState::Finished(Finished::Success) => "✓",
        RowState::Finished(Finished::Interrupted) => "■",
        RowState::Finished(Finished::Error) => "✗",
    }
}

/// Rows that are mine stand out from other clients' in the owner column.
pub fn mine() -> Style {
    Style::default().fg(ACCENT)
}

/// A table's header row.
pub fn table_header() -> Style {
    Style::default().fg(DIM).add_modifier(Modifier::BOLD)
}
