//! The cockpit's update: what each key, answer and tick asks of the server.

use super::state::{Cockpit, Filter, Popup};
use super::update::update;
use crate::app::effect::{Answer, Request, RequestKind};
use crate::app::{Effect, Event, Key, ServerEvent, Stamped};
use crate::comfy::listing::{HistoryItem, QueueListing};
use crate::comfy::messages::ServerMessage;
use crate::comfy::ws::WsItem;
use crate::comfy::{ClientId, PromptId};
use crate::session::{Server, ServerKey};
use serde_json::json;
use std::time::{Duration, Instant};

const RUNNING: &str = "11111111-0000-4000-8000-000000000001";
const MINE: &str = "22222222-0000-4000-8000-000000000002";
const THEIRS: &str = "33333333-0000-4000-8000-000000000003";
const DONE: &str = "44444444-0000-4000-8000-000000000004";

fn item(number: i64, id: &str, client: &str) -> serde_json::Value {
    json!([number, id, {"1": {"class_type": "KSampler", "inputs": {"seed": number}}},
        {"client_id": client, "create_time": 1_000}, ["1"]])
}

fn listing() -> (QueueListing, Vec<HistoryItem>) {
    let queue = QueueListing::from_value(&json!({
        "queue_running": [item(1, RUNNING, "web")],
        "queue_pending": [item(3, MINE, "me"), item(2, THEIRS, "web")],
    }));
    let history = HistoryItem::list_from_value(&json!({
        DONE: {
            "prompt": item(0, DONE, "me"),
            "outputs": {"1": {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}]}},
            "status": {"status_str": "success", "completed": true, "messages": []},
            "meta": {}
        }
    }));
    (queue, history)
}

fn cockpit() -> (Cockpit, Instant) {
    let t0 = Instant::now();
    let server = Server::new("http://127.0.0.1:1/".into(), ClientId::from("watch"));
    let mine = [PromptId::from(MINE), PromptId::from(DONE)]
        .into_iter()
        .collect();
    let mut cockpit = Cockpit::new(server, mine, t0, 1_700_000_000_000);
    send(
        &mut cockpit,
        t0,
        Event::Resize {
            width: 120,
            height: 40,
        },
    );
    (cockpit, t0)
}

fn send(cockpit: &mut Cockpit, at: Instant, event: Event) -> Vec<Effect> {
    update(cockpit, Stamped::new(at, event))
}

fn server(cockpit: &mut Cockpit, at: Instant, event: ServerEvent) -> Vec<Effect> {
    send(cockpit, at, Event::Server(ServerKey::FIRST, event))
}

fn key(cockpit: &mut Cockpit, at: Instant, key: Key) -> Vec<Effect> {
    send(cockpit, at, Event::Key(key))
}

/// Connected and listed: rows are running, pending in order, then history.
fn listed() -> (Cockpit, Instant) {
    let (mut cockpit, t0) = cockpit();
    let effects = server(
        &mut cockpit,
        t0,
        ServerEvent::Connected { reconnect: false },
    );
    assert_eq!(
        effects,
        vec![
            Effect::Refresh(ServerKey::FIRST),
            Effect::PollStats(ServerKey::FIRST)
        ]
    );
    let (queue, history) = listing();
    server(&mut cockpit, t0, ServerEvent::Listing { queue, history });
    let ids: Vec<_> = cockpit
        .rows
        .iter()
        .map(|r| r.prompt_id.to_string())
        .collect();
    assert_eq!(ids, [RUNNING, THEIRS, MINE, DONE]);
    (cockpit, t0)
}

fn select(cockpit: &mut Cockpit, at: Instant, index: usize) {
    key(cockpit, at, Key::Char('g'));
    for _ in 0..index {
        key(cockpit, at, Key::Down);
    }
    assert_eq!(cockpit.selection.selected(), Some(index));
}

fn confirm(cockpit: &mut Cockpit, at: Instant, with: Key) -> Request {
    assert!(
        matches!(cockpit.popup, Some(Popup::Confirm { .. })),
        "a question: {:?}",
        cockpit.popup
    );
    let effects = key(cockpit, at, Key::Char('y'));
    let _ = with;
    match effects.as_slice() {
        [Effect::Manage(ServerKey::FIRST, request)] => request.clone(),
        other => panic!("one request: {other:?}"),
    }
}

