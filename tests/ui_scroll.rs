//! Scrolling the node list, the traceback and the log: every row can be reached with the
//! keys, during the run and after it; following is a mode of its own. One snapshot per key.

mod ui_common;

use comfy_tui::app::{Event, Key, Pane};
use comfy_tui::app::{JobEvent, JobKey};
use comfy_tui::ui::scroll::{self, View};
use std::collections::BTreeSet;
use ui_common::{Scene, render, screen_text};

const NODES: usize = 307;

/// A chain of 307 nodes, each fed by the one before (so the order is 1, 2, … 307).
fn long_workflow() -> String {
    let mut nodes = vec![
        r#""1": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}"#
            .to_owned(),
    ];
    for i in 2..=NODES {
        nodes.push(format!(
            r#""{i}": {{"class_type": "LatentUpscaleBy", "inputs": {{"samples": ["{}", 0], "scale_by": 1.0}}, "_meta": {{"title": "Step {i:03}"}}}}"#,
            i - 1
        ));
    }
    format!("{{{}}}", nodes.join(","))
}

/// The 307-node run with node `upto` running (or, with `NODES + 1`, ended).
fn long_run(upto: usize) -> Scene {
    let mut scene = Scene::with_workflow(&long_workflow());
    scene.resize(80, 24).submitted().secs(0.5);
    scene.msg(r#"{"type":"execution_start","data":{"prompt_id":"PID","timestamp":1}}"#);
    for i in 1..=upto.min(NODES) {
        scene.secs(0.1).executing(&i.to_string());
    }
    if upto > NODES {
        scene
            .secs(0.1)
            .end()
            .history("success", "execution_success");
    }
    scene
}

fn press(scene: &mut Scene, key: Key) {
    scene.send(Event::Key(key));
}

fn nodes_view(scene: &Scene) -> View {
    scroll::view(&scene.app, Pane::Nodes).expect("the node list shows")
}

/// The range the list's bottom title gives, checked against the screen itself.
fn shown(scene: &Scene, pane: Pane) -> (usize, usize) {
    let view = scroll::view(&scene.app, pane).expect("the pane shows");
    let (from, to, of) = view.position();
    let (w, h) = scene.app.ui.screen;
    let screen = screen_text(&render(&scene.app, w, h));
    let title = format!("{from}-{to} of {of}");
    assert!(screen.contains(&title), "{title} not on\n{screen}");
    (from, to)
}

/// Presses `key` until the view stops moving; returns every row seen (one-based).
fn sweep(scene: &mut Scene, pane: Pane, key: Key) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut last = None;
    for _ in 0..1000 {
        let range = shown(scene, pane);
        seen.extend(range.0..=range.1);
        if last == Some(range) {
            break;
        }
        last = Some(range);
        press(scene, key);
    }
    seen
}

fn all(n: usize) -> BTreeSet<usize> {
    (1..=n).collect()
}

#[test]
fn after_the_run_every_key_moves_the_list_and_every_row_is_reachable() {
    let mut scene = long_run(NODES + 1);
    let view = nodes_view(&scene);
    assert!(scene.app.ui.nodes.follow);
    assert_eq!(view.first, view.max_first(), "follows the last node");
    for top in [Key::Char('g'), Key::Home] {
        let mut s = long_run(NODES + 1);
        press(&mut s, top);
        assert_eq!(shown(&s, Pane::Nodes).0, 1, "{top:?}");
        assert!(!s.app.ui.nodes.follow);
    }
    for up in [Key::Char('k'), Key::Up, Key::PageUp] {
        let mut s = long_run(NODES + 1);
        let before = shown(&s, Pane::Nodes);
        assert_eq!(before.1, NODES);
        let mut seen = sweep(&mut s, Pane::Nodes, up);
        seen.extend(before.0..=before.1);
        assert_eq!(seen, all(NODES), "{up:?} from the end");
        let mut again = long_run(NODES + 1);
        press(&mut again, up);
        assert!(
            shown(&again, Pane::Nodes).0 < before.0,
            "{up:?} moved nothing"
        );
    }
    for down in [Key::Char('j'), Key::Down, Key::PageDown] {
        let mut s = long_run(NODES + 1);
        press(&mut s, Key::Char('g'));
        assert_eq!(sweep(&mut s, Pane::Nodes, down), all(NODES), "{down:?}");
    }
    for bottom in [Key::Char('G'), Key::End] {
        let mut s = long_run(NODES + 1);
        press(&mut s, Key::Char('g'));
        press(&mut s, bottom);
        assert_eq!(shown(&s, Pane::Nodes).1, NODES, "{bottom:?}");
        // And back up at once: the offset is never past the end.
        press(&mut s, Key::Char('k'));
        assert_eq!(shown(&s, Pane::Nodes).1, NODES - 1);
        press(&mut s, Key::PageUp);
        assert!(shown(&s, Pane::Nodes).1 < NODES - 1);
    }
    // `f` follows again.
    press(&mut scene, Key::Char('g'));
    press(&mut scene, Key::Char('f'));
    assert!(scene.app.ui.nodes.follow);
    assert_eq!(nodes_view(&scene).first, view.first);
}

