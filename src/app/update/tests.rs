use super::*;
use crate::app::Report;
use crate::app::keymap::{self, Action};
use crate::app::{AppConfig, Key};
use crate::app::{JobEvent, JobKey, ServerEvent, ServerKey};
use crate::app::{Pane, Scroll};
use crate::comfy::http::HistoryEntry;
use crate::comfy::http::Submitted;
use crate::comfy::messages::ServerMessage;
use crate::comfy::ws::WsItem;
use crate::comfy::{ClientId, PromptId, Workflow};
use crate::job::Job;
use crate::job::Outcome;
use std::path::Path;
use std::time::{Duration, Instant};

const PROMPT: &str = "5f0c6a62-8f2b-4c39-9a3e-0d1f7c1e2a11";

fn app(interactive: bool) -> (App, Instant) {
    let workflow = Workflow::parse(
        r#"{"1": {"class_type": "KSampler", "inputs": {"steps": 3}},
            "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}}"#,
        Path::new("w.json"),
    )
    .expect("workflow");
    let t0 = Instant::now();
    let config = AppConfig {
        server: "http://127.0.0.1:1".into(),
        client_id: ClientId::from("c"),
        download: true,
        timeout: None,
        interactive,
        seeds: Vec::new(),
        picks: Vec::new(),
        attach: false,
    };
    (
        App::new(Job::new(&workflow, PromptId::from(PROMPT)), config, t0),
        t0,
    )
}

fn send(app: &mut App, at: Instant, event: Event) -> Vec<Effect> {
    update(app, Stamped::new(at, event))
}

fn message(app: &mut App, at: Instant, text: &str) -> Vec<Effect> {
    let text = text.replace("PID", PROMPT);
    send(
        app,
        at,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Ws(WsItem::Message(
                ServerMessage::parse(&text).expect("message"),
            )),
        ),
    )
}

fn submitted(app: &mut App, at: Instant) {
    assert_eq!(
        send(
            app,
            at,
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Connected { reconnect: false }
            )
        ),
        vec![Effect::Submit(JobKey::FIRST)]
    );
    send(
        app,
        at,
        Event::Job(
            JobKey::FIRST,
            JobEvent::Submitted(Submitted {
                prompt_id: PromptId::from(PROMPT),
                number: 1.0,
                node_errors: vec![],
            }),
        ),
    );
}

fn running(app: &mut App, at: Instant) {
    submitted(app, at);
    message(
        app,
        at,
        r#"{"type":"execution_start","data":{"prompt_id":"PID"}}"#,
    );
    message(
        app,
        at,
        r#"{"type":"executing","data":{"node":"1","prompt_id":"PID"}}"#,
    );
}

#[test]
fn c_then_y_interrupts_our_prompt() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    assert!(send(&mut app, t0, Event::Key(Key::Char('c'))).is_empty());
    assert_eq!(app.ui.popup, Some(Popup::ConfirmCancel));
    let effects = send(&mut app, t0, Event::Key(Key::Char('y')));
    assert_eq!(
        effects,
        vec![Effect::Interrupt(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    assert_eq!(app.ui.popup, None);
}

#[test]
fn c_then_n_keeps_running() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    send(&mut app, t0, Event::Key(Key::Char('c')));
    assert!(send(&mut app, t0, Event::Key(Key::Char('n'))).is_empty());
    assert_eq!(app.ui.popup, None);
    assert!(!app.focused().user_cancelled());
}

#[test]
fn cancel_while_queued_deletes_from_the_queue() {
    let (mut app, t0) = app(true);
    submitted(&mut app, t0);
    send(&mut app, t0, Event::Key(Key::Ctrl('c')));
    let effects = send(&mut app, t0, Event::Key(Key::Char('y')));
    assert_eq!(
        effects,
        vec![
            Effect::DeleteFromQueue(JobKey::FIRST, PromptId::from(PROMPT)),
            Effect::PollQueue(ServerKey::FIRST)
        ]
    );
}

#[test]
fn q_while_running_asks_and_can_leave_the_run_going() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    assert!(send(&mut app, t0, Event::Key(Key::Char('q'))).is_empty());
    assert_eq!(app.ui.popup, Some(Popup::ConfirmQuit));
    let effects = send(&mut app, t0, Event::Key(Key::Char('l')));
    assert_eq!(effects, vec![Effect::Exit(crate::exit::DETACHED)]);
    assert_eq!(app.status(), "detached");
    assert!(
        app.focused()
            .fatal
            .as_deref()
            .is_some_and(|f| f.contains(PROMPT))
    );
}

