//! Everything the app wants done leaves as one of these; the runtime performs them.

use crate::comfy::{FileRef, NodeId, PromptId};

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `POST /prompt` with the prepared graph.
    Submit,
    /// Stream one output file to the output folder.
    Download {
        node: NodeId,
        file: FileRef,
    },
    /// Write an output image that came over the socket (`SaveImageWebsocket`).
    SaveImage {
        node: NodeId,
        file: FileRef,
        image: bytes::Bytes,
    },
    FetchHistory(PromptId),
    PollQueue,
    /// `POST /interrupt {"prompt_id"}`: stops only our running prompt.
    Interrupt(PromptId),
    /// `POST /queue {"delete": [id]}`: our prompt has not started yet.
    DeleteFromQueue(PromptId),
    /// Write the run's record to the job store (off the loop).
    RecordJob(crate::state::jobs::JobRecord),
    /// Add a successful run's node durations to what is learned of its shape.
    RecordDurations(crate::state::durations::Sample),
    /// Give the terminal back and stop the process (Ctrl-Z); on `fg` take the terminal
    /// again and redraw everything.
    Suspend,
    /// Subscribe this client to the server's log stream and fetch its backlog.
    SubscribeLogs,
    /// Leave: the process exits with this code once the screen is restored.
    Exit(i32),
}