#[test]
fn interrupt_asks_first_and_targets_the_running_prompt() {
    let (mut cockpit, t0) = listed();
    select(&mut cockpit, t0, 0);
    assert!(key(&mut cockpit, t0, Key::Char('i')).is_empty());
    let request = confirm(&mut cockpit, t0, Key::Char('y'));
    assert_eq!(request, Request::Interrupt(PromptId::from(RUNNING)));
    // `n` sends nothing.
    key(&mut cockpit, t0, Key::Char('i'));
    assert!(key(&mut cockpit, t0, Key::Char('n')).is_empty());
    assert_eq!(cockpit.popup, None);
}

#[test]
fn only_a_running_job_is_interrupted_and_only_a_pending_one_deleted() {
    let (mut cockpit, t0) = listed();
    select(&mut cockpit, t0, 1);
    assert!(key(&mut cockpit, t0, Key::Char('i')).is_empty());
    assert_eq!(cockpit.popup, None);
    assert!(cockpit.notice.as_ref().is_some_and(|n| n.failed));
    key(&mut cockpit, t0, Key::Char('d'));
    assert_eq!(
        confirm(&mut cockpit, t0, Key::Char('y')),
        Request::Delete(vec![PromptId::from(THEIRS)])
    );
    select(&mut cockpit, t0, 3);
    key(&mut cockpit, t0, Key::Char('d'));
    assert_eq!(cockpit.popup, None, "a finished job cannot be deleted");
}

#[test]
fn clear_mine_deletes_only_my_pending_prompts() {
    let (mut cockpit, t0) = listed();
    key(&mut cockpit, t0, Key::Char('D'));
    assert_eq!(
        confirm(&mut cockpit, t0, Key::Char('y')),
        Request::Delete(vec![PromptId::from(MINE)])
    );
}

#[test]
fn front_resubmits_the_pending_record_and_rerun_and_save_take_the_finished_one() {
    let (mut cockpit, t0) = listed();
    select(&mut cockpit, t0, 2);
    match key(&mut cockpit, t0, Key::Char('f')).as_slice() {
        [Effect::Manage(_, Request::Front(record))] => {
            assert_eq!(record.prompt_id.as_str(), MINE);
            assert_eq!(record.client_id(), Some(ClientId::from("me")));
        }
        other => panic!("front: {other:?}"),
    }
    select(&mut cockpit, t0, 3);
    match key(&mut cockpit, t0, Key::Char('r')).as_slice() {
        [Effect::Manage(_, Request::Rerun(record))] => assert_eq!(record.prompt_id.as_str(), DONE),
        other => panic!("re-run: {other:?}"),
    }
    match key(&mut cockpit, t0, Key::Char('s')).as_slice() {
        [Effect::Manage(_, Request::Save(item))] => assert_eq!(item.output_count(), 1),
        other => panic!("save: {other:?}"),
    }
    assert_eq!(
        key(&mut cockpit, t0, Key::Enter),
        vec![Effect::Follow(ServerKey::FIRST, PromptId::from(DONE))]
    );
}

#[test]
fn free_asks_first() {
    let (mut cockpit, t0) = listed();
    assert!(key(&mut cockpit, t0, Key::Char('F')).is_empty());
    assert_eq!(confirm(&mut cockpit, t0, Key::Char('y')), Request::Free);
}

#[test]
fn a_resubmitted_prompt_is_mine_and_the_answer_shows_and_refreshes() {
    let (mut cockpit, t0) = listed();
    let new = PromptId::from("55555555-0000-4000-8000-000000000005");
    let effects = server(
        &mut cockpit,
        t0,
        ServerEvent::Managed {
            request: RequestKind::Front,
            outcome: Ok(Answer {
                message: format!("moved to the front as {new}"),
                submitted: Some(new.clone()),
            }),
        },
    );
    assert_eq!(effects, vec![Effect::Refresh(ServerKey::FIRST)]);
    assert!(cockpit.mine.contains(&new));
    assert!(
        cockpit
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains(new.as_str()))
    );
}

