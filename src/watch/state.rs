//! What the cockpit holds: the session of the watched server (its connection, queue,
//! recent history, memory and log), which of its prompts are this machine's, the rows
//! shown, the selection, the filter, the open popup and the last answer. Pure data.

use crate::app::effect::Request;
use crate::cockpit::{JobRow, Selection};
use crate::comfy::PromptId;
use crate::comfy::listing::{HistoryItem, PromptRecord};
use crate::session::{Server, ServerKey, Session};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// The `/` filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Off,
    /// Being typed: every key goes into it until Enter or Esc.
    Typing(String),
    On(String),
}

impl Filter {
    pub fn query(&self) -> Option<&str> {
        match self {
            Self::Off => None,
            Self::Typing(q) | Self::On(q) => Some(q),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    /// A request that waits for `y` or `n`.
    Confirm {
        question: String,
        request: Request,
    },
    Help,
    ServerLog,
}

/// One thing read from the server now and then (the listing, the memory figures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Poll {
    pub asked: Option<Instant>,
    pub in_flight: bool,
    /// Something changed while a read was in flight: read again when it answers.
    pub stale: bool,
}

impl Poll {
    /// Due when nothing is in flight and the last read is `every` old.
    pub fn due(&self, at: Instant, every: Duration) -> bool {
        !self.in_flight
            && self
                .asked
                .is_none_or(|t| at.saturating_duration_since(t) >= every)
    }
}

/// The picture the preview pane shows: the selected finished job's first image output.
#[derive(Debug, Clone, PartialEq)]
pub enum Picture {
    None,
    Fetching(crate::comfy::FileRef),
    Have(crate::comfy::FileRef, bytes::Bytes),
}

impl Picture {
    pub fn file(&self) -> Option<&crate::comfy::FileRef> {
        match self {
            Self::None => None,
            Self::Fetching(file) | Self::Have(file, _) => Some(file),
        }
    }
}

/// The answer to the last request, shown in the footer until the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub failed: bool,
}

#[derive(Debug)]
pub struct Cockpit {
    /// The watched server; it follows no jobs of its own (Enter follows one in the live
    /// view).
    pub session: Session,
    pub server: ServerKey,
    /// Prompts this machine submitted to the server (from the job store).
    pub mine: HashSet<PromptId>,
    /// The rows shown: the listing, filtered.
    pub rows: Vec<JobRow>,
    pub selection: Selection,
    pub filter: Filter,
    pub popup: Option<Popup>,
    pub notice: Option<Notice>,
    pub picture: Picture,
    /// The step progress the socket heard of a prompt (only prompts without a client id,
    /// or servers that broadcast progress, reach a watcher's socket).
    pub progress: Option<(PromptId, f64)>,
    pub listing: Poll,
    pub stats: Poll,
    /// When this cockpit first saw each listed prompt, and first saw it running (ms since
    /// the epoch): the ages of servers that give no `create_time` (before 0.3.65).
    pub first_seen: HashMap<PromptId, u64>,
    pub running_since: HashMap<PromptId, u64>,
    /// Why the cockpit could not go on (the server unreachable or dead).
    pub fatal: Option<String>,
    pub screen: (u16, u16),
    /// When the cockpit started, by the monotonic clock and by the wall clock (ms since
    /// the epoch: the server's times are wall times).
    pub started: Instant,
    pub wall_start_ms: u64,
    pub now: Instant,
    /// Something visible changed since the last draw.
    pub dirty: bool,
}

impl Cockpit {
    pub fn new(server: Server, mine: HashSet<PromptId>, now: Instant, wall_ms: u64) -> Self {
        Self {
            session: Session {
                servers: vec![server],
                jobs: Vec::new(),
                focus: crate::session::JobKey::FIRST,
            },
            server: ServerKey::FIRST,
            mine,
            rows: Vec::new(),
            selection: Selection::default(),
            filter: Filter::Off,
            popup: None,
            notice: None,
            picture: Picture::None,
            progress: None,
            listing: Poll::default(),
            stats: Poll::default(),
            first_seen: HashMap::new(),
            running_since: HashMap::new(),
            fatal: None,
            screen: (80, 24),
            started: now,
            wall_start_ms: wall_ms,
            now,
            dirty: true,
        }
    }

    pub fn server(&self) -> &Server {
        self.session.server(self.server)
    }

    /// The wall clock now, in ms since the epoch.
    pub fn now_ms(&self) -> u64 {
        let since = self.now.saturating_duration_since(self.started);
        self.wall_start_ms
            .saturating_add(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn selected_row(&self) -> Option<&JobRow> {
        self.rows.get(self.selection.selected()?)
    }

    /// The selected prompt as the queue lists it (running or pending).
    pub fn queued_record(&self, id: &PromptId) -> Option<&PromptRecord> {
        let queue = self.server().queue.as_ref()?;
        queue
            .running
            .iter()
            .chain(&queue.pending)
            .find(|r| &r.prompt_id == id)
    }

    pub fn history_item(&self, id: &PromptId) -> Option<&HistoryItem> {
        self.server().history.iter().find(|h| &h.prompt_id == id)
    }

    /// How many job rows the table shows on this screen.
    pub fn table_height(&self) -> usize {
        let (width, height) = self.screen;
        crate::ui::cockpit::layout(
            ratatui::layout::Rect::new(0, 0, width, height),
            self.rows.len(),
        )
        .map_or(1, |areas| areas.table_rows().max(1))
    }
}
