//! What happened, in the words of the JSON-lines stream. The headless faces print these;
//! the TUI shows them in its event log.

use crate::comfy::http::{NodeError, Rejection};
use crate::comfy::preview::ImageFormat;
use crate::comfy::{FileRef, NodeId, PromptId};
use crate::job::RunError;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Submitted {
        prompt_id: PromptId,
        number: f64,
        node_errors: Vec<NodeError>,
        /// The graph's seed inputs as submitted.
        seeds: Vec<crate::comfy::workflow::Seed>,
        /// The dynamic-prompt choices the conversion made (`{a|b}` → `a`).
        picks: Vec<crate::convert::DynamicPick>,
    },
    Rejected(Rejection),
    /// `attach` found the prompt on the server and follows it from here.
    Attached {
        prompt_id: PromptId,
        client_id: crate::comfy::ClientId,
    },
    /// Nothing could be submitted (server unreachable).
    NotSubmitted {
        reason: String,
    },
    Queued {
        position: Option<usize>,
        remaining: Option<u64>,
    },
    Started,
    Cached {
        nodes: Vec<NodeId>,
    },
    Executing {
        node: NodeId,
        class_type: String,
        title: Option<String>,
    },
    Progress {
        node: NodeId,
        value: f64,
        max: f64,
    },
    Preview {
        node: Option<NodeId>,
        format: ImageFormat,
        bytes: usize,
    },
    /// A file announced by the server; `path` and `bytes` once saved (none with --no-download).
    Output {
        node: NodeId,
        file: FileRef,
        path: Option<PathBuf>,
        bytes: Option<u64>,
    },
    OutputFailed {
        node: NodeId,
        file: FileRef,
        reason: String,
    },
    Text {
        node: NodeId,
        text: String,
    },
    Error(RunError),
    Interrupted {
        node: Option<NodeId>,
    },
    /// Connection trouble and other things worth a line, which change nothing by themselves.
    Warning {
        message: String,
    },
    /// A job of a batch has settled: its `job_done` line (drawn from the job itself).
    JobDone {
        status: &'static str,
        exit_code: i32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// The job it is about.
    pub job: crate::session::JobKey,
    pub at: Instant,
    pub report: Report,
}