#[test]
fn the_filter_narrows_the_rows_and_esc_clears_it() {
    let (mut cockpit, t0) = listed();
    key(&mut cockpit, t0, Key::Char('/'));
    for c in "mine pend".chars() {
        key(&mut cockpit, t0, Key::Char(c));
    }
    key(&mut cockpit, t0, Key::Enter);
    assert_eq!(cockpit.filter, Filter::On("mine pend".into()));
    let ids: Vec<_> = cockpit
        .rows
        .iter()
        .map(|r| r.prompt_id.to_string())
        .collect();
    assert_eq!(ids, [MINE]);
    key(&mut cockpit, t0, Key::Esc);
    assert_eq!(cockpit.rows.len(), 4);
}

#[test]
fn the_listing_is_read_on_status_and_every_two_seconds_never_twice_at_once() {
    let (mut cockpit, t0) = listed();
    let status = || {
        ServerEvent::Ws(WsItem::Message(
            ServerMessage::parse(
                r#"{"type":"status","data":{"status":{"exec_info":{"queue_remaining":2}}}}"#,
            )
            .expect("status"),
        ))
    };
    assert_eq!(
        server(&mut cockpit, t0, status()),
        vec![Effect::Refresh(ServerKey::FIRST)]
    );
    // Asked again while in flight: once more after the answer.
    assert!(server(&mut cockpit, t0, status()).is_empty());
    let (queue, history) = listing();
    assert_eq!(
        server(&mut cockpit, t0, ServerEvent::Listing { queue, history }),
        vec![Effect::Refresh(ServerKey::FIRST)]
    );
    let (queue, history) = listing();
    server(&mut cockpit, t0, ServerEvent::Listing { queue, history });
    server(&mut cockpit, t0, ServerEvent::Stats(Default::default()));
    assert!(send(&mut cockpit, t0 + Duration::from_secs(1), Event::Tick).is_empty());
    assert_eq!(
        send(&mut cockpit, t0 + Duration::from_secs(2), Event::Tick),
        vec![
            Effect::Refresh(ServerKey::FIRST),
            Effect::PollStats(ServerKey::FIRST)
        ]
    );
}

#[test]
fn a_click_selects_the_row_under_it_and_the_wheel_moves() {
    let (mut cockpit, t0) = listed();
    let (width, height) = cockpit.screen;
    let areas = crate::ui::cockpit::layout(
        ratatui::layout::Rect::new(0, 0, width, height),
        cockpit.rows.len(),
    )
    .expect("room");
    let body = crate::ui::cockpit::table::body(areas.table);
    send(
        &mut cockpit,
        t0,
        Event::Click {
            column: body.x + 1,
            row: body.y + 2,
        },
    );
    assert_eq!(cockpit.selection.selected(), Some(2));
    send(
        &mut cockpit,
        t0,
        Event::Wheel {
            column: 0,
            row: 0,
            down: false,
        },
    );
    assert_eq!(cockpit.selection.selected(), Some(0));
}

#[test]
fn an_unreachable_server_ends_the_cockpit_saying_why() {
    let (mut cockpit, t0) = cockpit();
    let effects = server(
        &mut cockpit,
        t0,
        ServerEvent::Unreachable {
            reason: "refused".into(),
        },
    );
    assert_eq!(effects, vec![Effect::Exit(crate::exit::UNREACHABLE)]);
    assert_eq!(cockpit.fatal.as_deref(), Some("refused"));
}

#[test]
fn a_broadcast_progress_shows_on_the_running_row_and_a_finished_job_fetches_its_picture() {
    let (mut cockpit, t0) = listed();
    let progress = ServerMessage::parse(&format!(
        r#"{{"type":"progress","data":{{"value":3,"max":12,"prompt_id":"{RUNNING}","node":"1"}}}}"#
    ))
    .expect("progress");
    server(&mut cockpit, t0, ServerEvent::Ws(WsItem::Message(progress)));
    assert_eq!(cockpit.rows[0].progress, Some(0.25));
    // The finished job's first picture is read once for the preview pane.
    key(&mut cockpit, t0, Key::Char('g'));
    let effects = key(&mut cockpit, t0, Key::Char('G'));
    match effects.as_slice() {
        [Effect::FetchPicture(ServerKey::FIRST, file)] => assert_eq!(file.filename, "a.png"),
        other => panic!("one picture read: {other:?}"),
    }
    assert!(
        key(&mut cockpit, t0, Key::Char('G')).is_empty(),
        "read once"
    );
}
