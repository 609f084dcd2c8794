//! The pure heart of the app: one event in, state changed, effects out. No I/O, no clock.

use super::{
    App, Cancel, Connection, Effect, Event, HistoryFetch, Popup, Report, SavedOutput, Signal,
    Stamped, Transfer,
};
use crate::comfy::http::HistoryEntry;
use crate::comfy::preview::BinaryFrame;
use crate::comfy::ws::WsItem;
use crate::job::{Notice, Outcome, Phase};
use crate::ui::scroll::{self, Motion};
use std::time::{Duration, Instant};

/// How often `/queue` is asked while our prompt waits (it tells our position).
const QUEUE_POLL: Duration = Duration::from_secs(2);
/// How long a cancel may take to be confirmed before we stop waiting for it.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
/// How long a running prompt may stay quiet before the queue is asked about it (again).
const RUNNING_CHECK: Duration = Duration::from_secs(3);
/// A queue answer can overtake the socket's last messages of a run that just ended; after
/// this much quiet on the socket, it cannot, and one answer is believed.
const QUIET_TRUST: Duration = Duration::from_secs(2);
/// A terminal message without the final `executing null` (old servers, lost frames):
/// after this, `/history` decides.
const END_GRACE: Duration = Duration::from_secs(3);

/// What a socket that hears nothing of a prompt the server runs most likely means.
const DEAF_SOCKET: &str = "the server runs our prompt but this socket hears nothing of it (is another client using the same --client-id?); following it through /queue and /history";

