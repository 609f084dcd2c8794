//! Everything the app wants done leaves as one of these; the runtime performs them. Each
//! names the job or the server it is for, and its answer comes back as an event for it.

use crate::comfy::listing::{HistoryItem, PromptRecord};
use crate::comfy::{FileRef, NodeId, PromptId};
use crate::session::{JobKey, ServerKey};

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `POST /prompt` with the job's prepared graph.
    Submit(JobKey),
    /// Stream one output file to the output folder.
    Download {
        job: JobKey,
        node: NodeId,
        file: FileRef,
    },
    /// Write an output image that came over the socket (`SaveImageWebsocket`).
    SaveImage {
        job: JobKey,
        node: NodeId,
        file: FileRef,
        image: bytes::Bytes,
    },
    FetchHistory(JobKey, PromptId),
    PollQueue(ServerKey),
    /// `POST /interrupt {"prompt_id"}`: stops only this prompt.
    Interrupt(JobKey, PromptId),
    /// `POST /queue {"delete": [id]}`: the prompt has not started yet.
    DeleteFromQueue(JobKey, PromptId),
    /// Write the run's record to the job store (off the loop).
    RecordJob(crate::state::jobs::JobRecord),
    /// Add a successful run's node durations to what is learned of its shape.
    RecordDurations(crate::state::durations::Sample),
    /// Give the terminal back and stop the process (Ctrl-Z); on `fg` take the terminal
    /// again and redraw everything.
    Suspend,
    /// Subscribe this client to the server's log stream and fetch its backlog.
    SubscribeLogs(ServerKey),
    /// Read the server's whole queue and its newest history (`Listing`).
    Refresh(ServerKey),
    /// Read `/system_stats` (`Stats`).
    PollStats(ServerKey),
    /// Ask something of the server for any prompt, ours or not (the cockpit's keys).
    Manage(ServerKey, Request),
    /// Read one output picture from `/view` (the cockpit's preview of a finished job).
    FetchPicture(ServerKey, FileRef),
    /// Follow a prompt in the live view, under its client id (the cockpit's Enter).
    Follow(ServerKey, PromptId),
    /// Leave: the process exits with this code once the screen is restored.
    Exit(i32),
}

/// What the cockpit asks of a server.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `POST /interrupt {"prompt_id"}`: stops this prompt only.
    Interrupt(PromptId),
    /// `POST /queue {"delete": [...]}`.
    Delete(Vec<PromptId>),
    /// Delete a pending prompt, then submit it again, same prompt and `extra_data`, with
    /// `front: true` (ComfyUI cannot reorder its queue).
    Front(Box<PromptRecord>),
    /// `POST /free {"unload_models", "free_memory"}`.
    Free,
    /// Submit a finished prompt again.
    Rerun(Box<PromptRecord>),
    /// Save a finished prompt's outputs into the output folder.
    Save(Box<HistoryItem>),
}

/// What a request came to, when the server did it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// A short sentence for the user.
    pub message: String,
    /// The prompt a re-submission made.
    pub submitted: Option<PromptId>,
}

/// A request by its kind, for the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Interrupt,
    Delete,
    Front,
    Free,
    Rerun,
    Save,
}

impl Request {
    pub fn kind(&self) -> RequestKind {
        match self {
            Self::Interrupt(_) => RequestKind::Interrupt,
            Self::Delete(_) => RequestKind::Delete,
            Self::Front(_) => RequestKind::Front,
            Self::Free => RequestKind::Free,
            Self::Rerun(_) => RequestKind::Rerun,
            Self::Save(_) => RequestKind::Save,
        }
    }
}