#[test]
fn during_the_run_the_list_follows_until_a_key_and_f_brings_it_back() {
    let mut scene = long_run(150);
    let follow = nodes_view(&scene);
    assert!(follow.first > 0 && follow.first < 150, "{follow:?}");
    press(&mut scene, Key::Char('k'));
    assert_eq!(nodes_view(&scene).first, follow.first - 1);
    // New nodes run: the view stays where the user put it.
    for i in 151..=170 {
        scene.secs(0.1).executing(&i.to_string());
    }
    assert_eq!(nodes_view(&scene).first, follow.first - 1);
    assert_eq!(
        sweep(&mut scene, Pane::Nodes, Key::Char('k')).first(),
        Some(&1)
    );
    let mut down = long_run(150);
    press(&mut down, Key::Home);
    assert_eq!(sweep(&mut down, Pane::Nodes, Key::PageDown), all(NODES));
    press(&mut down, Key::Char('F'));
    let back = nodes_view(&down);
    assert!(down.app.ui.nodes.follow);
    assert_eq!(back.first, follow.first);
}

#[test]
fn snapshot_for_each_key_after_the_run() {
    let cases: [(&str, &[Key]); 9] = [
        ("g", &[Key::Char('g')]),
        ("home", &[Key::Home]),
        ("pgup", &[Key::PageUp]),
        ("k", &[Key::Char('k')]),
        ("j", &[Key::Char('g'), Key::Char('j')]),
        ("capital_g", &[Key::Char('g'), Key::Char('G')]),
        ("end", &[Key::Char('g'), Key::End]),
        ("pgdn", &[Key::Char('g'), Key::PageDown]),
        ("f", &[Key::Char('g'), Key::Char('f')]),
    ];
    for (name, keys) in cases {
        let mut scene = long_run(NODES + 1);
        for key in keys {
            press(&mut scene, *key);
        }
        insta::assert_snapshot!(
            format!("scroll_after_{name}_80x24"),
            render(&scene.app, 80, 24).backend()
        );
    }
}

#[test]
fn snapshot_for_each_key_during_the_run() {
    let cases: [(&str, &[Key]); 9] = [
        ("g", &[Key::Char('g')]),
        ("home", &[Key::Home]),
        ("pgup", &[Key::PageUp]),
        ("k", &[Key::Char('k')]),
        ("j", &[Key::Char('j')]),
        ("capital_g", &[Key::Char('G')]),
        ("end", &[Key::End]),
        ("pgdn", &[Key::PageDown]),
        ("f", &[Key::Char('g'), Key::Char('f')]),
    ];
    for (name, keys) in cases {
        let mut scene = long_run(150);
        for key in keys {
            press(&mut scene, *key);
        }
        insta::assert_snapshot!(
            format!("scroll_during_{name}_80x24"),
            render(&scene.app, 80, 24).backend()
        );
    }
}

#[test]
fn the_traceback_scrolls_both_ways_to_every_line() {
    let mut scene = Scene::new();
    scene.resize(80, 24).failed();
    assert_eq!(scroll::focused(&scene.app), Pane::Error);
    let view = scroll::view(&scene.app, Pane::Error).expect("the error shows");
    assert!(view.total > view.visible, "{view:?}");
    let all_lines = all(view.total);
    assert_eq!(sweep(&mut scene, Pane::Error, Key::Char('j')), all_lines);
    press(&mut scene, Key::Char('G'));
    assert_eq!(shown(&scene, Pane::Error).1, view.total);
    press(&mut scene, Key::Char('k'));
    assert_eq!(shown(&scene, Pane::Error).1, view.total - 1);
    insta::assert_snapshot!(
        "scroll_traceback_capital_g_k_80x24",
        render(&scene.app, 80, 24).backend()
    );
    press(&mut scene, Key::End);
    assert_eq!(sweep(&mut scene, Pane::Error, Key::PageUp), all_lines);
    press(&mut scene, Key::Home);
    assert_eq!(shown(&scene, Pane::Error).0, 1);
    // Tab gives the keys to the node list and back.
    press(&mut scene, Key::Tab);
    assert_eq!(scroll::focused(&scene.app), Pane::Nodes);
    press(&mut scene, Key::Tab);
    assert_eq!(scroll::focused(&scene.app), Pane::Error);
}