pub fn update(app: &mut App, stamped: Stamped) -> Vec<Effect> {
    let Stamped { at, event } = stamped;
    app.now = app.now.max(at);
    app.dirty = true;
    let answered = super::record::is_answer(&event);
    let mut effects = Vec::new();
    match event {
        Event::Connected { reconnect } => on_connected(app, reconnect, at, &mut effects),
        Event::Disconnected { reason, attempt } => {
            if !app.job.is_finished() {
                app.connection = Connection::Reconnecting { attempt };
                if attempt <= 1 {
                    app.report(
                        at,
                        Report::Warning {
                            message: format!("connection lost: {reason}; reconnecting"),
                        },
                    );
                }
            }
        }
        Event::SubmitFailed {
            reason,
            maybe_sent: true,
        } => {
            // No answer, but the prompt may be queued under our id: ask the queue. This
            // warning is all the answer there is.
            app.release_held();
            app.report(
                at,
                Report::Warning {
                    message: format!("no answer to the submission ({reason}); looking for it"),
                },
            );
            let id = app.job.prompt_id.clone();
            for notice in app.job.submitted(id, 0.0, at) {
                on_notice(app, notice, at, &mut effects);
            }
            app.resyncing = true;
            app.last_queue_poll = Some(at);
            effects.push(Effect::PollQueue);
        }
        Event::Unreachable { reason }
        | Event::SubmitFailed {
            reason,
            maybe_sent: false,
        } => {
            app.fatal = Some(reason.clone());
            app.report(at, Report::NotSubmitted { reason });
            finish(app, Outcome::Lost, at, &mut effects);
        }
        Event::ServerSilent { reason } => {
            app.fatal = Some(reason.clone());
            app.report(
                at,
                Report::Warning {
                    message: format!("server stopped answering: {reason}"),
                },
            );
            finish(app, Outcome::Lost, at, &mut effects);
        }
        Event::Ws(item) => on_ws(app, item, at, &mut effects),
        Event::Submitted(submitted) => {
            let notices = app
                .job
                .submitted(submitted.prompt_id.clone(), submitted.number, at);
            app.report(
                at,
                Report::Submitted {
                    prompt_id: submitted.prompt_id,
                    number: submitted.number,
                    node_errors: submitted.node_errors,
                    seeds: app.config.seeds.clone(),
                    picks: app.config.picks.clone(),
                },
            );
            for notice in notices {
                on_notice(app, notice, at, &mut effects);
            }
            if std::mem::take(&mut app.cancel_on_submit) {
                // Cancelled (or timed out) while the POST was in flight.
                if app.user_cancelled() {
                    app.cancel = Cancel::Sent { at };
                }
                effects.push(Effect::DeleteFromQueue(app.job.prompt_id.clone()));
                effects.push(Effect::PollQueue);
            } else if app.job.phase == Phase::Queued {
                app.last_queue_poll = Some(at);
                effects.push(Effect::PollQueue);
            }
        }
        Event::Rejected(rejection) => {
            app.report(at, Report::Rejected(rejection.clone()));
            app.rejection = Some(rejection);
            finish(app, Outcome::Rejected, at, &mut effects);
        }
        Event::Queue(snapshot) => {
            let position = snapshot.position(&app.job.prompt_id);
            let was = app.job.queue_position;
            app.job.queue_position = position;
            // The queue's answer can overtake the socket's messages; after a few quiet
            // seconds on the socket it cannot, and it is believed over the socket.
            let quiet = app
                .job
                .last_heard
                .or(app.job.submitted_at)
                .is_none_or(|t| at.saturating_duration_since(t) >= QUIET_TRUST);
            if snapshot.running.contains(&app.job.prompt_id) {
                // It started before the delete took: stop it where it runs (targeted).
                interrupt_if_cancelled(app, &mut effects);
                if app.job.phase == Phase::Queued && quiet && !app.deaf_warned {
                    // The server runs it, yet our socket heard nothing of the start.
                    app.deaf_warned = true;
                    app.report(
                        at,
                        Report::Warning {
                            message: DEAF_SOCKET.into(),
                        },
                    );
                }
            }
            if position.is_none()
                && !app.job.is_finished()
                && matches!(app.job.phase, Phase::Queued | Phase::Running)
            {
                // Not queued, not running: finished while we looked away, deleted, or lost.
                // Outside a resync, a socket that spoke just now is trusted over one
                // answer: only a second miss in a row, or a quiet socket, counts.
                app.absent_polls += 1;
                let sure = app.resyncing || app.user_cancelled() || app.absent_polls >= 2 || quiet;
                if sure && !app.deaf_warned && app.job.phase == Phase::Running && quiet {
                    app.deaf_warned = true;
                    app.report(
                        at,
                        Report::Warning {
                            message: DEAF_SOCKET.into(),
                        },
                    );
                }
                if sure && app.history != HistoryFetch::Requested {
                    app.history = HistoryFetch::Requested;
                    app.resyncing = true;
                    effects.push(Effect::FetchHistory(app.job.prompt_id.clone()));
                }
            } else if app.job.phase == Phase::Queued && position != was {
                app.report(
                    at,
                    Report::Queued {
                        position,
                        remaining: app.job.queue_remaining,
                    },
                );
            }
        }
        Event::History(entry) => on_history(app, entry, at, &mut effects),
        Event::HistoryFailed { reason } => {
            app.history = HistoryFetch::Done;
            app.report(
                at,
                Report::Warning {
                    message: format!("could not read the history: {reason}"),
                },
            );
            app.resyncing = false;
        }
        Event::DownloadProgress { file, bytes, total } => {
            if !app.requested.contains(&file) {
                // A late event for a file that is already saved or failed.
            } else if let Some(transfer) = app.transfers.iter_mut().find(|t| t.file == file) {
                transfer.advance(bytes, total, at);
            } else if !app.saved.iter().any(|s| s.file == file)
                && !app.failed_saves.iter().any(|(f, _)| *f == file)
            {
                app.transfers.push(Transfer::new(file, bytes, total, at));
            }
        }
        Event::Saved {
            node,
            file,
            path,
            bytes,
        } => {
            app.transfers.retain(|t| t.file != file);
            if !settle_download(app, &file) {
                // Already given up on when the app left.
                return effects;
            }
            app.report(
                at,
                Report::Output {
                    node: node.clone(),
                    file: file.clone(),
                    path: Some(path.clone()),
                    bytes: Some(bytes),
                },
            );
            app.saved.push(SavedOutput {
                node,
                file,
                path,
                bytes,
            });
        }
        Event::SaveFailed { node, file, reason } => {
            app.transfers.retain(|t| t.file != file);
            if !settle_download(app, &file) {
                return effects;
            }
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
        Event::ServerLog(lines) => {
            for line in lines {
                app.server_log.push(line);
            }
        }
        Event::CancelSent => {}
        Event::CancelFailed { reason } => {
            app.report(
                at,
                Report::Warning {
                    message: format!("cancel failed: {reason}"),
                },
            );
        }
        Event::Key(key) => on_key(app, key, at, &mut effects),
        Event::Resize { width, height } => app.ui.screen = (width, height),
        Event::Wheel { column, row, down } => {
            if app.ui.popup.is_none()
                && let Some(pane) = scroll::pane_at(app, column, row)
            {
                let rows = scroll::WHEEL_ROWS;
                scroll_pane(
                    app,
                    pane,
                    if down {
                        Motion::Down(rows)
                    } else {
                        Motion::Up(rows)
                    },
                );
            }
        }
        Event::Tick => on_tick(app, at, &mut effects),
        // SIGTERM (`timeout`, a service manager) cancels like Ctrl-C, so that nothing is
        // left running unwatched; a second one leaves at once.
        Event::Signal(signal @ (Signal::Interrupt | Signal::Terminate)) => {
            if app.user_cancelled() || app.job.is_finished() {
                leave(
                    app,
                    at,
                    &mut effects,
                    "left before the cancel was confirmed",
                );
            } else {
                if signal == Signal::Terminate {
                    // Asked to stop: the view, too, goes once the cancel lands.
                    app.quit_when_settled = true;
                }
                request_cancel(app, at, &mut effects);
            }
        }
        Event::Signal(Signal::Hangup) => {
            // A dropped SSH session is no wish to cancel: the prompt goes on.
            leave(app, at, &mut effects, "the terminal hung up");
        }
    }
    if app.timed_out && app.job.outcome() == Some(Outcome::Interrupted) {
        app.job.reclassify(Outcome::Timeout);
    }
    if app.job.is_finished() || effects.iter().any(|e| matches!(e, Effect::Exit(_))) {
        app.release_held();
    }
    if (!app.config.interactive || app.quit_when_settled)
        && app.is_settled()
        && !effects.iter().any(|e| matches!(e, Effect::Exit(_)))
    {
        effects.push(Effect::Exit(app.exit_code()));
    }
    super::record::after_update(app, answered, &mut effects);
    effects
}

fn on_connected(app: &mut App, reconnect: bool, at: Instant, effects: &mut Vec<Effect>) {
    let was_reconnecting = matches!(app.connection, Connection::Reconnecting { .. });
    app.connection = Connection::Connected;
    if app.job.phase == Phase::Connecting {
        app.job.submitting(at);
        effects.push(Effect::Submit);
    } else if app.config.attach && !reconnect && !was_reconnecting {
        // Attached: the queue and the history say where the prompt is (nothing of its
        // past is replayed on the socket).
        app.report(
            at,
            Report::Attached {
                prompt_id: app.job.prompt_id.clone(),
                client_id: app.config.client_id.clone(),
            },
        );
        app.resyncing = true;
        app.last_queue_poll = Some(at);
        effects.push(Effect::PollQueue);
    } else if (reconnect || was_reconnecting) && !app.job.is_finished() {
        app.report(
            at,
            Report::Warning {
                message: "reconnected; checking where the run is".into(),
            },
        );
        // Nothing is replayed after a reconnect: ask the queue where our prompt is.
        app.resyncing = true;
        app.last_queue_poll = Some(at);
        effects.push(Effect::PollQueue);
    }
}

fn on_ws(app: &mut App, item: WsItem, at: Instant, effects: &mut Vec<Effect>) {
    if let WsItem::Message(crate::comfy::ServerMessage::Logs(logs)) = &item {
        for line in logs.entries.iter().flat_map(|e| e.m.lines()) {
            app.server_log.push(line.to_owned());
        }
        return;
    }
    let notice = match item {
        WsItem::Message(message) => app.job.apply(&message, at),
        WsItem::Binary(BinaryFrame::Preview(preview)) => app.job.apply_preview(&preview, at),
        // Node text frames are broadcast to every socket with no prompt id: nothing in
        // them can be told to be ours.
        WsItem::Binary(BinaryFrame::Text { .. }) => None,
        WsItem::Binary(BinaryFrame::Unknown { .. }) => None,
        WsItem::Malformed(reason) => {
            app.report(
                at,
                Report::Warning {
                    message: format!("ignored a bad frame: {reason}"),
                },
            );
            None
        }
    };
    if let Some(notice) = notice {
        app.absent_polls = 0;
        on_notice(app, notice, at, effects);
    }
}

fn on_notice(app: &mut App, notice: Notice, at: Instant, effects: &mut Vec<Effect>) {
    if matches!(
        notice,
        Notice::Started | Notice::NodeStarted(_) | Notice::Progress { .. }
    ) {
        // A cancelled prompt that started anyway (the delete came too late).
        interrupt_if_cancelled(app, effects);
    }
    let report = match notice {
        Notice::Started => Report::Started,
        Notice::Cached(nodes) => Report::Cached { nodes },
        Notice::NodeStarted(node) => {
            let (class_type, title) = app
                .job
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
                app.report(
                    at,
                    Report::Text {
                        node: node.clone(),
                        text: text.clone(),
                    },
                );
            }
            for file in output.files {
                request_download(app, node.clone(), file, at, effects);
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
            let file = crate::comfy::FileRef {
                media: "images".into(),
                filename: format!("websocket_{node}_{index:05}.{extension}"),
                subfolder: String::new(),
                folder_type: "websocket".into(),
            };
            request_save(app, node, file, at, effects, |node, file| {
                Effect::SaveImage { node, file, image }
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
            on_finished(app, outcome, effects);
            return;
        }
    };
    app.report(at, report);
}

fn request_download(
    app: &mut App,
    node: crate::comfy::NodeId,
    file: crate::comfy::FileRef,
    at: Instant,
    effects: &mut Vec<Effect>,
) {
    request_save(app, node, file, at, effects, |node, file| {
        Effect::Download { node, file }
    });
}

/// Asks for an output to be saved once (or, with `--no-download`, only reports it).
fn request_save(
    app: &mut App,
    node: crate::comfy::NodeId,
    file: crate::comfy::FileRef,
    at: Instant,
    effects: &mut Vec<Effect>,
    save: impl FnOnce(crate::comfy::NodeId, crate::comfy::FileRef) -> Effect,
) {
    if !app.requested.insert(file.clone()) {
        return;
    }
    if app.config.download {
        app.in_flight.push((node.clone(), file.clone()));
        effects.push(save(node, file));
    } else {
        app.report(
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

/// The run ended by the server's word: fetch the history so that nothing announced
/// only there (cached runs, lost `executed` frames) goes unsaved.
fn on_finished(app: &mut App, outcome: Outcome, effects: &mut Vec<Effect>) {
    // A pending quit question stays: whatever the answer, it now means "quit".
    app.ui.popup = app
        .ui
        .popup
        .filter(|p| matches!(p, Popup::Help | Popup::ConfirmQuit));
    let wants_history = matches!(
        outcome,
        Outcome::Success | Outcome::Error | Outcome::Interrupted
    );
    if wants_history && app.config.download && app.history == HistoryFetch::NotYet {
        app.history = HistoryFetch::Requested;
        effects.push(Effect::FetchHistory(app.job.prompt_id.clone()));
    }
}

fn finish(app: &mut App, outcome: Outcome, at: Instant, effects: &mut Vec<Effect>) {
    if let Some(Notice::Finished(outcome)) = app.job.finish(outcome, at) {
        on_finished(app, outcome, effects);
    }
}

fn on_history(app: &mut App, entry: Option<HistoryEntry>, at: Instant, effects: &mut Vec<Effect>) {
    app.history = HistoryFetch::Done;
    let resyncing = std::mem::take(&mut app.resyncing);
    match entry {
        Some(entry) => {
            if !app.job.is_finished() {
                let outcome = if entry.status_str == "success" {
                    Outcome::Success
                } else if entry.last_message.as_deref() == Some("execution_interrupted") {
                    Outcome::Interrupted
                } else {
                    Outcome::Error
                };
                if outcome == Outcome::Interrupted {
                    app.report(at, Report::Interrupted { node: None });
                }
                if let Some(error) = entry.error.as_ref().filter(|_| app.job.error.is_none()) {
                    let error = crate::job::RunError::from(error);
                    app.job.error = Some(error.clone());
                    app.report(at, Report::Error(error));
                }
                // Already fetched: `finish` must not ask again.
                app.history = HistoryFetch::Done;
                let produced: Vec<_> = entry.outputs.iter().map(|(n, _)| n.clone()).collect();
                app.job.absorb_history(&produced, &entry.cached, at);
                let _ = app.job.finish(outcome, at);
            }
            for (node, file) in entry.files() {
                request_download(app, node.clone(), file.clone(), at, effects);
            }
        }
        None if app.job.awaiting_end().is_some() => {
            // The server said how the run ended but not `executing null`, and its history
            // has no entry (yet): its own words are enough.
            if let Some((outcome, _)) = app.job.awaiting_end() {
                let _ = app.job.finish(outcome, at);
            }
        }
        None if resyncing && !app.job.is_finished() => {
            if app.user_cancelled() && matches!(app.job.phase, Phase::Queued | Phase::Submitting) {
                // Deleted from the queue at our request: it never ran.
                app.report(at, Report::Interrupted { node: None });
                let _ = app.job.finish(Outcome::Interrupted, at);
            } else {
                let message = "the server no longer knows this prompt (it restarted or the prompt was removed)".to_owned();
                app.fatal = Some(message.clone());
                app.report(at, Report::Warning { message });
                let _ = app.job.finish(Outcome::Lost, at);
            }
        }
        None => {}
    }
}

fn on_tick(app: &mut App, at: Instant, effects: &mut Vec<Effect>) {
    if app.job.is_finished() {
        return;
    }
    if let Some(timeout) = app.config.timeout
        && at.saturating_duration_since(app.started) >= timeout
        && !app.timed_out
    {
        let message = format!("timed out after {}", humantime::format_duration(timeout));
        app.timed_out = true;
        app.fatal = Some(message.clone());
        app.report(at, Report::Warning { message });
        if app.job.phase == Phase::Connecting {
            finish(app, Outcome::Timeout, at, effects);
            return;
        }
        // Cancelled like a Ctrl-C, so that nothing keeps running unwatched; the outcome
        // is a timeout all the same.
        app.cancel = Cancel::Sent { at };
        send_cancel(app, effects);
        return;
    }
    if let Cancel::Sent { at: sent } = app.cancel
        && at.saturating_duration_since(sent) >= CANCEL_GRACE
        && app.detached.is_none()
    {
        // A cancel the server never confirmed: the prompt may still run. Leave saying so
        // (a person watching the view may rather wait, and is only told).
        if !app.config.interactive || app.quit_when_settled || app.timed_out {
            let why = if app.timed_out {
                "timed out, and the server did not confirm the cancel"
            } else {
                "the server did not confirm the cancel"
            };
            leave(app, at, effects, why);
        } else if !app.grace_warned {
            app.grace_warned = true;
            app.report(
                at,
                Report::Warning {
                    message: "no confirmation of the cancel from the server yet".into(),
                },
            );
        }
        return;
    }
    if let Some((_, since)) = app.job.awaiting_end()
        && app.history == HistoryFetch::NotYet
        && at.saturating_duration_since(since) >= END_GRACE
    {
        app.history = HistoryFetch::Requested;
        effects.push(Effect::FetchHistory(app.job.prompt_id.clone()));
        return;
    }
    if app.connection != Connection::Connected {
        return;
    }
    let since_poll = app
        .last_queue_poll
        .map_or(Duration::MAX, |t| at.saturating_duration_since(t));
    let quiet = app
        .job
        .last_heard
        .or(app.job.started_at)
        .map_or(Duration::ZERO, |t| at.saturating_duration_since(t));
    let due = match app.job.phase {
        Phase::Queued => since_poll >= QUEUE_POLL,
        // A socket can go deaf without dropping (another client took our id over): a
        // quiet running prompt is looked up in the queue now and then.
        Phase::Running => quiet >= RUNNING_CHECK && since_poll >= RUNNING_CHECK,
        _ => false,
    };
    if due {
        app.last_queue_poll = Some(at);
        effects.push(Effect::PollQueue);
    }
}

mod keys;
mod leaving;

use keys::{on_key, scroll_pane};
use leaving::{interrupt_if_cancelled, leave, request_cancel, send_cancel, settle_download};

#[cfg(test)]
mod tests;
