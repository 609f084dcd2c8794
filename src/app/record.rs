//! What the app asks the state directory to remember of its run, as effects: the job
//! store's record when the server has the prompt and again when the run ends, and the
//! node durations of a successful run. Pure: wall-clock times are counted from the one
//! taken when the app was built.

use super::{Effect, JobEvent};
use crate::job::{NodeState, Outcome};
use crate::session::Tracked;
use crate::session::recording::{Recording, Stage};
use crate::state::durations::Sample;
use crate::state::jobs::{self, JobRecord};
use std::time::{Duration, Instant, SystemTime};

/// Does this event tell that the server has (or may have) the job's prompt?
pub(super) fn is_answer(event: &JobEvent) -> bool {
    matches!(
        event,
        JobEvent::Submitted(_)
            | JobEvent::Rejected(_)
            | JobEvent::SubmitFailed {
                maybe_sent: true,
                ..
            }
    )
}

/// After each event: a record when the server first has the prompt, and the final one
/// when the job has settled or the app leaves (a hang-up leaves it `detached`, so that
/// it can be found again). `started` is the app's start, the base of wall times.
pub(super) fn after_update(
    tracked: &mut Tracked,
    answered: bool,
    leaving: bool,
    started: Instant,
    now: Instant,
    effects: &mut Vec<Effect>,
) {
    let Some(mut recording) = tracked.recording.take() else {
        return;
    };
    let ended = tracked.is_settled() || leaving;
    let sent = answered || recording.stage == Stage::Submitted || tracked.detached().is_some();
    let clock = Clock { started, now };
    match recording.stage {
        Stage::Ended => {}
        _ if !sent => {
            if ended {
                // Nothing reached the server: nothing to find again.
                recording.stage = Stage::Ended;
            }
        }
        _ if ended => {
            effects.push(Effect::RecordJob(record(tracked, &recording, clock, true)));
            if tracked.detached().is_none() && tracked.job.outcome() == Some(Outcome::Success) {
                effects.push(Effect::RecordDurations(sample(tracked, &recording)));
            }
            recording.stage = Stage::Ended;
        }
        Stage::NotSent => {
            effects.push(Effect::RecordJob(record(tracked, &recording, clock, false)));
            recording.stage = Stage::Submitted;
        }
        Stage::Submitted => {}
    }
    tracked.recording = Some(recording);
}

/// The app's start and the latest event's time.
#[derive(Debug, Clone, Copy)]
struct Clock {
    started: Instant,
    now: Instant,
}

fn record(tracked: &Tracked, recording: &Recording, clock: Clock, ended: bool) -> JobRecord {
    let submitted = tracked.job.submitted_at.unwrap_or(clock.started);
    JobRecord {
        prompt_id: tracked.job.prompt_id.to_string(),
        server: recording.server.clone(),
        client_id: recording.client_id.to_string(),
        workflow: recording.workflow.clone(),
        submitted: rfc3339(wall(recording, clock.started, submitted)),
        status: if ended {
            tracked.status().to_owned()
        } else {
            jobs::SUBMITTED.to_owned()
        },
        exit_code: ended.then(|| tracked.exit_code()),
        outputs: tracked.saves.saved.len(),
        ended: ended.then(|| rfc3339(wall(recording, clock.started, clock.now))),
    }
}

/// The seconds each node that ran took. Cached nodes are left out: what they cost when
/// they do run is what the next run needs to know, and the cache is seen live.
fn sample(tracked: &Tracked, recording: &Recording) -> Sample {
    Sample {
        server: recording.server.clone(),
        shape: recording.shape.clone(),
        nodes: tracked
            .job
            .nodes
            .iter()
            .filter(|n| n.state == NodeState::Done)
            .filter_map(|n| Some((n.id.clone(), n.duration()?.as_secs_f64())))
            .collect(),
    }
}

