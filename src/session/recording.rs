//! Where and what a job is for the job store, and how far its record has gone.

use crate::comfy::ClientId;
use crate::state::shape::ShapeKey;
use std::time::SystemTime;

/// Where and what the run is, for its record.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The server URL without credentials.
    pub server: String,
    pub client_id: ClientId,
    /// Where the workflow came from.
    pub workflow: String,
    pub shape: ShapeKey,
    /// The wall clock at the app's start (`App::started`): record times are counted from it.
    pub wall_start: SystemTime,
    pub(crate) stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// The server has not got the prompt (as far as we know).
    NotSent,
    Submitted,
    /// The final record went out (or there was nothing to record).
    Ended,
}

impl Recording {
    pub fn new(
        server: String,
        client_id: ClientId,
        workflow: String,
        shape: ShapeKey,
        wall_start: SystemTime,
    ) -> Self {
        Self {
            server,
            client_id,
            workflow,
            shape,
            wall_start,
            stage: Stage::NotSent,
        }
    }
}
