//! The graph gauge's ETA learned from earlier runs of the same shape: shown from the
//! first moment of the run when the shape is known, absent when it is not.

mod ui_common;

use comfy_tui::comfy::NodeId;
use comfy_tui::job::Expected;
use std::collections::HashMap;
use std::time::Duration;
use ui_common::{Scene, render, screen_text};

fn graph_row(scene: &Scene, width: u16, height: u16) -> String {
    let screen = screen_text(&render(&scene.app, width, height));
    screen
        .lines()
        .find(|l| l.contains("graph"))
        .unwrap_or_else(|| panic!("no graph row:\n{screen}"))
        .to_owned()
}

fn learned() -> Expected {
    Expected::new(HashMap::from([
        // Cached in this run: counts nothing.
        (NodeId::from("4"), Duration::from_secs(5)),
        (NodeId::from("3"), Duration::from_secs(10)),
        (NodeId::from("8"), Duration::from_secs(2)),
        (NodeId::from("9"), Duration::from_secs(1)),
    ]))
}

#[test]
fn a_known_shape_shows_the_time_left_on_the_graph_gauge() {
    let mut scene = Scene::new();
    scene.app.session.jobs[0].job.expected = Some(learned());
    scene.running();
    // The sampler is at 12/20 of its 10 s: 4 s left, then 2 s and 1 s.
    for (w, h) in [(80, 24), (120, 40), (60, 20)] {
        let row = graph_row(&scene, w, h);
        assert!(row.contains("ETA 0:07"), "{w}x{h}: {row}");
    }
    // Two more seconds of steps: the sampler at 20/20, decoding and saving left.
    for step in 13..=20 {
        scene.secs(0.25).progress("3", step, 20);
    }
    assert!(graph_row(&scene, 80, 24).contains("ETA 0:03"));
}

#[test]
fn the_eta_is_there_from_the_first_second() {
    let mut scene = Scene::new();
    scene.app.session.jobs[0].job.expected = Some(learned());
    scene.submitted().secs(0.5);
    scene.msg(r#"{"type":"execution_start","data":{"prompt_id":"PID","timestamp":1}}"#);
    // Nothing has run yet: every node is still to come.
    let row = graph_row(&scene, 80, 24);
    assert!(row.contains("ETA 0:18"), "{row}");
}

#[test]
fn an_unknown_shape_shows_no_graph_eta() {
    let mut scene = Scene::new();
    scene.running();
    let row = graph_row(&scene, 80, 24);
    assert!(!row.contains("ETA"), "{row}");
    assert!(scene.app.job().expected_total().is_none());
}

#[test]
fn the_event_log_and_plain_lines_say_what_earlier_runs_took() {
    let mut scene = Scene::new();
    let report = comfy_tui::app::Report::Started;
    assert_eq!(
        comfy_tui::ui::log::describe(&report, scene.app.job()),
        "execution started"
    );
    scene.app.session.jobs[0].job.expected = Some(learned());
    assert_eq!(
        comfy_tui::ui::log::describe(&report, scene.app.job()),
        "execution started (about 18.0s by earlier runs)"
    );
}
