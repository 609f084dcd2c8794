//! Surviving the network and distrusting the server: the simulator's fault knobs against
//! whole headless runs.

mod common;

use comfy_tui::headless::Format;
use comfy_tui::runtime::Liveness;
use comfy_tui::sim::{FailNode, Faults, NodeMatch};
use common::run::{hidden_files, run_json, run_with, txt2img};
use common::sim::{start_sim, within};
use serde_json::json;
use std::time::{Duration, Instant};

/// Liveness timings scaled down 10× so that minute-long silences fit in a test.
fn fast_liveness() -> Liveness {
    Liveness {
        probe_after: Duration::from_millis(200),
        dead_after: Duration::from_millis(2000),
        probe_timeout: Duration::from_millis(500),
        connect_within: Duration::from_millis(2000),
    }
}

#[test]
fn the_default_liveness_detects_a_dead_server_within_30_seconds() {
    let l = Liveness::default();
    // Worst case: silence starts right after a check, then probes until `dead_after`,
    // plus one probe's timeout and one check interval.
    assert!(l.dead_after + l.probe_timeout + l.probe_after <= Duration::from_secs(30));
    assert!(
        l.dead_after >= Duration::from_secs(20),
        "a silent minute-long load is normal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_dropped_mid_run_still_completes_and_saves_everything() {
    let sim = start_sim(Duration::from_millis(5)).await;
    // 3 frames on connect and submit, then cut in the middle of the sampler's steps.
    sim.faults().set_drop_ws_after_frames(Some(12));
    let run = run_json(&sim.url(), &txt2img(40), |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    assert!(
        run.events("warning").iter().any(|w| w["message"]
            .as_str()
            .is_some_and(|m| m.contains("reconnect"))),
        "{}",
        run.text
    );
    assert_eq!(run.events("output").len(), 4, "{}", run.text);
    assert_eq!(run.done()["status"], "success");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_text_frame_breaks_the_connection_and_the_run_still_completes() {
    let sim = start_sim(Duration::from_millis(5)).await;
    // 64 MiB: far over the 8 MiB text cap, well under the binary one.
    sim.faults().update(|f| f.huge_text_frame = Some(64 << 20));
    let run = run_json(&sim.url(), &txt2img(20), |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    assert!(
        sim.faults().get().huge_text_frame.is_none(),
        "the frame was sent"
    );
    let warnings = run.events("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w["message"].as_str().is_some_and(|m| m
                .contains("text message of 67108864 bytes")
                && m.contains("reconnecting"))),
        "{}",
        run.text
    );
    assert!(
        warnings.iter().any(|w| w["message"]
            .as_str()
            .is_some_and(|m| m.contains("reconnected"))),
        "{}",
        run.text
    );
    assert_eq!(run.events("output").len(), 4, "{}", run.text);
    assert_eq!(run.done()["status"], "success");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_that_forgot_the_prompt_ends_the_run_as_lost() {
    let sim = start_sim(Duration::from_millis(50)).await;
    let url = sim.url();
    let started = Instant::now();
    let run = {
        let workflow = txt2img(400);
        let run = run_with(
            &url,
            &workflow,
            Format::Json,
            |_| {},
            |p| p.context.liveness = fast_liveness(),
        );
        let restart = async {
            // Let the run get going, then restart the server under it.
            tokio::time::sleep(Duration::from_millis(400)).await;
            sim.restart().await.expect("restart")
        };
        let (run, restarted) = tokio::join!(run, restart);
        restarted.shutdown().await;
        run
    };
    assert_eq!(run.code, 4, "{}", run.text);
    assert_eq!(run.done()["status"], "lost");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_but_healthy_server_is_never_timed_out() {
    let sim = start_sim(Duration::from_millis(1)).await;
    // A node that says nothing for three times the (scaled) dead-server limit: a silent
    // minute at the default timings, like a long model load on a real server.
    let workflow = json!({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
        "2": {"class_type": "ProbeSleep", "inputs": {"image": ["1", 0], "seconds": 6.0}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "quiet"}}
    });
    let run = run_with(
        &sim.url(),
        &workflow,
        Format::Json,
        |_| {},
        |p| p.context.liveness = fast_liveness(),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text);
    assert_eq!(run.events("output").len(), 1);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_answering_is_detected_and_exits_4() {
    let sim = start_sim(Duration::from_millis(50)).await;
    let faults = sim.faults();
    let url = sim.url();
    let workflow = txt2img(400);
    let run = run_with(
        &url,
        &workflow,
        Format::Json,
        |_| {},
        |p| p.context.liveness = fast_liveness(),
    );
    let stop = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        faults.set_stop_answering(true);
        Instant::now()
    };
    let (run, stopped_at) = tokio::join!(run, stop);
    let detected_after = stopped_at.elapsed();
    assert_eq!(run.code, 4, "{}", run.text);
    assert_eq!(run.done()["status"], "lost");
    // Scaled: 2 s dead limit, plus one probe timeout and one check interval (and room
    // for a busy machine): 30 s at the default timings.
    assert!(
        detected_after < Duration::from_secs(5),
        "detected after {detected_after:?}"
    );
    faults.set_stop_answering(false);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_file_names_all_land_inside_the_output_folder() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let hostile = Faults::sample_hostile_filenames();
    sim.faults()
        .update(|f| f.hostile_filenames = hostile.clone());
    let workflow = json!({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "h"}}
    });
    let run = run_json(&sim.url(), &workflow, |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    let outputs = run.events("output");
    assert_eq!(outputs.len(), hostile.len(), "{}", run.text);
    let out = run.out.canonicalize().expect("out dir");
    for output in &outputs {
        let path = std::path::PathBuf::from(output["path"].as_str().expect("path"));
        let path = path.canonicalize().expect("saved file exists");
        assert_eq!(path.parent(), Some(out.as_path()), "{path:?} escaped");
    }
    let files = std::fs::read_dir(&out).expect("out").count();
    assert_eq!(files, hostile.len(), "every file kept, none overwritten");
    // Nothing was written next to the output folder.
    let siblings: Vec<_> = std::fs::read_dir(run.dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(siblings.len(), 2, "{siblings:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_in_server_errors_never_reach_plain_output() {
    let sim = start_sim(Duration::from_millis(1)).await;
    sim.faults().update(|f| {
        f.escape_in_errors = true;
        f.fail_node = Some(FailNode {
            target: NodeMatch::Id("3".into()),
            at_step: 1,
        });
    });
    let run = run_with(&sim.url(), &txt2img(3), Format::Plain, |_| {}, |_| {}).await;
    assert_eq!(run.code, 1, "{}", run.text);
    assert!(
        run.text.contains("owned") || run.text.contains("error"),
        "{}",
        run.text
    );
    assert!(
        !run.text.contains('\u{1b}'),
        "an escape reached the output: {:?}",
        run.text
    );
    assert!(!run.text.contains('\u{7}'), "a bell reached the output");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_download_leaves_no_file_and_names_the_output() {
    let sim = start_sim(Duration::from_millis(1)).await;
    sim.faults().update(|f| f.view_truncate_at = Some(100));
    let run = run_json(&sim.url(), &txt2img(2), |_| {}).await;
    assert_eq!(run.code, 1, "{}", run.text);
    let failed = run.events("output_failed");
    assert_eq!(failed.len(), 4, "{}", run.text);
    assert!(
        failed
            .iter()
            .all(|f| f["filename"].as_str().is_some_and(|n| n.ends_with(".png")))
    );
    assert!(run.events("output").is_empty());
    let left: Vec<_> = std::fs::read_dir(&run.out)
        .expect("out")
        .filter_map(|e| e.ok())
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
    assert!(hidden_files(&run.out).is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_frames_do_not_stop_the_run() {
    let sim = start_sim(Duration::from_millis(1)).await;
    sim.faults().update(|f| f.malformed_frames = true);
    let run = run_json(&sim.url(), &txt2img(3), |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    assert!(
        !run.events("warning").is_empty(),
        "bad frames are reported: {}",
        run.text
    );
    assert_eq!(run.events("output").len(), 4);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_output_folder_is_reported_before_submitting() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let blocker = tempfile::NamedTempFile::new().expect("file");
    let run = run_json(&sim.url(), &txt2img(2), |a| {
        a.out = blocker.path().join("sub")
    })
    .await;
    assert_eq!(run.code, 2, "{}", run.text);
    assert!(run.text.contains("output folder"), "{}", run.text);
    assert!(sim.requests().is_empty());
    within(sim.shutdown()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_reported_unreachable_before_submitting() {
    let sim = start_sim(Duration::from_millis(1)).await;
    sim.faults().set_stop_answering(true);
    let started = Instant::now();
    let run = run_with(
        &sim.url(),
        &txt2img(2),
        Format::Json,
        |_| {},
        |p| p.context.liveness = fast_liveness(),
    )
    .await;
    assert_eq!(run.code, 4, "{}", run.text);
    assert_eq!(run.lines()[0]["event"], "not_submitted");
    // Scaled: the attempts share the 2 s dead-server budget, plus backoff.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !sim.requests().iter().any(|r| r.path.ends_with("/prompt")),
        "nothing submitted"
    );
    sim.faults().set_stop_answering(false);
    sim.shutdown().await;
}
