//! Everything the app wants done leaves as one of these; the runtime performs them. Each
//! names the job or the server it is for, and its answer comes back as an event for it.

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
    /// Leave: the process exits with this code once the screen is restored.
    Exit(i32),
}
