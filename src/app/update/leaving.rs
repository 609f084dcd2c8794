//! Cancelling and leaving: the cancel that fits the phase, the targeted interrupt sent
//! once, and every way out (quit, leave running, abandon what is still being written).

use super::super::{App, Cancel, Effect, Report};
use super::finish;
use crate::job::{Outcome, Phase};
use std::time::Instant;

/// Sends the cancel that fits the phase: a queue delete while pending, else an interrupt.
pub(super) fn send_cancel(app: &mut App, effects: &mut Vec<Effect>) {
    let id = app.job.prompt_id.clone();
    match app.job.phase {
        Phase::Connecting => {}
        // The POST is in flight: a delete now could come before the prompt is queued.
        Phase::Submitting => app.cancel_on_submit = true,
        Phase::Queued => {
            effects.push(Effect::DeleteFromQueue(id));
            // The queue tells whether it went, or started running meanwhile.
            effects.push(Effect::PollQueue);
        }
        Phase::Running => interrupt_if_cancelled(app, effects),
        Phase::Finished(_) => {}
    }
}

/// Sends the targeted interrupt once, while our prompt runs and is not already ending
/// (on servers before 2025-09 an interrupt stops whatever runs, maybe someone else's).
pub(super) fn interrupt_if_cancelled(app: &mut App, effects: &mut Vec<Effect>) {
    if app.user_cancelled()
        && !app.interrupt_sent
        && !app.job.is_finished()
        && app.job.awaiting_end().is_none()
    {
        app.interrupt_sent = true;
        effects.push(Effect::Interrupt(app.job.prompt_id.clone()));
    }
}

pub(super) fn request_cancel(app: &mut App, at: Instant, effects: &mut Vec<Effect>) {
    if app.job.is_finished() || app.user_cancelled() {
        return;
    }
    app.report(
        at,
        Report::Warning {
            message: "cancelling".into(),
        },
    );
    if app.job.phase == Phase::Connecting {
        // Nothing was submitted: nothing to cancel on the server.
        app.cancel = Cancel::Sent { at };
        finish(app, Outcome::Interrupted, at, effects);
        return;
    }
    app.cancel = Cancel::Sent { at };
    send_cancel(app, effects);
}

pub(super) fn quit(app: &mut App, at: Instant, effects: &mut Vec<Effect>) {
    abandon_downloads(app, at);
    effects.push(Effect::Exit(app.exit_code()));
}

/// Leaves once the run has settled (at once when it has).
pub(super) fn quit_when_settled(app: &mut App, effects: &mut Vec<Effect>) {
    app.quit_when_settled = true;
    if app.is_settled() {
        effects.push(Effect::Exit(app.exit_code()));
    }
}

/// Leaves now. A prompt that has not ended is left running on the server and the run
/// ends as `detached`, saying so and naming the prompt; outputs still being written are
/// reported as not saved.
pub(super) fn leave(app: &mut App, at: Instant, effects: &mut Vec<Effect>, why: &str) {
    if !app.job.is_finished() {
        if app.job.phase == Phase::Connecting {
            // Nothing was sent: nothing can be running.
            app.cancel = Cancel::Sent { at };
            finish(app, Outcome::Interrupted, at, effects);
        } else {
            let message = format!(
                "{why}: prompt {id} may still be running on the server; `comfy-tui attach {id}` follows it again",
                id = app.job.prompt_id
            );
            app.report(
                at,
                Report::Warning {
                    message: message.clone(),
                },
            );
            app.fatal = Some(message.clone());
            app.detached = Some(message);
        }
    }
    abandon_downloads(app, at);
    effects.push(Effect::Exit(app.exit_code()));
}

/// Every output still being written is reported as not saved (its partial file is
/// removed on the way out).
pub(super) fn abandon_downloads(app: &mut App, at: Instant) {
    for (node, file) in std::mem::take(&mut app.in_flight) {
        let reason = "not saved: comfy-tui left before the file was written".to_owned();
        app.report(
            at,
            Report::OutputFailed {
                node,
                file: file.clone(),
                reason: reason.clone(),
            },
        );
        app.failed_saves.push((file, reason));
    }
}

/// A download ended; false when it was already given up on.
pub(super) fn settle_download(app: &mut App, file: &crate::comfy::FileRef) -> bool {
    match app.in_flight.iter().position(|(_, f)| f == file) {
        Some(index) => {
            app.in_flight.remove(index);
            true
        }
        None => false,
    }
}
