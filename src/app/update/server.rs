//! A server's events: its socket opening and dropping, its messages handed to the jobs
//! on it, its queue, its log.

use super::super::{App, Connection, Report, ServerEvent};
use super::Out;
use super::follow::Follow;
use super::job;
use crate::comfy::ServerMessage;
use crate::comfy::ws::WsItem;
use crate::job::Phase;
use crate::session::ServerKey;
use std::time::Instant;

pub(super) fn on_event(
    app: &mut App,
    server: ServerKey,
    event: ServerEvent,
    at: Instant,
    out: &mut Out,
) {
    let jobs = app.session.jobs_on(server);
    match event {
        ServerEvent::Connected { reconnect } => {
            let state = &mut app.session.server_mut(server).connection;
            let was_reconnecting = matches!(*state, Connection::Reconnecting { .. });
            *state = Connection::Connected;
            let client_id = app.session.server(server).client_id.clone();
            for key in jobs {
                let mut f = Follow::new(app, key, out);
                on_connected(&mut f, reconnect, was_reconnecting, &client_id, at);
            }
        }
        ServerEvent::Disconnected { reason, attempt } => {
            let following: Vec<_> = jobs
                .into_iter()
                .filter(|key| !app.session.job(*key).job.is_finished())
                .collect();
            if !following.is_empty() {
                app.session.server_mut(server).connection = Connection::Reconnecting { attempt };
            }
            if attempt <= 1 {
                for key in following {
                    Follow::new(app, key, out)
                        .warn(at, format!("connection lost: {reason}; reconnecting"));
                }
            }
        }
        ServerEvent::Unreachable { reason } => {
            for key in jobs {
                job::not_submitted(&mut Follow::new(app, key, out), reason.clone(), at);
            }
        }
        ServerEvent::Silent { reason } => {
            for key in jobs {
                job::server_silent(&mut Follow::new(app, key, out), reason.clone(), at);
            }
        }
        ServerEvent::Ws(WsItem::Message(ServerMessage::Logs(logs))) => {
            let log = &mut app.session.server_mut(server).log;
            for line in logs.entries.iter().flat_map(|e| e.m.lines()) {
                log.push(line.to_owned());
            }
        }
        ServerEvent::Ws(item) => {
            for key in jobs {
                job::on_ws(&mut Follow::new(app, key, out), &item, at);
            }
        }
        ServerEvent::Queue(snapshot) => {
            for key in jobs {
                job::on_queue(&mut Follow::new(app, key, out), &snapshot, at);
            }
        }
        ServerEvent::Listing { queue, history } => {
            let server = app.session.server_mut(server);
            server.queue = Some(queue);
            server.history = history;
        }
        ServerEvent::Stats(stats) => app.session.server_mut(server).stats = Some(stats),
        // The run view asks for neither.
        ServerEvent::ListingFailed { .. }
        | ServerEvent::Managed { .. }
        | ServerEvent::Picture { .. } => {}
        ServerEvent::Log(lines) => {
            let log = &mut app.session.server_mut(server).log;
            for line in lines {
                log.push(line);
            }
        }
    }
}

fn on_connected(
    f: &mut Follow,
    reconnect: bool,
    was_reconnecting: bool,
    client_id: &crate::comfy::ClientId,
    at: Instant,
) {
    if f.t.job.phase == Phase::Connecting {
        // Submitted in turn, once the socket listens (`update::submit_next`).
    } else if f.t.spec.attach && !reconnect && !was_reconnecting {
        // Attached: the queue and the history say where the prompt is (nothing of its
        // past is replayed on the socket).
        let prompt_id = f.prompt_id();
        f.report(
            at,
            Report::Attached {
                prompt_id,
                client_id: client_id.clone(),
            },
        );
        f.t.queue.check(at);
        f.poll_queue();
    } else if (reconnect || was_reconnecting) && !f.t.job.is_finished() {
        f.warn(at, "reconnected; checking where the run is");
        // Nothing is replayed after a reconnect: ask the queue where the prompt is.
        f.t.queue.check(at);
        f.poll_queue();
    }
}
