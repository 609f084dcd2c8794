//! A batch in the run view (`TestBackend`): the jobs panel with each job's state,
//! progress, seed and swept value, the job in view marked, the contact strip of finished
//! outputs; `]` shows the next job, `c` cancels the one in view, `C` (after its
//! question) the whole batch, pending jobs first.

mod ui_common;

use comfy_tui::app::{
    self, App, Effect, Event, JobEvent, JobKey, Key, ServerEvent, ServerKey, Stamped,
};
use comfy_tui::comfy::http::Submitted;
use comfy_tui::comfy::workflow::Seed;
use comfy_tui::comfy::ws::WsItem;
use comfy_tui::comfy::{ClientId, FileRef, NodeId, PromptId, ServerMessage, Workflow};
use comfy_tui::job::Job;
use comfy_tui::session::{JobSpec, Server};
use std::path::Path;
use std::time::{Duration, Instant};
use ui_common::{render, screen_text};

const WORKFLOW: &str = r#"{
  "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
  "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "cfg": 4, "model": ["4", 0]}, "_meta": {"title": "KSampler"}},
  "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["3", 0]}}
}"#;

fn id(n: usize) -> String {
    format!("{n}{n}{n}{n}{n}{n}{n}{n}-0000-4000-8000-00000000000{n}")
}

fn batch(jobs: usize) -> (App, Instant) {
    let workflow = Workflow::parse(WORKFLOW, Path::new("w.json")).expect("workflow");
    let t0 = Instant::now();
    let jobs = (0..jobs)
        .map(|n| {
            let spec = JobSpec {
                download: true,
                timeout: None,
                seeds: vec![Seed {
                    node: NodeId::from("3"),
                    input: "seed".into(),
                    value: serde_json::Number::from(100 + n),
                }],
                picks: Vec::new(),
                attach: false,
                swept: vec![("KSampler.cfg".into(), format!("{}", 4 + 2 * n))],
            };
            (Job::new(&workflow, PromptId::from(id(n).as_str())), spec)
        })
        .collect();
    let server = Server::new("http://127.0.0.1:8188".into(), ClientId::from("tui"));
    (App::batch(server, jobs, true, t0), t0)
}

fn send(app: &mut App, at: Instant, event: Event) -> Vec<Effect> {
    app::update(app, Stamped::new(at, event))
}

fn msg(app: &mut App, at: Instant, n: usize, json: &str) {
    let text = json.replace("PID", &id(n));
    send(
        app,
        at,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Ws(WsItem::Message(
                ServerMessage::parse(&text).expect("message"),
            )),
        ),
    );
}

/// Connected; each job submitted in turn; job 0 done with a saved output, job 1 halfway,
/// job 2 waiting in the queue.
fn scene() -> (App, Instant) {
    let (mut app, t0) = batch(3);
    let at = |s: u64| t0 + Duration::from_secs(s);
    assert_eq!(
        send(
            &mut app,
            at(0),
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Connected { reconnect: false }
            )
        ),
        vec![Effect::Submit(JobKey(0))]
    );
    for n in 0..3 {
        let effects = send(
            &mut app,
            at(0),
            Event::Job(
                JobKey(n),
                JobEvent::Submitted(Submitted {
                    prompt_id: PromptId::from(id(n).as_str()),
                    number: n as f64,
                    node_errors: vec![],
                }),
            ),
        );
        if n < 2 {
            assert!(
                effects.contains(&Effect::Submit(JobKey(n + 1))),
                "in turn: {effects:?}"
            );
        }
    }
    msg(
        &mut app,
        at(1),
        0,
        r#"{"type":"execution_start","data":{"prompt_id":"PID"}}"#,
    );
    msg(
        &mut app,
        at(1),
        0,
        r#"{"type":"executing","data":{"node":"3","prompt_id":"PID"}}"#,
    );
    msg(
        &mut app,
        at(3),
        0,
        r#"{"type":"executed","data":{"node":"9","output":{"images":[{"filename":"ComfyUI_00001_.png","subfolder":"","type":"output"}]},"prompt_id":"PID"}}"#,
    );
    msg(
        &mut app,
        at(3),
        0,
        r#"{"type":"execution_success","data":{"prompt_id":"PID","timestamp":1}}"#,
    );
    msg(
        &mut app,
        at(3),
        0,
        r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
    );
    send(
        &mut app,
        at(3),
        Event::Job(
            JobKey(0),
            JobEvent::Saved {
                node: NodeId::from("9"),
                file: FileRef {
                    media: "images".into(),
                    filename: "ComfyUI_00001_.png".into(),
                    subfolder: String::new(),
                    folder_type: "output".into(),
                },
                path: ui_common::output_png(),
                bytes: 1000,
            },
        ),
    );
    send(
        &mut app,
        at(3),
        Event::Job(JobKey(0), JobEvent::History(None)),
    );
    msg(
        &mut app,
        at(4),
        1,
        r#"{"type":"execution_start","data":{"prompt_id":"PID"}}"#,
    );
    msg(
        &mut app,
        at(4),
        1,
        r#"{"type":"executing","data":{"node":"3","prompt_id":"PID"}}"#,
    );
    msg(
        &mut app,
        at(5),
        1,
        r#"{"type":"progress","data":{"value":10,"max":20,"node":"3","prompt_id":"PID"}}"#,
    );
    (app, t0)
}

