//! A job's follow-up, one explicit state per concern: the cancel, keeping in step with
//! the server after a gap, the history fetch, how the job was left, and the reports held
//! until the server answered the submission.

use super::report::LogLine;
use std::time::Instant;

/// Why a cancel was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelWhy {
    /// The user (a key, Ctrl-C, SIGTERM).
    User,
    /// `--timeout` ran out: the job ends as a timeout.
    Timeout,
}

/// What of a cancel has gone out to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelStep {
    /// The POST is in flight: a delete now could come before the prompt is queued, so it
    /// goes out with the answer.
    AfterAnswer,
    /// The queue delete went out (or nothing could be sent yet): if the prompt starts
    /// anyway, it is interrupted.
    Deleting,
    /// The targeted interrupt went out (never twice).
    Interrupted,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cancel {
    None,
    Asked {
        /// When it was asked (or, for one asked during the POST, when it went out).
        at: Instant,
        why: CancelWhy,
        step: CancelStep,
        /// The user was told once that it is not confirmed yet.
        warned: bool,
    },
}

impl Cancel {
    pub fn asked(self) -> bool {
        matches!(self, Self::Asked { .. })
    }

    pub fn timed_out(self) -> bool {
        matches!(
            self,
            Self::Asked {
                why: CancelWhy::Timeout,
                ..
            }
        )
    }
}

/// Whether the job's state can be taken from the socket, or must be looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// The socket tells the story.
    InStep,
    /// After a reconnect, an attach or an unanswered POST: `/queue` and `/history` say
    /// where the job is.
    Checking,
}

/// How the job is looked up in `/queue`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueWatch {
    pub sync: Sync,
    pub last_poll: Option<Instant>,
    /// Polls in a row that did not find the prompt.
    pub misses: u32,
}

impl QueueWatch {
    pub const IN_STEP: Self = Self {
        sync: Sync::InStep,
        last_poll: None,
        misses: 0,
    };

    /// Looks the job up now (the caller sends the poll).
    pub fn check(&mut self, at: Instant) {
        self.sync = Sync::Checking;
        self.last_poll = Some(at);
    }

    pub fn checking(&self) -> bool {
        self.sync == Sync::Checking
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryFetch {
    NotYet,
    Requested,
    Done,
}

/// What the socket was found to hear of the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hearing {
    Trusted,
    /// The server runs the job but our socket hears nothing of it (said once).
    Deaf,
}

/// How the job was left.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// Followed to its end (or still followed).
    Followed,
    /// The app left before the prompt ended (why): it may still run on the server.
    Detached(String),
}

/// The job's reports until the server has answered the submission: the answer is always
/// its first line.
#[derive(Debug, Clone, PartialEq)]
pub enum Hold {
    Holding(Vec<LogLine>),
    Open,
}
