//! Cancelling and leaving: the cancel that fits a job's phase, the targeted interrupt
//! sent once, and every way out (quit, leave running, abandon what is still being
//! written).

use super::super::{App, Effect, Leaving, Report};
use super::Out;
use super::follow::{Follow, finish};
use crate::job::{Outcome, Phase};
use crate::session::follow::{Cancel, CancelStep, CancelWhy, Ending};
use std::time::Instant;

/// Sends the cancel that fits the phase: a queue delete while pending, else an interrupt.
pub(super) fn send_cancel(f: &mut Follow) {
    match f.t.job.phase {
        Phase::Connecting => {}
        // The POST is in flight: a delete now could come before the prompt is queued.
        Phase::Submitting => set_step(f, CancelStep::AfterAnswer),
        Phase::Queued => {
            f.effect(Effect::DeleteFromQueue(f.key, f.prompt_id()));
            // The queue tells whether it went, or started running meanwhile.
            f.poll_queue();
        }
        Phase::Running => interrupt_if_cancelled(f),
        Phase::Finished(_) => {}
    }
}

fn set_step(f: &mut Follow, new: CancelStep) {
    if let Cancel::Asked { step, .. } = &mut f.t.cancel {
        *step = new;
    }
}

/// Sends the targeted interrupt once, while the prompt runs and is not already ending
/// (on servers before 2025-09 an interrupt stops whatever runs, maybe someone else's).
pub(super) fn interrupt_if_cancelled(f: &mut Follow) {
    let sendable = matches!(
        f.t.cancel,
        Cancel::Asked { step, .. } if step != CancelStep::Interrupted
    );
    if sendable && !f.t.job.is_finished() && f.t.job.awaiting_end().is_none() {
        set_step(f, CancelStep::Interrupted);
        f.effect(Effect::Interrupt(f.key, f.prompt_id()));
    }
}

pub(super) fn request_cancel(f: &mut Follow, at: Instant) {
    if f.t.job.is_finished() || f.t.user_cancelled() {
        return;
    }
    f.warn(at, "cancelling");
    f.t.cancel = Cancel::Asked {
        at,
        why: CancelWhy::User,
        step: CancelStep::Deleting,
        warned: false,
    };
    if f.t.job.phase == Phase::Connecting {
        // Nothing was submitted: nothing to cancel on the server.
        finish(f, Outcome::Interrupted, at);
        return;
    }
    send_cancel(f);
}

pub(super) fn quit(app: &mut App, at: Instant, out: &mut Out) {
    abandon_downloads(app, at, out);
    out.effects.push(Effect::Exit(app.exit_code()));
}

/// Leaves once the session has settled (at once when it has).
pub(super) fn quit_when_settled(app: &mut App, out: &mut Out) {
    app.leaving = Leaving::WhenSettled;
    if app.is_settled() {
        out.effects.push(Effect::Exit(app.exit_code()));
    }
}

/// Leaves now. A prompt that has not ended is left running on the server and its job
/// ends as `detached`, saying so and naming the prompt; outputs still being written are
/// reported as not saved.
pub(super) fn leave(app: &mut App, at: Instant, out: &mut Out, why: &str) {
    for key in app.session.job_keys() {
        let mut f = Follow::new(app, key, out);
        if f.t.job.is_finished() {
            continue;
        }
        if f.t.job.phase == Phase::Connecting {
            // Nothing was sent: nothing can be running.
            f.t.cancel = Cancel::Asked {
                at,
                why: CancelWhy::User,
                step: CancelStep::Deleting,
                warned: false,
            };
            finish(&mut f, Outcome::Interrupted, at);
        } else {
            let message = format!(
                "{why}: prompt {id} may still be running on the server; `comfy-tui attach {id}` follows it again",
                id = f.t.job.prompt_id
            );
            f.warn(at, message.clone());
            f.t.fatal = Some(message.clone());
            f.t.ending = Ending::Detached(message);
        }
    }
    abandon_downloads(app, at, out);
    out.effects.push(Effect::Exit(app.exit_code()));
}

/// Every output still being written is reported as not saved (its partial file is
/// removed on the way out).
fn abandon_downloads(app: &mut App, at: Instant, out: &mut Out) {
    for key in app.session.job_keys() {
        let mut f = Follow::new(app, key, out);
        for (node, file) in std::mem::take(&mut f.t.saves.in_flight) {
            let reason = "not saved: comfy-tui left before the file was written".to_owned();
            f.report(
                at,
                Report::OutputFailed {
                    node,
                    file: file.clone(),
                    reason: reason.clone(),
                },
            );
            f.t.saves.failed.push((file, reason));
        }
    }
}