fn wall(recording: &Recording, started: Instant, at: Instant) -> SystemTime {
    recording.wall_start + at.saturating_duration_since(started)
}

/// RFC 3339 in UTC to the second; humantime formats years up to 9999 only.
pub fn rfc3339(time: SystemTime) -> String {
    let last = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    humantime::format_rfc3339_seconds(time.min(last)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{App, AppConfig, Event, Signal, Stamped, update};
    use crate::app::{JobEvent, ServerEvent};
    use crate::comfy::ClientId;
    use crate::comfy::http::Submitted;
    use crate::comfy::messages::ServerMessage;
    use crate::comfy::ws::WsItem;
    use crate::comfy::{PromptId, Workflow};
    use crate::job::Job;
    use crate::session::{JobKey, ServerKey};
    use crate::state::shape::ShapeKey;
    use std::path::Path;

    const PROMPT: &str = "5f0c6a62-8f2b-4c39-9a3e-0d1f7c1e2a11";

    /// A headless app whose run is recorded, started at `t0` = 2026-01-02T03:04:05Z.
    fn recorded_app() -> (App, Instant) {
        let workflow = Workflow::parse(
            r#"{"1": {"class_type": "KSampler", "inputs": {"steps": 3}},
                "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}"#,
            Path::new("w.json"),
        )
        .expect("workflow");
        let t0 = Instant::now();
        let config = AppConfig {
            server: "http://h/".into(),
            client_id: ClientId::from("c"),
            download: false,
            timeout: None,
            interactive: false,
            seeds: Vec::new(),
            picks: Vec::new(),
            attach: false,
        };
        let mut app = App::new(Job::new(&workflow, PromptId::from(PROMPT)), config, t0);
        let wall = humantime::parse_rfc3339("2026-01-02T03:04:05Z").expect("time");
        app.session.jobs[0].recording = Some(Recording::new(
            "http://h/".into(),
            ClientId::from("c"),
            "/w/w.json".into(),
            ShapeKey("2n-x".into()),
            wall,
        ));
        (app, t0)
    }

    fn send(app: &mut App, at: Instant, event: Event) -> Vec<Effect> {
        update(app, Stamped::new(at, event))
    }

    fn message(app: &mut App, at: Instant, text: &str) -> Vec<Effect> {
        let text = text.replace("PID", PROMPT);
        let message = ServerMessage::parse(&text).expect("message");
        send(
            app,
            at,
            Event::Server(ServerKey::FIRST, ServerEvent::Ws(WsItem::Message(message))),
        )
    }

    fn records(effects: &[Effect]) -> Vec<&JobRecord> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::RecordJob(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn submit(app: &mut App, at: Instant) -> Vec<Effect> {
        send(
            app,
            at,
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Connected { reconnect: false },
            ),
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
        )
    }

    #[test]
    fn the_answer_and_the_end_are_recorded_with_the_durations_of_a_success() {
        let (mut app, t0) = recorded_app();
        let secs = |s: u64| t0 + Duration::from_secs(s);
        let effects = submit(&mut app, secs(1));
        let first = records(&effects);
        assert_eq!(first.len(), 1, "{effects:?}");
        assert_eq!(first[0].status, jobs::SUBMITTED);
        assert_eq!(first[0].submitted, "2026-01-02T03:04:06Z");
        assert_eq!(first[0].workflow, "/w/w.json");
        assert_eq!(first[0].exit_code, None);
        message(
            &mut app,
            secs(2),
            r#"{"type":"execution_start","data":{"prompt_id":"PID"}}"#,
        );
        let effects = message(
            &mut app,
            secs(2),
            r#"{"type":"executing","data":{"node":"1","prompt_id":"PID"}}"#,
        );
        assert!(records(&effects).is_empty(), "once per stage: {effects:?}");
        message(
            &mut app,
            secs(7),
            r#"{"type":"executing","data":{"node":"2","prompt_id":"PID"}}"#,
        );
        message(
            &mut app,
            secs(8),
            r#"{"type":"execution_success","data":{"prompt_id":"PID","timestamp":1}}"#,
        );
        let effects = message(
            &mut app,
            secs(8),
            r#"{"type":"executing","data":{"node":null,"prompt_id":"PID"}}"#,
        );
        let last = records(&effects);
        assert_eq!(last.len(), 1, "{effects:?}");
        assert_eq!(last[0].status, "success");
        assert_eq!(last[0].exit_code, Some(0));
        assert_eq!(last[0].ended.as_deref(), Some("2026-01-02T03:04:13Z"));
        let sample = effects
            .iter()
            .find_map(|e| match e {
                Effect::RecordDurations(s) => Some(s),
                _ => None,
            })
            .expect("durations");
        assert_eq!(sample.shape, ShapeKey("2n-x".into()));
        assert_eq!(
            sample.nodes,
            vec![
                (crate::comfy::NodeId::from("1"), 5.0),
                (crate::comfy::NodeId::from("2"), 1.0)
            ]
        );
        assert!(effects.contains(&Effect::Exit(0)));
        // Nothing more once the end is recorded.
        assert!(records(&send(&mut app, secs(9), Event::Tick)).is_empty());
    }

    #[test]
    fn a_hang_up_is_recorded_as_detached_without_durations() {
        let (mut app, t0) = recorded_app();
        submit(&mut app, t0);
        message(
            &mut app,
            t0,
            r#"{"type":"execution_start","data":{"prompt_id":"PID"}}"#,
        );
        let effects = send(&mut app, t0, Event::Signal(Signal::Hangup));
        let last = records(&effects);
        assert_eq!(last.len(), 1, "{effects:?}");
        assert_eq!(last[0].status, "detached");
        assert_eq!(last[0].exit_code, Some(crate::exit::DETACHED));
        assert!(last[0].may_be_running());
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::RecordDurations(_)))
        );
    }

    #[test]
    fn a_hang_up_before_the_answer_is_recorded_the_prompt_may_be_queued() {
        let (mut app, t0) = recorded_app();
        send(
            &mut app,
            t0,
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Connected { reconnect: false },
            ),
        );
        let effects = send(&mut app, t0, Event::Signal(Signal::Hangup));
        let last = records(&effects);
        assert_eq!(last.len(), 1, "{effects:?}");
        assert_eq!(last[0].status, "detached");
    }

    #[test]
    fn nothing_is_recorded_when_nothing_reached_the_server_and_a_rejection_once() {
        let (mut app, t0) = recorded_app();
        let effects = send(
            &mut app,
            t0,
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Unreachable {
                    reason: "no".into(),
                },
            ),
        );
        assert!(records(&effects).is_empty(), "{effects:?}");
        assert!(effects.contains(&Effect::Exit(crate::exit::UNREACHABLE)));

        let (mut app, t0) = recorded_app();
        send(
            &mut app,
            t0,
            Event::Server(
                ServerKey::FIRST,
                ServerEvent::Connected { reconnect: false },
            ),
        );
        let rejection = crate::comfy::http::Rejection {
            kind: "prompt_outputs_failed_validation".into(),
            message: "bad".into(),
            details: String::new(),
            node_errors: vec![],
            http_status: 400,
        };
        let effects = send(
            &mut app,
            t0,
            Event::Job(JobKey::FIRST, JobEvent::Rejected(rejection)),
        );
        let last = records(&effects);
        assert_eq!(last.len(), 1, "{effects:?}");
        assert_eq!(last[0].status, "rejected");
        assert_eq!(last[0].exit_code, Some(crate::exit::REJECTED));
    }

    #[test]
    fn an_app_without_a_recording_asks_for_nothing() {
        let (mut app, t0) = recorded_app();
        app.session.jobs[0].recording = None;
        let effects = submit(&mut app, t0);
        assert!(records(&effects).is_empty());
    }
}
