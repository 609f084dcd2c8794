//! The pure heart of the app: one event in, state changed, effects out. No I/O, no clock.
//! Server events reach every job on that server, job events reach their job, and keys
//! and signals act on the session (the focused job, or every job of ours).

use super::{App, Effect, Event, Leaving, LogLine, Popup, Report, Signal, Stamped};
use crate::session::JobKey;
use crate::ui::scroll::{self, Motion};

/// What the handlers of one event produce: effects, and report lines already past their
/// job's hold, in order.
#[derive(Debug, Default)]
pub(super) struct Out {
    pub effects: Vec<Effect>,
    pub lines: Vec<LogLine>,
    /// Jobs that ended with this event.
    pub finished: Vec<JobKey>,
}

pub fn update(app: &mut App, stamped: Stamped) -> Vec<Effect> {
    let Stamped { at, event } = stamped;
    app.now = app.now.max(at);
    app.dirty = true;
    let answered = match &event {
        Event::Job(key, job_event) if super::record::is_answer(job_event) => Some(*key),
        _ => None,
    };
    let mut out = Out::default();
    match event {
        Event::Server(key, event) => server::on_event(app, key, event, at, &mut out),
        Event::Job(key, event) => {
            let mut follow = follow::Follow::new(app, key, &mut out);
            job::on_event(&mut follow, event, at);
        }
        Event::Key(key) => on_key(app, key, at, &mut out),
        Event::Resize { width, height } => app.ui.screen = (width, height),
        // Nothing in the run view answers a click.
        Event::Click { .. } => {}
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
        Event::Tick => {
            let mut leave_why = None;
            for key in app.session.job_keys() {
                let context = tick::Context {
                    connected: app.session.server(app.session.job(key).server).connection
                        == super::Connection::Connected,
                    interactive: app.interactive,
                    quitting: app.quitting(),
                };
                let mut follow = follow::Follow::new(app, key, &mut out);
                if let Some(why) = tick::on_tick(&mut follow, context, at) {
                    leave_why.get_or_insert(why);
                }
            }
            if let Some(why) = leave_why {
                leave(app, at, &mut out, why);
            }
        }
        // SIGTERM (`timeout`, a service manager) cancels like Ctrl-C, so that nothing is
        // left running unwatched; a second one leaves at once.
        Event::Signal(signal @ (Signal::Interrupt | Signal::Terminate)) => {
            let all_asked = app
                .session
                .jobs
                .iter()
                .all(|t| t.user_cancelled() || t.job.is_finished());
            if all_asked {
                leave(app, at, &mut out, "left before the cancel was confirmed");
            } else {
                if signal == Signal::Terminate {
                    // Asked to stop: the view, too, goes once the cancel lands.
                    app.leaving = Leaving::WhenSettled;
                }
                cancel_all(app, at, &mut out);
            }
        }
        Event::Signal(Signal::Hangup) => {
            // A dropped SSH session is no wish to cancel: the prompt goes on.
            leave(app, at, &mut out, "the terminal hung up");
        }
    }
    after(app, answered, out)
}

/// Cancels every job of ours: the pending ones are deleted first, then the running ones
/// interrupted, so that the server does not start the next of ours in between.
pub(super) fn cancel_all(app: &mut App, at: std::time::Instant, out: &mut Out) {
    let mut keys: Vec<JobKey> = app.session.job_keys().collect();
    keys.sort_by_key(|key| app.session.job(*key).job.phase == crate::job::Phase::Running);
    for key in keys {
        request_cancel(&mut follow::Follow::new(app, key, out), at);
    }
}

/// What holds after every event: timeouts named as such, held reports released when a
/// job ends or the app leaves, leaving once settled, the job store told.
fn after(app: &mut App, answered: Option<JobKey>, mut out: Out) -> Vec<Effect> {
    submit_next(app, &mut out);
    if out.finished.contains(&app.session.focus) {
        // A pending quit question stays: whatever the answer, it now means "quit".
        app.ui.popup = app
            .ui
            .popup
            .filter(|p| matches!(p, Popup::Help | Popup::ConfirmQuit));
    }
    let leaving = |effects: &[Effect]| effects.iter().any(|e| matches!(e, Effect::Exit(_)));
    for tracked in &mut app.session.jobs {
        if tracked.cancel.timed_out()
            && tracked.job.outcome() == Some(crate::job::Outcome::Interrupted)
        {
            tracked.job.reclassify(crate::job::Outcome::Timeout);
        }
        if tracked.job.is_finished() || leaving(&out.effects) {
            tracked.release_held(&mut out.lines);
        }
    }
    if app.is_batch() {
        // Each job of a batch says when it is over, as it is.
        let now = app.now;
        for tracked in &mut app.session.jobs {
            if tracked.closed_at.is_none() && (tracked.is_settled() || leaving(&out.effects)) {
                tracked.closed_at = Some(now);
                let (status, exit_code) = (tracked.status(), tracked.exit_code());
                tracked.report(now, Report::JobDone { status, exit_code }, &mut out.lines);
            }
        }
    }
    if (!app.interactive || app.quitting()) && app.is_settled() && !leaving(&out.effects) {
        out.effects.push(Effect::Exit(app.exit_code()));
    }
    let leaving = leaving(&out.effects);
    let (started, now) = (app.started, app.now);
    for (index, tracked) in app.session.jobs.iter_mut().enumerate() {
        let answered = answered == Some(JobKey(index));
        super::record::after_update(tracked, answered, leaving, started, now, &mut out.effects);
    }
    app.publish(out.lines);
    dedupe_polls(out.effects)
}

/// Submits the next job waiting for its turn, one POST at a time, so that a batch reaches
/// the queue in its order; only once the socket listens, so that no event of it is missed.
fn submit_next(app: &mut App, out: &mut Out) {
    let now = app.now;
    let session = &mut app.session;
    let busy = session
        .jobs
        .iter()
        .any(|t| t.job.phase == crate::job::Phase::Submitting);
    if busy {
        return;
    }
    let next = session.jobs.iter_mut().find(|t| {
        t.job.phase == crate::job::Phase::Connecting
            && !t.spec.attach
            && session_connected(&session.servers, t.server)
    });
    if let Some(tracked) = next {
        tracked.job.submitting(now);
        out.effects.push(Effect::Submit(tracked.key));
    }
}

fn session_connected(servers: &[crate::session::Server], key: crate::session::ServerKey) -> bool {
    servers
        .get(key.0)
        .is_some_and(|s| s.connection == super::Connection::Connected)
}

/// Jobs on one server each ask its queue; one poll answers them all.
fn dedupe_polls(effects: Vec<Effect>) -> Vec<Effect> {
    let mut polled = Vec::new();
    effects
        .into_iter()
        .filter(|effect| match effect {
            Effect::PollQueue(server) if polled.contains(server) => false,
            Effect::PollQueue(server) => {
                polled.push(*server);
                true
            }
            _ => true,
        })
        .collect()
}

mod follow;
mod job;
mod keys;
mod leaving;
mod server;
mod tick;

use keys::{on_key, scroll_pane};
use leaving::{leave, request_cancel};

#[cfg(test)]
mod tests;