#[test]
fn the_jobs_panel_shows_every_job_and_the_contact_strip() {
    let (mut app, t0) = scene();
    send(&mut app, t0, Event::Key(Key::Char(']')));
    assert_eq!(app.session.focus, JobKey(1));
    for (width, height) in [(100, 30), (80, 24)] {
        send(&mut app, t0, Event::Resize { width, height });
        let terminal = render(&app, width, height);
        let screen = screen_text(&terminal);
        assert!(screen.contains("Jobs 1/3 done"), "{screen}");
        assert!(screen.contains("#0"), "the contact strip: {screen}");
        assert!(screen.contains("KSampler.cfg=8"), "{screen}");
        insta::assert_snapshot!(format!("batch_{width}x{height}"), terminal.backend());
    }
}

#[test]
fn c_cancels_the_job_in_view_and_capital_c_the_batch_pending_first() {
    let (mut app, t0) = scene();
    send(&mut app, t0, Event::Key(Key::Char(']')));
    send(&mut app, t0, Event::Key(Key::Char(']')));
    assert_eq!(app.session.focus, JobKey(2));
    // `c` on the queued job: its delete only.
    send(&mut app, t0, Event::Key(Key::Char('c')));
    let effects = send(&mut app, t0, Event::Key(Key::Char('y')));
    assert!(
        effects.contains(&Effect::DeleteFromQueue(
            JobKey(2),
            PromptId::from(id(2).as_str())
        )),
        "{effects:?}"
    );
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Interrupt(..))),
        "{effects:?}"
    );
    // `C`: asks, then stops the running job (job 2 is already being cancelled).
    assert!(send(&mut app, t0, Event::Key(Key::Char('C'))).is_empty());
    let effects = send(&mut app, t0, Event::Key(Key::Char('y')));
    assert!(
        effects.contains(&Effect::Interrupt(
            JobKey(1),
            PromptId::from(id(1).as_str())
        )),
        "{effects:?}"
    );
}

#[test]
fn capital_c_deletes_every_pending_job_before_the_interrupt() {
    let (mut app, t0) = batch(4);
    let at = t0;
    send(
        &mut app,
        at,
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Connected { reconnect: false },
        ),
    );
    for n in 0..4 {
        send(
            &mut app,
            at,
            Event::Job(
                JobKey(n),
                JobEvent::Submitted(Submitted {
                    prompt_id: PromptId::from(id(n).as_str()),
                    number: n as f64,
                    node_errors: vec![],
                }),
            ),
        );
    }
    msg(
        &mut app,
        at,
        0,
        r#"{"type":"execution_start","data":{"prompt_id":"PID"}}"#,
    );
    send(&mut app, at, Event::Key(Key::Char('C')));
    let effects = send(&mut app, at, Event::Key(Key::Char('y')));
    let order: Vec<String> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::DeleteFromQueue(key, _) => Some(format!("delete {}", key.0)),
            Effect::Interrupt(key, _) => Some(format!("interrupt {}", key.0)),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["delete 1", "delete 2", "delete 3", "interrupt 0"]);
}

#[test]
fn a_queue_answer_asked_before_a_job_was_submitted_says_nothing_of_it() {
    let (mut app, t0) = batch(2);
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    send(
        &mut app,
        at(0),
        Event::Server(
            ServerKey::FIRST,
            ServerEvent::Connected { reconnect: false },
        ),
    );
    let submitted = |n: usize| {
        Event::Job(
            JobKey(n),
            JobEvent::Submitted(Submitted {
                prompt_id: PromptId::from(id(n).as_str()),
                number: n as f64,
                node_errors: vec![],
            }),
        )
    };
    send(&mut app, at(10), submitted(0));
    send(&mut app, at(20), submitted(1));
    // Two answers to polls asked before job 1 reached the server: neither lists it.
    for _ in 0..2 {
        let stale = comfy_tui::comfy::http::QueueSnapshot {
            running: vec![PromptId::from(id(0).as_str())],
            pending: vec![],
            asked: Some(at(15)),
        };
        let effects = send(
            &mut app,
            at(3000),
            Event::Server(ServerKey::FIRST, ServerEvent::Queue(stale)),
        );
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::FetchHistory(JobKey(1), _))),
            "{effects:?}"
        );
    }
    assert!(!app.session.job(JobKey(1)).job.is_finished());
}
