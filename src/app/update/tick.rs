//! What time alone decides for a job: the timeout, a cancel never confirmed, an end
//! without `executing null`, and when to look the job up in the queue.

use super::follow::{Follow, finish};
use super::leaving::send_cancel;
use crate::job::{Outcome, Phase};
use crate::session::follow::{Cancel, CancelStep, CancelWhy, HistoryFetch};
use std::time::{Duration, Instant};

/// How often `/queue` is asked while the prompt waits (it tells the position).
const QUEUE_POLL: Duration = Duration::from_secs(2);
/// How long a cancel may take to be confirmed before we stop waiting for it.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
/// How long a running prompt may stay quiet before the queue is asked about it (again).
const RUNNING_CHECK: Duration = Duration::from_secs(3);
/// A terminal message without the final `executing null` (old servers, lost frames):
/// after this, `/history` decides.
const END_GRACE: Duration = Duration::from_secs(3);

/// What of the session a job's clock needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Context {
    /// The job's server socket is open.
    pub connected: bool,
    /// A person watches the view (and may rather wait than leave).
    pub interactive: bool,
    /// The user asked to quit once everything has settled.
    pub quitting: bool,
}

/// Returns why the app should leave now, if it should.
pub(super) fn on_tick(f: &mut Follow, context: Context, at: Instant) -> Option<&'static str> {
    if f.t.job.is_finished() {
        return None;
    }
    if let Some(timeout) = f.t.spec.timeout
        && at.saturating_duration_since(f.t.begun) >= timeout
        && !f.t.cancel.timed_out()
    {
        let message = format!("timed out after {}", humantime::format_duration(timeout));
        f.t.fatal = Some(message.clone());
        f.warn(at, message);
        if f.t.job.phase == Phase::Connecting {
            finish(f, Outcome::Timeout, at);
            return None;
        }
        // Cancelled like a Ctrl-C, so that nothing keeps running unwatched; the outcome
        // is a timeout all the same.
        let step = match f.t.cancel {
            Cancel::Asked { step, .. } => step,
            Cancel::None => CancelStep::Deleting,
        };
        f.t.cancel = Cancel::Asked {
            at,
            why: CancelWhy::Timeout,
            step,
            warned: false,
        };
        send_cancel(f);
        return None;
    }
    let detached = f.t.detached().is_some();
    if let Cancel::Asked {
        at: sent,
        why,
        warned,
        ..
    } = &mut f.t.cancel
        && at.saturating_duration_since(*sent) >= CANCEL_GRACE
        && !detached
    {
        // A cancel the server never confirmed: the prompt may still run. Leave saying so
        // (a person watching the view may rather wait, and is only told).
        let timed_out = *why == CancelWhy::Timeout;
        if !context.interactive || context.quitting || timed_out {
            return Some(if timed_out {
                "timed out, and the server did not confirm the cancel"
            } else {
                "the server did not confirm the cancel"
            });
        }
        if !std::mem::replace(warned, true) {
            f.warn(at, "no confirmation of the cancel from the server yet");
        }
        return None;
    }
    if let Some((_, since)) = f.t.job.awaiting_end()
        && f.t.history == HistoryFetch::NotYet
        && at.saturating_duration_since(since) >= END_GRACE
    {
        f.fetch_history();
        return None;
    }
    if !context.connected {
        return None;
    }
    let since_poll =
        f.t.queue
            .last_poll
            .map_or(Duration::MAX, |t| at.saturating_duration_since(t));
    let quiet =
        f.t.job
            .last_heard
            .or(f.t.job.started_at)
            .map_or(Duration::ZERO, |t| at.saturating_duration_since(t));
    let due = match f.t.job.phase {
        Phase::Queued => since_poll >= QUEUE_POLL,
        // A socket can go deaf without dropping (another client took our id over): a
        // quiet running prompt is looked up in the queue now and then.
        Phase::Running => quiet >= RUNNING_CHECK && since_poll >= RUNNING_CHECK,
        _ => false,
    };
    if due {
        f.t.queue.last_poll = Some(at);
        f.poll_queue();
    }
    None
}
