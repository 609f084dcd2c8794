//! One job's reactions: the submission's answer, the socket's messages about it, its
//! place in the queue, its history, and its outputs on their way to disk.

use super::super::{Effect, JobEvent, Report, SavedOutput};
use super::follow::{Follow, finish, on_finished};
use super::leaving::interrupt_if_cancelled;
use crate::comfy::http::{HistoryEntry, QueueSnapshot};
use crate::comfy::preview::BinaryFrame;
use crate::comfy::ws::WsItem;
use crate::comfy::{FileRef, NodeId};
use crate::job::{Notice, Outcome, Phase};
use crate::session::follow::{CancelStep, Hearing, HistoryFetch, Sync};
use std::time::{Duration, Instant};

/// A queue answer can overtake the socket's last messages of a run that just ended; after
/// this much quiet on the socket, it cannot, and one answer is believed.
const QUIET_TRUST: Duration = Duration::from_secs(2);

/// What a socket that hears nothing of a prompt the server runs most likely means.
const DEAF_SOCKET: &str = "the server runs our prompt but this socket hears nothing of it (is another client using the same --client-id?); following it through /queue and /history";

pub(super) fn on_event(f: &mut Follow, event: JobEvent, at: Instant) {
    match event {
        JobEvent::SubmitFailed {
            reason,
            maybe_sent: true,
        } => {
            // No answer, but the prompt may be queued under our id: ask the queue. This
            // warning is all the answer there is.
            f.release_held();
            f.warn(
                at,
                format!("no answer to the submission ({reason}); looking for it"),
            );
            let id = f.prompt_id();
            for notice in f.t.job.submitted(id, 0.0, at) {
                on_notice(f, notice, at);
            }
            f.t.queue.check(at);
            f.poll_queue();
        }
        JobEvent::SubmitFailed {
            reason,
            maybe_sent: false,
        } => not_submitted(f, reason, at),
        JobEvent::Submitted(submitted) => {
            let notices =
                f.t.job
                    .submitted(submitted.prompt_id.clone(), submitted.number, at);
            let (seeds, picks) = (f.t.spec.seeds.clone(), f.t.spec.picks.clone());
            f.report(
                at,
                Report::Submitted {
                    prompt_id: submitted.prompt_id,
                    number: submitted.number,
                    node_errors: submitted.node_errors,
                    seeds,
                    picks,
                },
            );
            for notice in notices {
                on_notice(f, notice, at);
            }
            if let crate::session::follow::Cancel::Asked {
                at: asked,
                step: step @ CancelStep::AfterAnswer,
                ..
            } = &mut f.t.cancel
            {
                // Cancelled (or timed out) while the POST was in flight.
                *asked = at;
                *step = CancelStep::Deleting;
                f.effect(Effect::DeleteFromQueue(f.key, f.prompt_id()));
                f.poll_queue();
            } else if f.t.job.phase == Phase::Queued {
                f.t.queue.last_poll = Some(at);
                f.poll_queue();
            }
        }
        JobEvent::Rejected(rejection) => {
            f.report(at, Report::Rejected(rejection.clone()));
            f.t.rejection = Some(rejection);
            finish(f, Outcome::Rejected, at);
        }
        JobEvent::History(entry) => on_history(f, entry, at),
        JobEvent::HistoryFailed { reason } => {
            f.t.history = HistoryFetch::Done;
            f.warn(at, format!("could not read the history: {reason}"));
            f.t.queue.sync = Sync::InStep;
        }
        JobEvent::DownloadProgress { file, bytes, total } => {
            f.t.saves.progress(file, bytes, total, at);
        }
        JobEvent::Saved {
            node,
            file,
            path,
            bytes,
        } => {
            if !f.t.saves.settle(&file) {
                // Already given up on when the app left.
                return;
            }
            f.report(
                at,
                Report::Output {
                    node: node.clone(),
                    file: file.clone(),
                    path: Some(path.clone()),
                    bytes: Some(bytes),
                },
            );
            f.t.saves.saved.push(SavedOutput {
                node,
                file,
                path,
                bytes,
            });
        }
        JobEvent::SaveFailed { node, file, reason } => {
            if !f.t.saves.settle(&file) {
                return;
            }
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
        JobEvent::CancelSent => {}
        JobEvent::CancelFailed { reason } => f.warn(at, format!("cancel failed: {reason}")),
    }
}

/// Nothing could be submitted (the server is unreachable, or the POST failed before
/// anything was sent).
pub(super) fn not_submitted(f: &mut Follow, reason: String, at: Instant) {
    f.t.fatal = Some(reason.clone());
    f.report(at, Report::NotSubmitted { reason });
    finish(f, Outcome::Lost, at);
}

/// The server stopped answering: the job cannot be followed further.
pub(super) fn server_silent(f: &mut Follow, reason: String, at: Instant) {
    f.t.fatal = Some(reason.clone());
    f.warn(at, format!("server stopped answering: {reason}"));
    finish(f, Outcome::Lost, at);
}

/// A socket item on the job's server: the job takes what is about it.
pub(super) fn on_ws(f: &mut Follow, item: &WsItem, at: Instant) {
    let notice = match item {
        WsItem::Message(message) => f.t.job.apply(message, at),
        WsItem::Binary(BinaryFrame::Preview(preview)) => f.t.job.apply_preview(preview, at),
        // Node text frames are broadcast to every socket with no prompt id: nothing in
        // them can be told to be ours.
        WsItem::Binary(BinaryFrame::Text { .. }) => None,
        WsItem::Binary(BinaryFrame::Unknown { .. }) => None,
        WsItem::Malformed(reason) => {
            f.warn(at, format!("ignored a bad frame: {reason}"));
            None
        }
    };
    if let Some(notice) = notice {
        f.t.queue.misses = 0;
        on_notice(f, notice, at);
    }
}

/// The server's queue, as `/queue` answered: where the job is, or that it is gone.
pub(super) fn on_queue(f: &mut Follow, snapshot: &QueueSnapshot, at: Instant) {
    if let (Some(asked), Some(submitted)) = (snapshot.asked, f.t.job.accepted_at)
        && asked < submitted
    {
        // Asked before the server had this prompt (another job's poll, in a batch): the
        // answer cannot say where it is.
        return;
    }
    let position = snapshot.position(&f.t.job.prompt_id);
    let was = f.t.job.queue_position;
    f.t.job.queue_position = position;
    // The queue's answer can overtake the socket's messages; after a few quiet seconds on
    // the socket it cannot, and it is believed over the socket.
    let quiet =
        f.t.job
            .last_heard
            .or(f.t.job.submitted_at)
            .is_none_or(|t| at.saturating_duration_since(t) >= QUIET_TRUST);
    if snapshot.running.contains(&f.t.job.prompt_id) {
        // It started before the delete took: stop it where it runs (targeted).
        interrupt_if_cancelled(f);
        if f.t.job.phase == Phase::Queued && quiet && f.t.hearing == Hearing::Trusted {
            // The server runs it, yet our socket heard nothing of the start.
            f.t.hearing = Hearing::Deaf;
            f.warn(at, DEAF_SOCKET);
        }
    }
    if position.is_none()
        && !f.t.job.is_finished()
        && matches!(f.t.job.phase, Phase::Queued | Phase::Running)
    {
        // Not queued, not running: finished while we looked away, deleted, or lost.
        // Outside a resync, a socket that spoke just now is trusted over one answer:
        // only a second miss in a row, or a quiet socket, counts.
        f.t.queue.misses += 1;
        let sure = f.t.queue.checking() || f.t.user_cancelled() || f.t.queue.misses >= 2 || quiet;
        if sure && f.t.hearing == Hearing::Trusted && f.t.job.phase == Phase::Running && quiet {
            f.t.hearing = Hearing::Deaf;
            f.warn(at, DEAF_SOCKET);
        }
        if sure && f.t.history != HistoryFetch::Requested {
            f.t.queue.sync = Sync::Checking;
            f.fetch_history();
        }
    } else if f.t.job.phase == Phase::Queued && position != was {
        let remaining = f.t.job.queue_remaining;
        f.report(
            at,
            Report::Queued {
                position,
                remaining,
            },
        );
    }
}

pub(super) fn on_notice(f: &mut Follow, notice: Notice, at: Instant) {
    if matches!(
        notice,
        Notice::Started | Notice::NodeStarted(_) | Notice::Progress { .. }
    ) {
        // A cancelled prompt that started anyway (the delete came too late).
        interrupt_if_cancelled(f);
    }
    let report = match notice {
        Notice::Started => Report::Started,
        Notice::Cached(nodes) => Report::Cached { nodes },
        Notice::NodeStarted(node) => {
            let (class_type, title) =
                f.t.job
                    .node(&node)
                    .map(|n| (n.class_type.clone(), n.title.clone()))
                    .unwrap_or_default();
            Report::Executing {
                node,
                class_type,
                title,
            }
        }
        Notice::Progress { node, value, max } => Report::Progress { node, value, max },
        Notice::Preview {
            node,
            format,
            bytes,
        } => Report::Preview {
            node,
            format,
            bytes,
        },
        Notice::Outputs { node, output } => {
            for text in &output.texts {
                f.report(
                    at,
                    Report::Text {
                        node: node.clone(),
                        text: text.clone(),
                    },
                );
            }
            for file in output.files {
                request_download(f, node.clone(), file, at);
            }
            return;
        }
        Notice::Image {
            node,
            format,
            image,
            index,
        } => {
            let extension = match format {
                crate::comfy::preview::ImageFormat::Jpeg => "jpg",
                _ => "png",
            };
            let file = FileRef {
                media: "images".into(),
                filename: format!("websocket_{node}_{index:05}.{extension}"),
                subfolder: String::new(),
                folder_type: "websocket".into(),
            };
            let job = f.key;
            request_save(f, node, file, at, |node, file| Effect::SaveImage {
                job,
                node,
                file,
                image,
            });
            return;
        }
        Notice::Blocked { node, message } => Report::Warning {
            message: format!(
                "node {} blocked: {message}",
                node.map(|n| n.to_string()).unwrap_or_default()
            ),
        },
        Notice::Failed(error) => Report::Error(error),
        Notice::Interrupted { node } => Report::Interrupted { node },
        Notice::Finished(outcome) => {
            on_finished(f, outcome);
            return;
        }
    };
    f.report(at, report);
}

fn request_download(f: &mut Follow, node: NodeId, file: FileRef, at: Instant) {
    let job = f.key;
    request_save(f, node, file, at, |node, file| Effect::Download {
        job,
        node,
        file,
    });
}

/// Asks for an output to be saved once (or, with `--no-download`, only reports it).
fn request_save(
    f: &mut Follow,
    node: NodeId,
    file: FileRef,
    at: Instant,
    save: impl FnOnce(NodeId, FileRef) -> Effect,
) {
    if !f.t.saves.requested.insert(file.clone()) {
        return;
    }
    if f.t.spec.download {
        f.t.saves.in_flight.push((node.clone(), file.clone()));
        f.effect(save(node, file));
    } else {
        f.report(
            at,
            Report::Output {
                node,
                file,
                path: None,
                bytes: None,
            },
        );
    }
}

fn on_history(f: &mut Follow, entry: Option<HistoryEntry>, at: Instant) {
    f.t.history = HistoryFetch::Done;
    let checking = std::mem::replace(&mut f.t.queue.sync, Sync::InStep) == Sync::Checking;
    match entry {
        Some(entry) => {
            if !f.t.job.is_finished() {
                let outcome = if entry.status_str == "success" {
                    Outcome::Success
                } else if entry.last_message.as_deref() == Some("execution_interrupted") {
                    Outcome::Interrupted
                } else {
                    Outcome::Error
                };
                if outcome == Outcome::Interrupted {
                    f.report(at, Report::Interrupted { node: None });
                }
                if let Some(error) = entry.error.as_ref().filter(|_| f.t.job.error.is_none()) {
                    let error = crate::job::RunError::from(error);
                    f.t.job.error = Some(error.clone());
                    f.report(at, Report::Error(error));
                }
                let produced: Vec<_> = entry.outputs.iter().map(|(n, _)| n.clone()).collect();
                f.t.job.absorb_history(&produced, &entry.cached, at);
                // Already fetched: no second fetch for this end.
                if f.t.job.finish(outcome, at).is_some() {
                    f.out.finished.push(f.key);
                }
            }
            for (node, file) in entry.files() {
                request_download(f, node.clone(), file.clone(), at);
            }
        }
        None if f.t.job.awaiting_end().is_some() => {
            // The server said how the run ended but not `executing null`, and its history
            // has no entry (yet): its own words are enough.
            if let Some((outcome, _)) = f.t.job.awaiting_end()
                && f.t.job.finish(outcome, at).is_some()
            {
                f.out.finished.push(f.key);
            }
        }
        None if checking && !f.t.job.is_finished() => {
            if f.t.user_cancelled() && matches!(f.t.job.phase, Phase::Queued | Phase::Submitting) {
                // Deleted from the queue at our request: it never ran.
                f.report(at, Report::Interrupted { node: None });
                if f.t.job.finish(Outcome::Interrupted, at).is_some() {
                    f.out.finished.push(f.key);
                }
            } else {
                let message = "the server no longer knows this prompt (it restarted or the prompt was removed)".to_owned();
                f.t.fatal = Some(message.clone());
                f.warn(at, message);
                if f.t.job.finish(Outcome::Lost, at).is_some() {
                    f.out.finished.push(f.key);
                }
            }
        }
        None => {}
    }
}