#[test]
fn the_log_scrolls_to_every_line_and_follows_the_newest_until_scrolled() {
    let mut scene = long_run(NODES + 1);
    scene.key('l');
    press(&mut scene, Key::Tab);
    assert_eq!(scroll::focused(&scene.app), Pane::Log);
    let view = scroll::view(&scene.app, Pane::Log).expect("the log shows");
    assert!(view.total > 300, "{view:?}");
    assert_eq!(view.first, view.max_first(), "the newest lines show");
    let screen = screen_text(&render(&scene.app, 80, 24));
    assert!(
        screen.contains("saved") || screen.contains("executing Step 307"),
        "{screen}"
    );
    let every = all(view.total);
    assert_eq!(sweep(&mut scene, Pane::Log, Key::PageUp), every);
    assert_eq!(shown(&scene, Pane::Log).0, 1);
    insta::assert_snapshot!("scroll_log_top_80x24", render(&scene.app, 80, 24).backend());
    assert_eq!(sweep(&mut scene, Pane::Log, Key::Char('j')), every);
    press(&mut scene, Key::Char('g'));
    // New lines do not move a log the user scrolled; `f` goes back to the newest.
    scene.send(Event::Tick);
    scene.msg(r#"{"type":"status","data":{"status":{"exec_info":{"queue_remaining":0}}}}"#);
    assert_eq!(shown(&scene, Pane::Log).0, 1);
    press(&mut scene, Key::Char('f'));
    let followed = scroll::view(&scene.app, Pane::Log).expect("the log shows");
    assert_eq!(followed.first, followed.max_first());
}

#[test]
fn demo_at_100x28_with_the_log_open_reaches_every_node() {
    let demo = include_str!("../assets/workflows/demo.json");
    let mut scene = Scene::with_workflow(demo);
    scene.resize(100, 28).submitted().secs(0.5);
    scene.msg(r#"{"type":"execution_start","data":{"prompt_id":"PID","timestamp":1}}"#);
    scene.msg(r#"{"type":"execution_cached","data":{"nodes":[],"prompt_id":"PID","timestamp":1}}"#);
    for node in [
        "4", "6", "7", "5", "3", "8", "10", "11", "12", "13", "9", "14",
    ] {
        scene.secs(0.3).executing(node);
    }
    scene.executed_image("9", "preview_00001_.png");
    scene.executed_image("14", "demo_00001_.png");
    scene
        .end()
        .secs(0.1)
        .history("success", "execution_success");
    for (node, name) in [("9", "preview_00001_.png"), ("14", "demo_00001_.png")] {
        scene.secs(0.1).send(Event::Job(
            JobKey::FIRST,
            JobEvent::Saved {
                node: node.into(),
                file: comfy_tui::comfy::FileRef {
                    media: "images".into(),
                    filename: name.into(),
                    subfolder: String::new(),
                    folder_type: "output".into(),
                },
                path: format!("out/{name}").into(),
                bytes: 1000,
            },
        ));
    }
    scene.key('l');
    let total = scene.app.job().nodes.len();
    let view = nodes_view(&scene);
    assert!(
        view.visible < total,
        "the list must scroll for this test: {view:?}"
    );
    for (start, key) in [
        (Key::Char('g'), Key::Char('j')),
        (Key::Char('G'), Key::Char('k')),
        (Key::Home, Key::PageDown),
        (Key::End, Key::PageUp),
    ] {
        press(&mut scene, start);
        assert_eq!(sweep(&mut scene, Pane::Nodes, key), all(total), "{key:?}");
    }
    // Every node's id is on screen at some point, not only counted in the title.
    press(&mut scene, Key::Char('g'));
    let mut on_screen = String::new();
    for _ in 0..total {
        on_screen.push_str(&screen_text(&render(&scene.app, 100, 28)));
        press(&mut scene, Key::Char('j'));
    }
    for node in &scene.app.job().nodes {
        let name = node.name().to_owned();
        assert!(on_screen.contains(&name), "{name} never shown");
    }
}

#[test]
fn the_wheel_scrolls_the_list_under_the_pointer() {
    let mut scene = long_run(NODES + 1);
    scene.key('l');
    let nodes = nodes_view(&scene);
    let log = scroll::view(&scene.app, Pane::Log).expect("log");
    let wheel = |scene: &mut Scene, view: &View, down: bool| {
        scene.send(Event::Wheel {
            column: view.area.x + view.area.width / 2,
            row: view.area.y + 1,
            down,
        });
    };
    wheel(&mut scene, &nodes, false);
    assert_eq!(nodes_view(&scene).first, nodes.first - scroll::WHEEL_ROWS);
    assert!(scene.app.ui.log.follow, "the log did not move");
    wheel(&mut scene, &log, false);
    assert_eq!(
        scroll::view(&scene.app, Pane::Log).map(|v| v.first),
        Some(log.first - scroll::WHEEL_ROWS)
    );
    // Over the header, nothing moves.
    let before = (scene.app.ui.nodes, scene.app.ui.log);
    scene.send(Event::Wheel {
        column: 3,
        row: 0,
        down: true,
    });
    assert_eq!((scene.app.ui.nodes, scene.app.ui.log), before);
    insta::assert_snapshot!("scroll_wheel_80x24", render(&scene.app, 80, 24).backend());
}
