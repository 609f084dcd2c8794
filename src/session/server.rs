//! One server of the session: how it is shown, the client id its socket uses, the
//! connection, its own log stream, and what it was last seen to hold (queue, recent
//! history, memory).

use crate::comfy::ClientId;
use crate::comfy::listing::{HistoryItem, QueueListing};
use crate::comfy::system::SystemStats;
use crate::ring::Ring;

/// How many lines of the server's log are kept.
pub const SERVER_LOG_CAPACITY: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Connected,
    Reconnecting { attempt: u32 },
}

/// Whether the server's log stream was asked for (it is, once, when first shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Off,
    Subscribed,
}

#[derive(Debug)]
pub struct Server {
    /// The server as shown to the user (no credentials).
    pub label: String,
    /// The id our socket to it opens with; the server sends a prompt's events only there.
    pub client_id: ClientId,
    pub connection: Connection,
    /// The server's log, its newest lines (only once the user asked to see it).
    pub log: Ring<String>,
    pub log_stream: LogStream,
    /// The whole queue, everyone's, as last read (the cockpit reads it).
    pub queue: Option<QueueListing>,
    /// The newest finished prompts, newest first.
    pub history: Vec<HistoryItem>,
    /// `/system_stats`, as last read.
    pub stats: Option<SystemStats>,
}

impl Server {
    pub fn new(label: String, client_id: ClientId) -> Self {
        Self {
            label,
            client_id,
            connection: Connection::Connecting,
            log: Ring::new(SERVER_LOG_CAPACITY),
            log_stream: LogStream::Off,
            queue: None,
            history: Vec::new(),
            stats: None,
        }
    }
}