#[test]
fn q_then_cancel_sends_the_interrupt() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    send(&mut app, t0, Event::Key(Key::Char('q')));
    let effects = send(&mut app, t0, Event::Key(Key::Char('c')));
    assert_eq!(
        effects,
        vec![Effect::Interrupt(JobKey::FIRST, PromptId::from(PROMPT))]
    );
}

#[test]
fn q_after_the_run_quits_with_its_exit_code() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    message(
        &mut app,
        t0,
        r#"{"type":"execution_error","data":{"prompt_id":"PID","node_id":"1","node_type":"KSampler","exception_message":"boom","exception_type":"RuntimeError","traceback":[],"timestamp":1}}"#,
    );
    message(
        &mut app,
        t0,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    );
    let effects = send(&mut app, t0, Event::Key(Key::Char('q')));
    assert_eq!(effects, vec![Effect::Exit(crate::exit::EXECUTION_ERROR)]);
}

#[test]
fn executed_outputs_are_downloaded_and_the_history_is_read_at_the_end() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    let effects = message(
        &mut app,
        t0,
        r#"{"type":"executed","data":{"node":"2","display_node":"2","output":{"images":[{"filename":"a.png","subfolder":"","type":"output"}]},"prompt_id":"PID"}}"#,
    );
    assert!(
        matches!(&effects[..], [Effect::Download { job: JobKey::FIRST, file, .. }] if file.filename == "a.png")
    );
    let effects = message(
        &mut app,
        t0,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    );
    assert_eq!(
        effects,
        vec![Effect::FetchHistory(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    assert!(
        !app.is_settled(),
        "a download and the history are outstanding"
    );
}

#[test]
fn a_headless_run_exits_once_everything_is_saved() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    message(
        &mut app,
        t0,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    );
    let entry = HistoryEntry {
        outputs: vec![(
            crate::comfy::NodeId::from("2"),
            crate::comfy::NodeOutput {
                files: vec![crate::comfy::FileRef {
                    media: "images".into(),
                    filename: "cached.png".into(),
                    subfolder: String::new(),
                    folder_type: "output".into(),
                }],
                texts: vec![],
            },
        )],
        status_str: "success".into(),
        completed: true,
        last_message: Some("execution_success".into()),
        error: None,
        cached: vec![],
    };
    let effects = send(
        &mut app,
        t0,
        Event::Job(JobKey::FIRST, JobEvent::History(Some(entry))),
    );
    assert!(
        matches!(&effects[..], [Effect::Download { job: JobKey::FIRST, file, .. }] if file.filename == "cached.png")
    );
    let effects = send(
        &mut app,
        t0,
        Event::Job(
            JobKey::FIRST,
            JobEvent::Saved {
                node: "2".into(),
                file: crate::comfy::FileRef {
                    media: "images".into(),
                    filename: "cached.png".into(),
                    subfolder: String::new(),
                    folder_type: "output".into(),
                },
                path: "out/cached.png".into(),
                bytes: 10,
            },
        ),
    );
    assert_eq!(effects, vec![Effect::Exit(0)]);
}

#[test]
fn headless_ctrl_c_cancels_then_a_second_one_leaves() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    let effects = send(&mut app, t0, Event::Signal(Signal::Interrupt));
    assert_eq!(
        effects,
        vec![Effect::Interrupt(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    let effects = send(&mut app, t0, Event::Signal(Signal::Interrupt));
    // The cancel was never confirmed: the prompt may still run, and the run says so.
    assert_eq!(effects, vec![Effect::Exit(crate::exit::DETACHED)]);
    assert_eq!(app.status(), "detached");
}

#[test]
fn headless_sigterm_cancels_like_ctrl_c() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    let effects = send(&mut app, t0, Event::Signal(Signal::Terminate));
    assert_eq!(
        effects,
        vec![Effect::Interrupt(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    message(
        &mut app,
        t0,
        r#"{"type":"execution_interrupted","data":{"prompt_id":"PID","node_id":"1","node_type":"KSampler","executed":[],"timestamp":1}}"#,
    );
    message(
        &mut app,
        t0,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    );
    let effects = send(
        &mut app,
        t0,
        Event::Job(JobKey::FIRST, JobEvent::History(None)),
    );
    assert_eq!(effects, vec![Effect::Exit(crate::exit::CANCELLED)]);
    assert_eq!(app.status(), "interrupted");
}

#[test]
fn a_hangup_detaches_and_leaves_the_prompt_running() {
    for interactive in [false, true] {
        let (mut app, t0) = app(interactive);
        running(&mut app, t0);
        let effects = send(&mut app, t0, Event::Signal(Signal::Hangup));
        assert_eq!(effects, vec![Effect::Exit(crate::exit::DETACHED)]);
        assert_eq!(app.status(), "detached");
    }
}

#[test]
fn cancel_then_quit_while_the_cancel_is_on_its_way_quits_when_it_lands() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    send(&mut app, t0, Event::Key(Key::Char('c')));
    send(&mut app, t0, Event::Key(Key::Char('y')));
    // `q` now needs no question: the cancel is already on its way.
    assert!(send(&mut app, t0, Event::Key(Key::Char('q'))).is_empty());
    assert_eq!(app.ui.popup, None);
    message(
        &mut app,
        t0,
        r#"{"type":"execution_interrupted","data":{"prompt_id":"PID","node_id":"1","node_type":"KSampler","executed":[],"timestamp":1}}"#,
    );
    message(
        &mut app,
        t0,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    );
    let effects = send(
        &mut app,
        t0,
        Event::Job(JobKey::FIRST, JobEvent::History(None)),
    );
    assert_eq!(effects, vec![Effect::Exit(crate::exit::CANCELLED)]);
}

#[test]
fn a_quit_question_answered_after_the_run_ended_still_quits() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    send(&mut app, t0, Event::Key(Key::Char('q')));
    message(
        &mut app,
        t0,
        r#"{"type":"execution_success","data":{"prompt_id":"PID","timestamp":1}}"#,
    );
    message(
        &mut app,
        t0,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    );
    assert_eq!(app.ui.popup, Some(Popup::ConfirmQuit));
    send(
        &mut app,
        t0,
        Event::Job(JobKey::FIRST, JobEvent::History(None)),
    );
    let effects = send(&mut app, t0, Event::Key(Key::Char('c')));
    assert_eq!(effects, vec![Effect::Exit(crate::exit::SUCCESS)]);
}

#[test]
fn leaving_during_a_download_reports_the_file_as_not_saved() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    message(
        &mut app,
        t0,
        r#"{"type":"executed","data":{"node":"2","prompt_id":"PID","output":{"images":[{"filename":"a.png","subfolder":"","type":"output"}]}}}"#,
    );
    message(
        &mut app,
        t0,
        r#"{"type":"execution_success","data":{"prompt_id":"PID","timestamp":1}}"#,
    );
    message(
        &mut app,
        t0,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    );
    app.take_reports();
    // Ctrl-C while the file is still being written: leave now, and say it is not saved.
    let effects = send(&mut app, t0, Event::Signal(Signal::Interrupt));
    assert_eq!(effects, vec![Effect::Exit(crate::exit::EXECUTION_ERROR)]);
    assert_eq!(app.status(), "incomplete");
    assert_eq!(app.focused().saves.failed.len(), 1);
    let reports = app.take_reports();
    assert!(
        reports.iter().any(
            |l| matches!(&l.report, Report::OutputFailed { file, .. } if file.filename == "a.png")
        ),
        "{reports:?}"
    );
    // A late answer from the download changes nothing.
    let file = app.focused().saves.failed[0].0.clone();
    send(
        &mut app,
        t0,
        Event::Job(
            JobKey::FIRST,
            JobEvent::Saved {
                node: crate::comfy::NodeId::from("2"),
                file,
                path: "x.png".into(),
                bytes: 1,
            },
        ),
    );
    assert!(app.focused().saves.saved.is_empty());
}

#[test]
fn the_submission_answer_comes_before_what_the_socket_heard() {
    let (mut app, t0) = app(false);
    send(
        &mut app,
        t0,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Connected { reconnect: false },
        ),
    );
    // The socket hears of our prompt before the POST answers.
    message(
        &mut app,
        t0,
        r#"{"type":"execution_start","data":{"prompt_id":"PID"}}"#,
    );
    message(
        &mut app,
        t0,
        r#"{"type":"executing","data":{"node":"1","prompt_id":"PID"}}"#,
    );
    assert!(app.take_reports().is_empty());
    send(
        &mut app,
        t0,
        Event::Job(
            JobKey::FIRST,
            JobEvent::Submitted(Submitted {
                prompt_id: PromptId::from(PROMPT),
                number: 1.0,
                node_errors: vec![],
            }),
        ),
    );
    let reports = app.take_reports();
    assert!(
        matches!(reports[0].report, Report::Submitted { .. }),
        "{reports:?}"
    );
    assert!(reports.len() >= 3, "{reports:?}");
}

#[test]
fn an_unconfirmed_cancel_gives_up_after_the_grace_period() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    send(&mut app, t0, Event::Signal(Signal::Interrupt));
    assert!(send(&mut app, t0 + Duration::from_secs(1), Event::Tick).is_empty());
    let effects = send(&mut app, t0 + Duration::from_secs(6), Event::Tick);
    // No confirmation: leave, saying the prompt may still be running.
    assert_eq!(effects, vec![Effect::Exit(crate::exit::DETACHED)]);
    assert_eq!(app.status(), "detached");
}

