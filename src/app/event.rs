//! Everything the app learns arrives as one of these, stamped with the time it arrived.

use super::effect::{Answer, RequestKind};
use crate::comfy::http::{HistoryEntry, QueueSnapshot, Rejection, Submitted};
use crate::comfy::listing::{HistoryItem, QueueListing};
use crate::comfy::system::SystemStats;
use crate::comfy::ws::WsItem;
use crate::comfy::{FileRef, NodeId};
use crate::session::{JobKey, ServerKey};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug)]
pub struct Stamped {
    pub at: Instant,
    pub event: Event,
}

impl Stamped {
    pub fn new(at: Instant, event: Event) -> Self {
        Self { at, event }
    }
}

/// A key press the app cares about (the terminal layer maps raw key events to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Esc,
    Enter,
    Tab,
    Backspace,
}

#[derive(Debug)]
pub enum Event {
    /// About one server: its socket, its queue, its log.
    Server(ServerKey, ServerEvent),
    /// About one job: its submission, its history, its outputs, its cancel.
    Job(JobKey, JobEvent),
    Key(Key),
    /// The terminal's size in cells (at start and on every change): redraw.
    Resize {
        width: u16,
        height: u16,
    },
    /// The mouse wheel turned over the cell at `column`, `row` (`down`: towards the end).
    Wheel {
        column: u16,
        row: u16,
        down: bool,
    },
    /// The left button went down over the cell at `column`, `row`.
    Click {
        column: u16,
        row: u16,
    },
    /// Once a second while anything shows a clock; also drives polling and timeouts.
    Tick,
    /// SIGINT outside raw mode, SIGTERM or SIGHUP.
    Signal(Signal),
}

// Socket items are the bulk of all events and the largest: boxing them would add an
// allocation to every message for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum ServerEvent {
    /// The socket opened (`reconnect` when it is not the first time).
    Connected {
        reconnect: bool,
    },
    /// The socket could not be opened or dropped; the runtime retries.
    Disconnected {
        reason: String,
        attempt: u32,
    },
    /// The server could not be reached at all before anything was submitted.
    Unreachable {
        reason: String,
    },
    /// The liveness probe found the server dead (no answer while the socket was silent).
    Silent {
        reason: String,
    },
    Ws(WsItem),
    Queue(QueueSnapshot),
    /// Lines of the server's log (the backlog, or a `logs` message).
    Log(Vec<String>),
    /// The queue, whole, and the newest history (the cockpit's view of the server).
    Listing {
        queue: QueueListing,
        history: Vec<HistoryItem>,
    },
    ListingFailed {
        reason: String,
    },
    Stats(SystemStats),
    /// An output picture read from `/view` (`Effect::FetchPicture`).
    Picture {
        file: FileRef,
        bytes: bytes::Bytes,
    },
    /// A request made of the server (`Effect::Manage`) was carried out, or failed.
    Managed {
        request: RequestKind,
        outcome: Result<Answer, String>,
    },
}

// A job has a handful of these in its life: their size costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum JobEvent {
    Submitted(Submitted),
    Rejected(Rejection),
    /// `POST /prompt` failed; `maybe_sent` when the prompt may be queued all the same.
    SubmitFailed {
        reason: String,
        maybe_sent: bool,
    },
    /// `/history/{id}` answered (`None`: not there, still pending or unknown).
    History(Option<HistoryEntry>),
    HistoryFailed {
        reason: String,
    },
    Saved {
        node: NodeId,
        file: FileRef,
        path: PathBuf,
        bytes: u64,
    },
    SaveFailed {
        node: NodeId,
        file: FileRef,
        reason: String,
    },
    /// An output being saved has `bytes` on disk (of `total` when the server said).
    /// Sent a few times a second at most.
    DownloadProgress {
        file: FileRef,
        bytes: u64,
        total: Option<u64>,
    },
    CancelSent,
    CancelFailed {
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
    Hangup,
}
