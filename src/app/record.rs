//! What the app asks the state directory to remember of its run, as effects: the job
//! store's record when the server has the prompt and again when the run ends, and the
//! node durations of a successful run. Pure: wall-clock times are counted from the one
//! taken when the app was built.

use super::{App, Effect, Event};
use crate::comfy::ClientId;
use crate::job::{NodeState, Outcome};
use crate::state::durations::Sample;
use crate::state::jobs::{self, JobRecord};
use crate::state::shape::ShapeKey;
use std::time::{Duration, Instant, SystemTime};

/// Where and what the run is, for its record.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The server URL without credentials.
    pub server: String,
    pub client_id: ClientId,
    /// Where the workflow came from.
    pub workflow: String,
    pub shape: ShapeKey,
    /// The wall clock at [`App::started`]: record times are counted from it.
    pub wall_start: SystemTime,
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
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

/// Does this event tell that the server has (or may have) our prompt?
pub(super) fn is_answer(event: &Event) -> bool {
    matches!(
        event,
        Event::Submitted(_)
            | Event::Rejected(_)
            | Event::SubmitFailed {
                maybe_sent: true,
                ..
            }
    )
}

/// After each event: a record when the server first has the prompt, and the final one
/// when the run has settled or the app leaves (a hang-up leaves it `detached`, so that
/// it can be found again).
pub(super) fn after_update(app: &mut App, answered: bool, effects: &mut Vec<Effect>) {
    let Some(mut recording) = app.recording.take() else {
        return;
    };
    let leaving = effects.iter().any(|e| matches!(e, Effect::Exit(_)));
    let ended = app.is_settled() || leaving;
    let sent = answered || recording.stage == Stage::Submitted || app.detached.is_some();
    match recording.stage {
        Stage::Ended => {}
        _ if !sent => {
            if ended {
                // Nothing reached the server: nothing to find again.
                recording.stage = Stage::Ended;
            }
        }
        _ if ended => {
            effects.push(Effect::RecordJob(record(app, &recording, true)));
            if app.detached.is_none() && app.job.outcome() == Some(Outcome::Success) {
                effects.push(Effect::RecordDurations(sample(app, &recording)));
            }
            recording.stage = Stage::Ended;
        }
        Stage::NotSent => {
            effects.push(Effect::RecordJob(record(app, &recording, false)));
            recording.stage = Stage::Submitted;
        }
        Stage::Submitted => {}
    }
    app.recording = Some(recording);
}

fn record(app: &App, recording: &Recording, ended: bool) -> JobRecord {
    let submitted = app.job.submitted_at.unwrap_or(app.started);
    JobRecord {
        prompt_id: app.job.prompt_id.to_string(),
        server: recording.server.clone(),
        client_id: recording.client_id.to_string(),
        workflow: recording.workflow.clone(),
        submitted: rfc3339(wall(recording, app.started, submitted)),
        status: if ended {
            app.status().to_owned()
        } else {
            jobs::SUBMITTED.to_owned()
        },
        exit_code: ended.then(|| app.exit_code()),
        outputs: app.saved.len(),
        ended: ended.then(|| rfc3339(wall(recording, app.started, app.now))),
    }
}

/// The seconds each node that ran took. Cached nodes are left out: what they cost when
/// they do run is what the next run needs to know, and the cache is seen live.
fn sample(app: &App, recording: &Recording) -> Sample {
    Sample {
        server: recording.server.clone(),
        shape: recording.shape.clone(),
        nodes: app
            .job
            .nodes
            .iter()
            .filter(|n| n.state == NodeState::Done)
            .filter_map(|n| Some((n.id.clone(), n.duration()?.as_secs_f64())))
            .collect(),
    }
}

fn wall(recording: &Recording, started: Instant, at: Instant) -> SystemTime {
    recording.wall_start + at.saturating_duration_since(started)
}

/// RFC 3339 in UTC to the second; humantime formats years up to 9999 only.
pub fn rfc3339(time: SystemTime) -> String {
    let last = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    humantime::format_rfc3339_seconds(time.min(last)).to_string()
}