#[test]
fn a_rejection_exits_3() {
    let (mut app, t0) = app(false);
    send(
        &mut app,
        t0,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Connected { reconnect: false },
        ),
    );
    let effects = send(
        &mut app,
        t0,
        Event::Job(JobKey::FIRST, JobEvent::Rejected(Default::default())),
    );
    assert_eq!(effects, vec![Effect::Exit(crate::exit::REJECTED)]);
}

#[test]
fn timeout_cancels_then_ends_as_a_timeout_with_exit_4() {
    let (mut app, t0) = app(false);
    app.session.jobs[0].spec.timeout = Some(Duration::from_secs(10));
    running(&mut app, t0);
    let effects = send(&mut app, t0 + Duration::from_secs(11), Event::Tick);
    assert_eq!(
        effects,
        vec![Effect::Interrupt(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    assert!(!app.is_settled(), "waits for the confirmation");
    let t = t0 + Duration::from_secs(11);
    message(
        &mut app,
        t,
        r#"{"type":"execution_interrupted","data":{"prompt_id":"PID","node_id":"1","node_type":"KSampler","executed":[],"timestamp":1}}"#,
    );
    message(
        &mut app,
        t,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    );
    let effects = send(
        &mut app,
        t,
        Event::Job(JobKey::FIRST, JobEvent::History(None)),
    );
    assert_eq!(effects, vec![Effect::Exit(crate::exit::UNREACHABLE)]);
    assert_eq!(app.job().outcome(), Some(Outcome::Timeout));
}

#[test]
fn a_success_without_executing_null_ends_as_success_even_if_history_is_late() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    let t = t0 + Duration::from_secs(60);
    message(
        &mut app,
        t,
        r#"{"type":"execution_success","data":{"prompt_id":"PID","timestamp":1}}"#,
    );
    assert!(
        send(&mut app, t + Duration::from_millis(100), Event::Tick).is_empty(),
        "too early"
    );
    let effects = send(&mut app, t + Duration::from_secs(4), Event::Tick);
    assert_eq!(
        effects,
        vec![Effect::FetchHistory(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    send(
        &mut app,
        t + Duration::from_secs(4),
        Event::Job(JobKey::FIRST, JobEvent::History(None)),
    );
    assert_eq!(app.job().outcome(), Some(Outcome::Success));
}

#[test]
fn a_cancelled_queued_prompt_that_starts_anyway_is_interrupted() {
    let (mut app, t0) = app(false);
    submitted(&mut app, t0);
    send(&mut app, t0, Event::Signal(Signal::Interrupt));
    let queue = crate::comfy::http::QueueSnapshot {
        asked: None,
        running: vec![PromptId::from("someone-else")],
        pending: vec![PromptId::from(PROMPT)],
    };
    assert!(
        send(
            &mut app,
            t0,
            Event::Server(ServerKey::FIRST, ServerEvent::Queue(queue))
        )
        .is_empty(),
        "first pending is not running"
    );
    let effects = message(
        &mut app,
        t0,
        r#"{"type":"execution_start","data":{"prompt_id":"PID"}}"#,
    );
    assert_eq!(
        effects,
        vec![Effect::Interrupt(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    assert!(
        message(
            &mut app,
            t0,
            r#"{"type":"executing","data":{"node":"1","prompt_id":"PID"}}"#
        )
        .is_empty()
    );
}

#[test]
fn a_quiet_running_prompt_is_looked_up_in_the_queue() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    assert!(send(&mut app, t0 + Duration::from_secs(2), Event::Tick).is_empty());
    let effects = send(&mut app, t0 + Duration::from_secs(3), Event::Tick);
    assert_eq!(effects, vec![Effect::PollQueue(ServerKey::FIRST)]);
    // Gone from the queue while the socket has been quiet for seconds (it went deaf):
    // one answer is enough, and the history decides.
    let effects = send(
        &mut app,
        t0 + Duration::from_secs(3),
        Event::Server(ServerKey::FIRST, ServerEvent::Queue(Default::default())),
    );
    assert_eq!(
        effects,
        vec![Effect::FetchHistory(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    let reports = app.take_reports();
    assert!(
        reports.iter().any(
            |l| matches!(&l.report, Report::Warning { message } if message.contains("client-id"))
        ),
        "{reports:?}"
    );
}

#[test]
fn a_run_finished_from_history_marks_the_nodes_that_made_outputs_done() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    send(
        &mut app,
        t0 + Duration::from_secs(3),
        Event::Server(ServerKey::FIRST, ServerEvent::Queue(Default::default())),
    );
    let entry = HistoryEntry {
        outputs: vec![(
            crate::comfy::NodeId::from("2"),
            crate::comfy::NodeOutput::default(),
        )],
        status_str: "success".into(),
        completed: true,
        last_message: Some("execution_success".into()),
        error: None,
        cached: vec![],
    };
    send(
        &mut app,
        t0 + Duration::from_secs(3),
        Event::Job(JobKey::FIRST, JobEvent::History(Some(entry))),
    );
    assert_eq!(app.status(), "success");
    for node in &app.job().nodes {
        assert_eq!(node.state, crate::job::NodeState::Done, "{}", node.id);
    }
}

#[test]
fn no_interrupt_once_the_run_is_ending() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    message(
        &mut app,
        t0,
        r#"{"type":"execution_success","data":{"prompt_id":"PID","timestamp":1}}"#,
    );
    let effects = send(&mut app, t0, Event::Signal(Signal::Interrupt));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Interrupt(JobKey::FIRST, _))),
        "{effects:?}"
    );
}

#[test]
fn a_submission_without_an_answer_is_looked_for_in_the_queue() {
    let (mut app, t0) = app(false);
    send(
        &mut app,
        t0,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Connected { reconnect: false },
        ),
    );
    let effects = send(
        &mut app,
        t0,
        Event::Job(
            JobKey::FIRST,
            JobEvent::SubmitFailed {
                reason: "timed out".into(),
                maybe_sent: true,
            },
        ),
    );
    assert_eq!(effects, vec![Effect::PollQueue(ServerKey::FIRST)]);
    let queue = crate::comfy::http::QueueSnapshot {
        asked: None,
        running: vec![PromptId::from(PROMPT)],
        pending: vec![],
    };
    assert!(
        send(
            &mut app,
            t0,
            Event::Server(ServerKey::FIRST, ServerEvent::Queue(queue))
        )
        .is_empty()
    );
    assert_eq!(app.job().queue_position, Some(0));
    assert!(!app.job().is_finished());
}

#[test]
fn a_reconnect_resyncs_and_a_forgotten_prompt_is_lost() {
    let (mut app, t0) = app(false);
    running(&mut app, t0);
    send(
        &mut app,
        t0,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Disconnected {
                reason: "reset".into(),
                attempt: 1,
            },
        ),
    );
    assert_eq!(
        send(
            &mut app,
            t0,
            Event::Server(ServerKey::FIRST, ServerEvent::Connected { reconnect: true })
        ),
        vec![Effect::PollQueue(ServerKey::FIRST)]
    );
    let effects = send(
        &mut app,
        t0,
        Event::Server(ServerKey::FIRST, ServerEvent::Queue(Default::default())),
    );
    assert_eq!(
        effects,
        vec![Effect::FetchHistory(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    let effects = send(
        &mut app,
        t0,
        Event::Job(JobKey::FIRST, JobEvent::History(None)),
    );
    assert_eq!(effects, vec![Effect::Exit(crate::exit::UNREACHABLE)]);
    assert_eq!(app.job().outcome(), Some(Outcome::Lost));
}

/// An app running a graph of `n` independent nodes, the first of them running.
fn long_app(n: usize) -> (App, Instant) {
    let nodes: Vec<String> = (1..=n)
        .map(|i| format!(r#""{i}": {{"class_type": "ProbeSteps", "inputs": {{"steps": 3}}}}"#))
        .collect();
    let workflow = Workflow::parse(&format!("{{{}}}", nodes.join(",")), Path::new("w.json"))
        .expect("workflow");
    let (mut app, t0) = app(true);
    app.session.jobs[0].job = Job::new(&workflow, PromptId::from(PROMPT));
    running(&mut app, t0);
    (app, t0)
}

#[test]
fn every_keymap_action_is_reachable() {
    for binding in keymap::KEYMAP {
        let (mut app, t0) = long_app(100);
        app.ui.nodes = Scroll {
            offset: 50,
            follow: false,
        };
        let effects = send(&mut app, t0, Event::Key(binding.keys[0]));
        // 80x24 by default: the node list shows 18 rows, a page moves 17.
        let nodes = app.ui.nodes;
        let at = |offset| {
            nodes
                == Scroll {
                    offset,
                    follow: false,
                }
        };
        let changed = match binding.action {
            Action::Cancel => app.ui.popup == Some(Popup::ConfirmCancel),
            Action::Quit => app.ui.popup == Some(Popup::ConfirmQuit),
            Action::TogglePreview => app.ui.hide_preview,
            Action::ToggleLog => app.ui.show_log,
            Action::Help => app.ui.popup == Some(Popup::Help),
            Action::ServerLog => {
                app.ui.popup == Some(Popup::ServerLog)
                    && effects == vec![Effect::SubscribeLogs(ServerKey::FIRST)]
            }
            Action::ScrollUp => at(49),
            Action::ScrollDown => at(51),
            Action::PageUp => at(33),
            Action::PageDown => at(67),
            Action::Top => at(0),
            Action::Bottom => at(82),
            Action::Follow => nodes.follow && app.ui.log.follow,
            Action::FocusNext => app.ui.focus == Some(Pane::Nodes),
            Action::Suspend => effects == vec![Effect::Suspend],
            // Batch keys do nothing in a single run (tests/ui_batch.rs covers them).
            Action::CancelBatch | Action::SwitchJob => {
                app.ui.popup.is_none() && effects.is_empty() && app.session.focus.0 == 0
            }
            Action::ClosePopup => {
                app.ui.popup = Some(Popup::Help);
                send(&mut app, t0, Event::Key(binding.keys[0]));
                app.ui.popup.is_none()
            }
        };
        assert!(changed, "{:?} via {:?}", binding.action, binding.keys[0]);
    }
}

#[test]
fn ctrl_z_suspends_even_with_a_popup_open_and_the_popup_stays() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    send(&mut app, t0, Event::Key(Key::Char('c')));
    assert_eq!(app.ui.popup, Some(Popup::ConfirmCancel));
    let effects = send(&mut app, t0, Event::Key(Key::Ctrl('z')));
    assert_eq!(effects, vec![Effect::Suspend]);
    assert_eq!(app.ui.popup, Some(Popup::ConfirmCancel));
}

#[test]
fn scrolling_stops_following_and_f_resumes_it() {
    let (mut app, t0) = long_app(100);
    assert!(app.ui.nodes.follow);
    send(&mut app, t0, Event::Key(Key::Char('k')));
    assert!(!app.ui.nodes.follow);
    send(&mut app, t0, Event::Key(Key::Char('f')));
    assert!(app.ui.nodes.follow);
    // After `G`, `k` and `PgUp` move at once (the offset is never past the end).
    send(&mut app, t0, Event::Key(Key::Char('G')));
    assert_eq!(app.ui.nodes.offset, 82);
    send(&mut app, t0, Event::Key(Key::Char('k')));
    assert_eq!(app.ui.nodes.offset, 81);
    send(&mut app, t0, Event::Key(Key::PageUp));
    assert_eq!(app.ui.nodes.offset, 64);
}

#[test]
fn the_keys_scroll_by_what_the_screen_shows() {
    let (mut app, t0) = long_app(100);
    send(
        &mut app,
        t0,
        Event::Resize {
            width: 120,
            height: 40,
        },
    );
    send(&mut app, t0, Event::Key(Key::End));
    // 40 rows: 3 gauges and header, a footer, the list's border: 34 rows of nodes.
    assert_eq!(app.ui.nodes.offset, 100 - 34);
}

#[test]
fn tab_moves_the_keys_to_the_log_and_the_wheel_scrolls_the_pane_under_it() {
    let (mut app, t0) = long_app(100);
    for i in 0..30 {
        message(
            &mut app,
            t0 + Duration::from_secs(i),
            r#"{"type":"executing","data":{"node":"NODE","prompt_id":"PID"}}"#
                .replace("NODE", &(i + 2).to_string())
                .as_str(),
        );
    }
    send(&mut app, t0, Event::Key(Key::Char('l')));
    let log = crate::ui::scroll::view(&app, Pane::Log).expect("log shows");
    assert!(log.total > log.visible, "{log:?}");
    assert_eq!(log.first, log.max_first());
    send(&mut app, t0, Event::Key(Key::Tab));
    assert_eq!(app.ui.focus, Some(Pane::Log));
    send(&mut app, t0, Event::Key(Key::Char('g')));
    assert!(!app.ui.log.follow);
    assert_eq!(
        crate::ui::scroll::view(&app, Pane::Log).map(|v| v.first),
        Some(0)
    );
    // Nodes untouched by keys meant for the log; the wheel over the list moves it.
    assert!(app.ui.nodes.follow);
    let nodes = crate::ui::scroll::view(&app, Pane::Nodes).expect("nodes show");
    let (column, row) = (nodes.area.x + 2, nodes.area.y + 2);
    send(
        &mut app,
        t0,
        Event::Wheel {
            column,
            row,
            down: false,
        },
    );
    assert!(!app.ui.nodes.follow);
    assert_eq!(
        app.ui.nodes.offset,
        nodes.first - crate::ui::scroll::WHEEL_ROWS
    );
    // The wheel over the log scrolls the log.
    send(
        &mut app,
        t0,
        Event::Wheel {
            column: log.area.x + 2,
            row: log.area.y + 1,
            down: true,
        },
    );
    assert_eq!(
        crate::ui::scroll::view(&app, Pane::Log).map(|v| v.first),
        Some(crate::ui::scroll::WHEEL_ROWS)
    );
}

#[test]
fn download_progress_is_kept_until_the_file_is_saved() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    message(
        &mut app,
        t0,
        r#"{"type":"executed","data":{"node":"2","output":{"images":[{"filename":"a.png","subfolder":"","type":"output"}]},"prompt_id":"PID"}}"#,
    );
    let file = app
        .job()
        .files()
        .next()
        .map(|(_, f)| f.clone())
        .expect("file");
    let progress = |bytes| {
        Event::Job(
            JobKey::FIRST,
            JobEvent::DownloadProgress {
                file: file.clone(),
                bytes,
                total: Some(4_000_000),
            },
        )
    };
    send(&mut app, t0, progress(1_000_000));
    assert_eq!(app.focused().saves.transfers[0].rate(), None);
    send(&mut app, t0 + Duration::from_secs(1), progress(3_000_000));
    assert_eq!(app.focused().saves.transfers.len(), 1);
    assert_eq!(app.focused().saves.transfers[0].bytes, 3_000_000);
    assert_eq!(app.focused().saves.transfers[0].rate(), Some(2_000_000.0));
    send(
        &mut app,
        t0 + Duration::from_secs(2),
        Event::Job(
            JobKey::FIRST,
            JobEvent::Saved {
                node: crate::comfy::NodeId::from("2"),
                file: file.clone(),
                path: "out/a.png".into(),
                bytes: 4_000_000,
            },
        ),
    );
    assert!(app.focused().saves.transfers.is_empty());
    // A late progress event for a saved file is ignored.
    send(&mut app, t0 + Duration::from_secs(2), progress(4_000_000));
    assert!(app.focused().saves.transfers.is_empty());
}

#[test]
fn one_queue_miss_is_not_enough_to_judge_the_run() {
    let (mut app, t0) = app(false);
    submitted(&mut app, t0);
    // The run may have just ended with its messages still on the way.
    assert!(
        send(
            &mut app,
            t0,
            Event::Server(ServerKey::FIRST, ServerEvent::Queue(Default::default()))
        )
        .is_empty()
    );
    let effects = send(
        &mut app,
        t0,
        Event::Server(ServerKey::FIRST, ServerEvent::Queue(Default::default())),
    );
    assert_eq!(
        effects,
        vec![Effect::FetchHistory(JobKey::FIRST, PromptId::from(PROMPT))]
    );
}

#[test]
fn a_message_of_ours_between_misses_resets_the_count() {
    let (mut app, t0) = app(false);
    submitted(&mut app, t0);
    send(
        &mut app,
        t0,
        Event::Server(ServerKey::FIRST, ServerEvent::Queue(Default::default())),
    );
    message(
        &mut app,
        t0,
        r#"{"type":"progress","data":{"value":1,"max":3,"prompt_id":"PID","node":"1"}}"#,
    );
    assert!(
        send(
            &mut app,
            t0,
            Event::Server(ServerKey::FIRST, ServerEvent::Queue(Default::default()))
        )
        .is_empty()
    );
}

#[test]
fn a_cancel_during_the_post_waits_for_the_answer_then_deletes() {
    let (mut app, t0) = app(false);
    assert_eq!(
        send(
            &mut app,
            t0,
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Connected { reconnect: false }
            )
        ),
        vec![Effect::Submit(JobKey::FIRST)]
    );
    assert!(send(&mut app, t0, Event::Signal(Signal::Interrupt)).is_empty());
    let effects = send(
        &mut app,
        t0,
        Event::Job(
            JobKey::FIRST,
            JobEvent::Submitted(Submitted {
                prompt_id: PromptId::from(PROMPT),
                number: 1.0,
                node_errors: vec![],
            }),
        ),
    );
    assert_eq!(
        effects,
        vec![
            Effect::DeleteFromQueue(JobKey::FIRST, PromptId::from(PROMPT)),
            Effect::PollQueue(ServerKey::FIRST)
        ]
    );
}

#[test]
fn a_prompt_that_started_before_the_delete_took_is_interrupted() {
    let (mut app, t0) = app(false);
    submitted(&mut app, t0);
    send(&mut app, t0, Event::Signal(Signal::Interrupt));
    // The queue shows it running: the socket's news has not come yet.
    let running = crate::comfy::http::QueueSnapshot {
        asked: None,
        running: vec![PromptId::from(PROMPT)],
        pending: vec![],
    };
    let effects = send(
        &mut app,
        t0,
        Event::Server(ServerKey::FIRST, ServerEvent::Queue(running.clone())),
    );
    assert_eq!(
        effects,
        vec![Effect::Interrupt(JobKey::FIRST, PromptId::from(PROMPT))]
    );
    assert!(
        send(
            &mut app,
            t0,
            Event::Server(ServerKey::FIRST, ServerEvent::Queue(running))
        )
        .is_empty(),
        "only once"
    );
}

#[test]
fn a_queue_answer_that_overtakes_the_socket_is_no_sign_of_a_deaf_socket() {
    let (mut app, t0) = app(false);
    submitted(&mut app, t0);
    app.take_reports();
    let running = crate::comfy::http::QueueSnapshot {
        asked: None,
        running: vec![PromptId::from(PROMPT)],
        ..Default::default()
    };
    send(
        &mut app,
        t0 + Duration::from_millis(50),
        Event::Server(ServerKey::FIRST, ServerEvent::Queue(running.clone())),
    );
    assert!(
        !app.take_reports()
            .iter()
            .any(|l| matches!(l.report, Report::Warning { .. })),
        "the socket simply has not spoken yet"
    );
    // Seconds later, still nothing from the socket: now it is worth a warning.
    send(
        &mut app,
        t0 + Duration::from_secs(3),
        Event::Server(ServerKey::FIRST, ServerEvent::Queue(running)),
    );
    let reports = app.take_reports();
    assert!(
        reports.iter().any(
            |l| matches!(&l.report, Report::Warning { message } if message.contains("client-id"))
        ),
        "{reports:?}"
    );
}

#[test]
fn the_server_log_subscribes_once_and_keeps_what_the_socket_brings() {
    let (mut app, t0) = app(true);
    running(&mut app, t0);
    assert_eq!(
        send(&mut app, t0, Event::Key(Key::Char('L'))),
        vec![Effect::SubscribeLogs(ServerKey::FIRST)]
    );
    assert_eq!(app.ui.popup, Some(Popup::ServerLog));
    send(
        &mut app,
        t0,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Log(vec!["got prompt".into()]),
        ),
    );
    message(
        &mut app,
        t0,
        r#"{"type":"logs","data":{"entries":[{"t":"2026-01-01T00:00:00","m":"100%|##| 20/20\nPrompt executed in 1.2 seconds\n"}]}}"#,
    );
    let lines: Vec<&String> = app.server().log.iter().collect();
    assert_eq!(
        lines,
        [
            "got prompt",
            "100%|##| 20/20",
            "Prompt executed in 1.2 seconds"
        ]
    );
    // Closing and opening again asks nothing more of the server.
    send(&mut app, t0, Event::Key(Key::Char('L')));
    assert_eq!(app.ui.popup, None);
    assert!(send(&mut app, t0, Event::Key(Key::Char('L'))).is_empty());
}
