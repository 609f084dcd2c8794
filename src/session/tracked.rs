//! One job the session follows: the run's state machine (`Job`), where it runs, what was
//! asked of it, and its follow-up (cancel, sync, history, saves, ending, held reports),
//! each its own state, so that every job is cancelled, resynced and saved on its own.

use super::follow::{Cancel, Ending, Hearing, HistoryFetch, Hold, QueueWatch};
use super::recording::Recording;
use super::report::{LogLine, Report};
use super::saves::Saves;
use super::{JobKey, ServerKey};
use crate::comfy::http::Rejection;
use crate::job::{Job, Outcome};
use std::time::{Duration, Instant};

/// What was asked of a job when it was made.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// Outputs are saved (`--no-download` only reports them).
    pub download: bool,
    pub timeout: Option<Duration>,
    /// The seed inputs of the graph as submitted (reported so a run can be repeated).
    pub seeds: Vec<crate::comfy::workflow::Seed>,
    /// The dynamic-prompt choices made when the graph was converted.
    pub picks: Vec<crate::convert::DynamicPick>,
    /// A prompt that is already on the server (`attach`): nothing is submitted.
    pub attach: bool,
    /// The swept inputs' values in a batch (`NODE.INPUT`, value).
    pub swept: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Tracked {
    pub key: JobKey,
    pub job: Job,
    pub server: ServerKey,
    pub spec: JobSpec,
    /// When the session took the job on (its timeout counts from here).
    pub begun: Instant,
    pub cancel: Cancel,
    pub queue: QueueWatch,
    pub history: HistoryFetch,
    pub hearing: Hearing,
    pub saves: Saves,
    pub ending: Ending,
    pub hold: Hold,
    pub rejection: Option<Rejection>,
    /// Why the job could not go on (unreachable, lost, timed out), for the summary.
    pub fatal: Option<String>,
    /// What the job store is told of this job (none: nothing is recorded).
    pub recording: Option<Recording>,
    /// When the job settled and said so (a batch's `job_done`).
    pub closed_at: Option<Instant>,
}

impl Tracked {
    pub fn new(key: JobKey, job: Job, server: ServerKey, spec: JobSpec, begun: Instant) -> Self {
        Self {
            key,
            job,
            server,
            spec,
            begun,
            cancel: Cancel::None,
            queue: QueueWatch::IN_STEP,
            history: HistoryFetch::NotYet,
            hearing: Hearing::Trusted,
            saves: Saves::default(),
            ending: Ending::Followed,
            hold: Hold::Holding(Vec::new()),
            rejection: None,
            fatal: None,
            recording: None,
            closed_at: None,
        }
    }

    /// The job is over and nothing is left to fetch or save.
    pub fn is_settled(&self) -> bool {
        self.job.is_finished()
            && self.saves.in_flight.is_empty()
            && self.history != HistoryFetch::Requested
    }

    pub fn user_cancelled(&self) -> bool {
        self.cancel.asked()
    }

    pub fn detached(&self) -> Option<&str> {
        match &self.ending {
            Ending::Detached(why) => Some(why),
            Ending::Followed => None,
        }
    }

    /// The process exit code for the job as it stands.
    pub fn exit_code(&self) -> i32 {
        if self.detached().is_some() {
            return crate::exit::DETACHED;
        }
        match self.job.outcome() {
            Some(Outcome::Success) if !self.saves.failed.is_empty() => crate::exit::EXECUTION_ERROR,
            Some(outcome) => crate::exit::for_outcome(outcome),
            None if self.user_cancelled() => crate::exit::CANCELLED,
            // Left without an outcome, and not by a cancel: as `status` says, lost.
            None => crate::exit::UNREACHABLE,
        }
    }

    /// The job's status word, as the `done` line and the summary give it.
    pub fn status(&self) -> &'static str {
        if self.detached().is_some() {
            return "detached";
        }
        match self.job.outcome() {
            Some(Outcome::Success) if !self.saves.failed.is_empty() => "incomplete",
            Some(outcome) => outcome.as_str(),
            None if self.user_cancelled() => "interrupted",
            None => "lost",
        }
    }

    /// Reports what happened to the job. Until the server answered the submission the
    /// lines are held, so that the answer is always the first (the socket can hear of our
    /// prompt before the POST answers: the id is ours to choose).
    pub fn report(&mut self, at: Instant, report: Report, out: &mut Vec<LogLine>) {
        let answer = matches!(
            report,
            Report::Submitted { .. }
                | Report::Rejected(_)
                | Report::NotSubmitted { .. }
                | Report::Attached { .. }
        );
        let line = LogLine {
            job: self.key,
            at,
            report,
        };
        match &mut self.hold {
            Hold::Holding(held) if !answer => {
                held.push(line);
                if self.job.is_finished() {
                    self.release_held(out);
                }
            }
            _ => {
                out.push(line);
                if answer {
                    self.release_held(out);
                }
            }
        }
    }

    /// The answer came (or the job ended without one): held reports follow it.
    pub fn release_held(&mut self, out: &mut Vec<LogLine>) {
        if let Hold::Holding(held) = std::mem::replace(&mut self.hold, Hold::Open) {
            out.extend(held);
        }
    }
}
