//! The cockpit's pure update: one event in, state changed, effects out. No I/O, no clock.

use super::keymap::{self, Action};
use super::state::{Cockpit, Filter, Notice, Picture, Popup};
use crate::app::effect::{Request, RequestKind};
use crate::app::{Connection, Effect, Event, Key, ServerEvent, Stamped};
use crate::cockpit::{self, Motion, Owner, RowState};
use crate::comfy::ServerMessage;
use crate::comfy::ws::WsItem;
use crate::session::server::LogStream;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How often the listing and the memory figures are read while the cockpit shows.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// Rows the wheel moves.
const WHEEL_ROWS: usize = 3;

pub fn update(cockpit: &mut Cockpit, stamped: Stamped) -> Vec<Effect> {
    let Stamped { at, event } = stamped;
    cockpit.now = cockpit.now.max(at);
    let mut effects = Vec::new();
    match event {
        Event::Server(_, event) => on_server(cockpit, event, at, &mut effects),
        // The cockpit follows no job of its own.
        Event::Job(..) => {}
        Event::Key(key) => {
            cockpit.dirty = true;
            on_key(cockpit, key, &mut effects);
        }
        Event::Resize { width, height } => {
            cockpit.dirty = true;
            cockpit.screen = (width, height);
            let height = cockpit.table_height();
            cockpit.selection.refresh(&cockpit.rows, height);
        }
        Event::Wheel { down, .. } => {
            if cockpit.popup.is_none() {
                cockpit.dirty = true;
                let motion = if down {
                    Motion::Down(WHEEL_ROWS)
                } else {
                    Motion::Up(WHEEL_ROWS)
                };
                move_selection(cockpit, motion);
            }
        }
        Event::Click { column, row } => {
            if cockpit.popup.is_none() {
                let (width, height) = cockpit.screen;
                let area = ratatui::layout::Rect::new(0, 0, width, height);
                if let Some(line) = crate::ui::cockpit::layout(area, cockpit.rows.len())
                    .and_then(|areas| areas.table_line(column, row))
                {
                    let height = cockpit.table_height();
                    cockpit.dirty |= cockpit.selection.click(line, &cockpit.rows, height);
                }
            }
        }
        Event::Tick => {
            // Ages and durations move with the clock.
            cockpit.dirty = true;
            poll(cockpit, at, &mut effects);
        }
        Event::Signal(_) => effects.push(Effect::Exit(crate::exit::SUCCESS)),
    }
    want_picture(cockpit, &mut effects);
    effects
}

/// The selected finished job's first image output is read for the preview pane, once per
/// selection; nothing is read for other jobs (their previews go to their own clients).
fn want_picture(cockpit: &mut Cockpit, effects: &mut Vec<Effect>) {
    let wanted = cockpit
        .selected_row()
        .filter(|row| matches!(row.state, RowState::Finished(_)))
        .and_then(|row| cockpit.history_item(&row.prompt_id))
        .and_then(|item| {
            item.entry
                .files()
                .map(|(_, file)| file)
                .find(|file| is_picture(&file.filename))
                .cloned()
        });
    if wanted.as_ref() == cockpit.picture.file() {
        return;
    }
    cockpit.dirty = true;
    cockpit.picture = match wanted {
        Some(file) => {
            effects.push(Effect::FetchPicture(cockpit.server, file.clone()));
            Picture::Fetching(file)
        }
        None => Picture::None,
    };
}

