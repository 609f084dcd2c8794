//! One job as the handlers see it: its state, and where its effects and reports go;
//! how a job ends.

use super::super::{App, Effect, Report};
use super::Out;
use crate::comfy::PromptId;
use crate::job::{Notice, Outcome};
use crate::session::follow::HistoryFetch;
use crate::session::{JobKey, Tracked};
use std::time::Instant;

/// One job and where its effects and reports go.
pub(super) struct Follow<'a> {
    pub key: JobKey,
    pub t: &'a mut Tracked,
    pub(super) out: &'a mut Out,
}

impl<'a> Follow<'a> {
    pub fn new(app: &'a mut App, key: JobKey, out: &'a mut Out) -> Self {
        Self {
            key,
            t: app.session.job_mut(key),
            out,
        }
    }

    pub fn report(&mut self, at: Instant, report: Report) {
        self.t.report(at, report, &mut self.out.lines);
    }

    pub fn warn(&mut self, at: Instant, message: impl Into<String>) {
        self.report(
            at,
            Report::Warning {
                message: message.into(),
            },
        );
    }

    pub fn release_held(&mut self) {
        self.t.release_held(&mut self.out.lines);
    }

    pub fn effect(&mut self, effect: Effect) {
        self.out.effects.push(effect);
    }

    pub fn prompt_id(&self) -> PromptId {
        self.t.job.prompt_id.clone()
    }

    pub fn poll_queue(&mut self) {
        self.effect(Effect::PollQueue(self.t.server));
    }

    pub fn fetch_history(&mut self) {
        self.t.history = HistoryFetch::Requested;
        self.effect(Effect::FetchHistory(self.key, self.prompt_id()));
    }
}

/// The job ended by the server's word: fetch the history so that nothing announced only
/// there (cached runs, lost `executed` frames) goes unsaved.
pub(super) fn on_finished(f: &mut Follow, outcome: Outcome) {
    f.out.finished.push(f.key);
    let wants_history = matches!(
        outcome,
        Outcome::Success | Outcome::Error | Outcome::Interrupted
    );
    if wants_history && f.t.spec.download && f.t.history == HistoryFetch::NotYet {
        f.fetch_history();
    }
}

pub(super) fn finish(f: &mut Follow, outcome: Outcome, at: Instant) {
    if let Some(Notice::Finished(outcome)) = f.t.job.finish(outcome, at) {
        on_finished(f, outcome);
    }
}