fn is_picture(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".webp"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Reads what is due: the listing and the memory figures, every two seconds while the
/// cockpit shows (the loop sends no ticks while a job is followed).
fn poll(cockpit: &mut Cockpit, at: Instant, effects: &mut Vec<Effect>) {
    if cockpit.server().connection != Connection::Connected {
        return;
    }
    if cockpit.listing.due(at, POLL_EVERY) {
        refresh(cockpit, at, effects);
    }
    if cockpit.stats.due(at, POLL_EVERY) {
        cockpit.stats.asked = Some(at);
        cockpit.stats.in_flight = true;
        effects.push(Effect::PollStats(cockpit.server));
    }
}

/// Reads the listing now, or once the read in flight has answered.
fn refresh(cockpit: &mut Cockpit, at: Instant, effects: &mut Vec<Effect>) {
    if cockpit.listing.in_flight {
        cockpit.listing.stale = true;
        return;
    }
    cockpit.listing.asked = Some(at);
    cockpit.listing.in_flight = true;
    effects.push(Effect::Refresh(cockpit.server));
}

fn on_server(cockpit: &mut Cockpit, event: ServerEvent, at: Instant, effects: &mut Vec<Effect>) {
    let key = cockpit.server;
    match event {
        ServerEvent::Connected { .. } => {
            cockpit.dirty = true;
            cockpit.session.server_mut(key).connection = Connection::Connected;
            // Nothing is replayed on a new socket: read everything again.
            cockpit.listing.in_flight = false;
            cockpit.stats.in_flight = false;
            refresh(cockpit, at, effects);
            cockpit.stats.asked = Some(at);
            cockpit.stats.in_flight = true;
            effects.push(Effect::PollStats(key));
            if cockpit.server().log_stream == LogStream::Subscribed {
                // A new socket is a new subscriber.
                effects.push(Effect::SubscribeLogs(key));
            }
        }
        ServerEvent::Disconnected { attempt, .. } => {
            cockpit.dirty = true;
            cockpit.session.server_mut(key).connection = Connection::Reconnecting { attempt };
        }
        ServerEvent::Unreachable { reason } | ServerEvent::Silent { reason } => {
            cockpit.fatal = Some(reason);
            effects.push(Effect::Exit(crate::exit::UNREACHABLE));
        }
        ServerEvent::Ws(WsItem::Message(ServerMessage::Status(_))) => {
            // The queue changed (every change is broadcast as `status`).
            refresh(cockpit, at, effects);
        }
        ServerEvent::Ws(WsItem::Message(ServerMessage::Logs(logs))) => {
            let log = &mut cockpit.session.server_mut(key).log;
            for line in logs.entries.iter().flat_map(|e| e.m.lines()) {
                log.push(line.to_owned());
            }
            cockpit.dirty |= cockpit.popup == Some(Popup::ServerLog);
        }
        ServerEvent::Ws(WsItem::Message(ServerMessage::Progress(progress))) => {
            // Heard only when the server broadcasts it (a prompt without a client id).
            if let Some(id) = progress.prompt_id
                && progress.max > 0.0
            {
                cockpit.progress = Some((id, (progress.value / progress.max).clamp(0.0, 1.0)));
                rebuild_rows(cockpit);
            }
        }
        // Other prompts' events go to their own clients' sockets.
        ServerEvent::Ws(_) | ServerEvent::Queue(_) => {}
        ServerEvent::Log(lines) => {
            let log = &mut cockpit.session.server_mut(key).log;
            for line in lines {
                log.push(line);
            }
            cockpit.dirty = true;
        }
        ServerEvent::Listing { queue, history } => {
            let server = cockpit.session.server_mut(key);
            server.queue = Some(queue);
            server.history = history;
            cockpit.listing.in_flight = false;
            if std::mem::take(&mut cockpit.listing.stale) {
                refresh(cockpit, at, effects);
            }
            rebuild_rows(cockpit);
        }
        ServerEvent::ListingFailed { reason } => {
            cockpit.listing.in_flight = false;
            cockpit.dirty = true;
            cockpit.notice = Some(Notice {
                text: format!("could not read the queue: {reason}"),
                failed: true,
            });
        }
        ServerEvent::Stats(stats) => {
            cockpit.stats.in_flight = false;
            let server = cockpit.session.server_mut(key);
            if server.stats.as_ref() != Some(&stats) {
                server.stats = Some(stats);
                cockpit.dirty = true;
            }
        }
        ServerEvent::Picture { file, bytes } => {
            if cockpit.picture.file() == Some(&file) {
                cockpit.picture = Picture::Have(file, bytes);
                cockpit.dirty = true;
            }
        }
        ServerEvent::Managed { request, outcome } => {
            cockpit.dirty = true;
            cockpit.notice = Some(match outcome {
                Ok(answer) => {
                    if let Some(id) = answer.submitted
                        && matches!(request, RequestKind::Front | RequestKind::Rerun)
                    {
                        // Submitted from this machine: it is ours to act on.
                        cockpit.mine.insert(id);
                    }
                    Notice {
                        text: answer.message,
                        failed: false,
                    }
                }
                Err(reason) => Notice {
                    text: reason,
                    failed: true,
                },
            });
            refresh(cockpit, at, effects);
        }
    }
}

/// The rows from the listing, with the filter applied; the selection stays on its prompt.
pub fn rebuild_rows(cockpit: &mut Cockpit) {
    let server = cockpit.session.server(cockpit.server);
    let mine = &cockpit.mine;
    let mut all = cockpit::rows(server.queue.as_ref(), &server.history, |id, _| {
        mine.contains(id)
    });
    remember_times(cockpit, &mut all);
    if let Some((id, fraction)) = &cockpit.progress
        && let Some(row) = all
            .iter_mut()
            .find(|r| &r.prompt_id == id && r.state == RowState::Running)
    {
        row.progress = Some(*fraction);
    }
    let rows = match cockpit.filter.query() {
        Some(query) => cockpit::filter::apply(&all, query),
        None => all,
    };
    if rows != cockpit.rows {
        cockpit.rows = rows;
        cockpit.dirty = true;
    }
    let height = cockpit.table_height();
    cockpit.selection.refresh(&cockpit.rows, height);
}

/// Servers before 0.3.65 give no `create_time` and no start time while a prompt runs:
/// the times this cockpit first saw it (listed, running) stand in, so ages still show.
/// Only listed prompts are remembered.
fn remember_times(cockpit: &mut Cockpit, rows: &mut [crate::cockpit::JobRow]) {
    let now = cockpit.now_ms();
    let listed: HashSet<_> = rows.iter().map(|r| r.prompt_id.clone()).collect();
    cockpit.first_seen.retain(|id, _| listed.contains(id));
    cockpit.running_since.retain(|id, _| listed.contains(id));
    for row in rows {
        let seen = *cockpit
            .first_seen
            .entry(row.prompt_id.clone())
            .or_insert(now);
        row.created_ms = row.created_ms.or(Some(seen));
        if row.state == RowState::Running {
            let since = *cockpit
                .running_since
                .entry(row.prompt_id.clone())
                .or_insert(now);
            row.started_ms = row.started_ms.or(Some(since));
        }
    }
}

fn move_selection(cockpit: &mut Cockpit, motion: Motion) {
    let height = cockpit.table_height();
    cockpit.selection.apply(motion, &cockpit.rows, height);
}

fn on_key(cockpit: &mut Cockpit, key: Key, effects: &mut Vec<Effect>) {
    if let Filter::Typing(query) = &mut cockpit.filter {
        match key {
            Key::Enter => {
                cockpit.filter = if query.is_empty() {
                    Filter::Off
                } else {
                    Filter::On(std::mem::take(query))
                };
            }
            Key::Esc => cockpit.filter = Filter::Off,
            Key::Backspace => {
                query.pop();
            }
            Key::Char(c) => query.push(c),
            _ => return,
        }
        rebuild_rows(cockpit);
        return;
    }
    match &cockpit.popup {
        Some(Popup::Confirm { request, .. }) => {
            match key {
                Key::Char('y') | Key::Char('Y') => {
                    effects.push(Effect::Manage(cockpit.server, request.clone()));
                    cockpit.popup = None;
                }
                Key::Char('n') | Key::Char('N') | Key::Esc | Key::Char('q') => {
                    cockpit.popup = None;
                }
                _ => {}
            }
            return;
        }
        Some(Popup::Help) => {
            if matches!(key, Key::Esc | Key::Char('?') | Key::Char('q')) {
                cockpit.popup = None;
            }
            return;
        }
        Some(Popup::ServerLog) => {
            if matches!(key, Key::Esc | Key::Char('L') | Key::Char('q')) {
                cockpit.popup = None;
            }
            return;
        }
        None => {}
    }
    let Some(action) = keymap::action_for(key) else {
        return;
    };
    let server = cockpit.server;
    let selected = cockpit.selected_row().cloned();
    let say = |cockpit: &mut Cockpit, text: &str| {
        cockpit.notice = Some(Notice {
            text: text.to_owned(),
            failed: true,
        });
    };
    match action {
        Action::Quit => effects.push(Effect::Exit(crate::exit::SUCCESS)),
        Action::Help => cockpit.popup = Some(Popup::Help),
        Action::ServerLog => {
            cockpit.popup = Some(Popup::ServerLog);
            let state = &mut cockpit.session.server_mut(server).log_stream;
            if std::mem::replace(state, LogStream::Subscribed) == LogStream::Off {
                effects.push(Effect::SubscribeLogs(server));
            }
        }
        Action::Filter => {
            let query = cockpit.filter.query().unwrap_or_default().to_owned();
            cockpit.filter = Filter::Typing(query);
        }
        Action::Back => {
            if cockpit.filter != Filter::Off {
                cockpit.filter = Filter::Off;
                rebuild_rows(cockpit);
            }
        }
        Action::Up => move_selection(cockpit, Motion::Up(1)),
        Action::Down => move_selection(cockpit, Motion::Down(1)),
        Action::PageUp => move_selection(cockpit, Motion::PageUp),
        Action::PageDown => move_selection(cockpit, Motion::PageDown),
        Action::Top => move_selection(cockpit, Motion::Top),
        Action::Bottom => move_selection(cockpit, Motion::Bottom),
        Action::Follow => match selected {
            Some(row) => effects.push(Effect::Follow(server, row.prompt_id)),
            None => say(cockpit, "no job selected"),
        },
        Action::Interrupt => match selected {
            Some(row) if row.state == RowState::Running => {
                let question = format!(
                    "Interrupt prompt {} ({})? Only this prompt stops.",
                    row.prompt_id.short(),
                    whose(&row.owner)
                );
                cockpit.popup = Some(Popup::Confirm {
                    question,
                    request: Request::Interrupt(row.prompt_id),
                });
            }
            _ => say(cockpit, "only a running job can be interrupted"),
        },
        Action::Delete => match selected {
            Some(row) if matches!(row.state, RowState::Pending { .. }) => {
                let question = format!(
                    "Remove prompt {} ({}) from the queue?",
                    row.prompt_id.short(),
                    whose(&row.owner)
                );
                cockpit.popup = Some(Popup::Confirm {
                    question,
                    request: Request::Delete(vec![row.prompt_id]),
                });
            }
            _ => say(cockpit, "only a pending job can be deleted"),
        },
        Action::ClearMine => {
            let server = cockpit.server();
            let mine: Vec<_> = server
                .queue
                .iter()
                .flat_map(|q| &q.pending)
                .filter(|r| cockpit.mine.contains(&r.prompt_id))
                .map(|r| r.prompt_id.clone())
                .collect();
            if mine.is_empty() {
                say(cockpit, "no pending job of mine");
            } else {
                cockpit.popup = Some(Popup::Confirm {
                    question: format!("Remove all {} of my pending prompts?", mine.len()),
                    request: Request::Delete(mine),
                });
            }
        }
        Action::Front => match selected {
            Some(row) if matches!(row.state, RowState::Pending { .. }) => {
                match cockpit.queued_record(&row.prompt_id) {
                    Some(record) => effects.push(Effect::Manage(
                        server,
                        Request::Front(Box::new(record.clone())),
                    )),
                    None => say(cockpit, "that job has left the queue"),
                }
            }
            _ => say(cockpit, "only a pending job can be moved to the front"),
        },
        Action::Free => {
            cockpit.popup = Some(Popup::Confirm {
                question: "Free the server's memory: unload every model and empty the caches?"
                    .into(),
                request: Request::Free,
            });
        }
        Action::Rerun => match selected.and_then(|row| {
            matches!(row.state, RowState::Finished(_))
                .then(|| cockpit.history_item(&row.prompt_id))
                .flatten()
                .and_then(|item| item.record.clone())
        }) {
            Some(record) => effects.push(Effect::Manage(server, Request::Rerun(Box::new(record)))),
            None => say(cockpit, "only a finished job can be run again"),
        },
        Action::Save => match selected.and_then(|row| {
            matches!(row.state, RowState::Finished(_))
                .then(|| cockpit.history_item(&row.prompt_id).cloned())
                .flatten()
        }) {
            Some(item) => effects.push(Effect::Manage(server, Request::Save(Box::new(item)))),
            None => say(cockpit, "only a finished job has outputs to save"),
        },
    }
}

fn whose(owner: &Owner) -> String {
    match owner {
        Owner::Mine => "mine".into(),
        Owner::Client(id) => format!("client {}", crate::text::sanitize(id.as_str())),
        Owner::Unknown => "no client id".into(),
    }
}
