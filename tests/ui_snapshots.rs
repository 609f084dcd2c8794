//! Snapshots of the whole view in every phase at three sizes (insta, `TestBackend`).

mod ui_common;

use comfy_tui::app::{JobEvent, JobKey, ServerEvent, ServerKey};
use ui_common::{Scene, render};

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (60, 20)];

fn snapshot_all(name: &str, scene: &Scene) {
    for (w, h) in SIZES {
        let terminal = render(&scene.app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn connecting() {
    snapshot_all("connecting", &Scene::new());
}

#[test]
fn queued() {
    let mut scene = Scene::new();
    scene.queued();
    snapshot_all("queued", &scene);
}

#[test]
fn running_with_cached_nodes_and_a_preview() {
    let mut scene = Scene::new();
    scene.running();
    snapshot_all("running", &scene);
}

#[test]
fn execution_error() {
    let mut scene = Scene::new();
    scene.failed();
    snapshot_all("error", &scene);
}

#[test]
fn interrupted() {
    let mut scene = Scene::new();
    scene.interrupted();
    snapshot_all("interrupted", &scene);
}

#[test]
fn done_with_outputs() {
    let mut scene = Scene::new();
    scene.done();
    snapshot_all("done", &scene);
}

#[test]
fn help_open() {
    let mut scene = Scene::new();
    scene.running().key('?');
    snapshot_all("help", &scene);
}

#[test]
fn confirm_cancel_and_quit_popups() {
    let mut scene = Scene::new();
    scene.running().key('c');
    insta::assert_snapshot!("confirm_cancel_80x24", render(&scene.app, 80, 24).backend());
    scene.key('n');
    scene.key('q');
    insta::assert_snapshot!("confirm_quit_80x24", render(&scene.app, 80, 24).backend());
}

#[test]
fn log_open_and_preview_hidden() {
    let mut scene = Scene::new();
    scene.running().key('l');
    scene.key('p');
    insta::assert_snapshot!("log_no_preview_80x24", render(&scene.app, 80, 24).backend());
}

#[test]
fn too_small() {
    let mut scene = Scene::new();
    scene.running();
    for (w, h) in [(59, 20), (80, 19), (40, 10)] {
        let terminal = render(&scene.app, w, h);
        insta::assert_snapshot!(format!("too_small_{w}x{h}"), terminal.backend());
    }
}

#[test]
fn reconnecting() {
    use comfy_tui::app::Event;
    let mut scene = Scene::new();
    scene.running().secs(0.5);
    scene.send(Event::Server(
        ServerKey::FIRST,
        ServerEvent::Disconnected {
            reason: "connection reset by peer".into(),
            attempt: 3,
        },
    ));
    insta::assert_snapshot!("reconnecting_80x24", render(&scene.app, 80, 24).backend());
}

#[test]
fn rejected() {
    use comfy_tui::app::Event;
    use comfy_tui::comfy::http::{NodeError, NodeErrorItem, Rejection};
    let mut scene = Scene::new();
    scene.send(Event::Server(
        ServerKey::FIRST,
        ServerEvent::Connected { reconnect: false },
    ));
    scene.secs(0.1);
    scene.send(Event::Job(
        JobKey::FIRST,
        JobEvent::Rejected(Rejection {
            kind: "prompt_outputs_failed_validation".into(),
            message: "Prompt outputs failed validation".into(),
            details: String::new(),
            node_errors: vec![NodeError {
                node_id: "4".into(),
                class_type: "CheckpointLoaderSimple".into(),
                errors: vec![NodeErrorItem {
                    kind: "value_not_in_list".into(),
                    message: "Value not in list".into(),
                    details: "ckpt_name: 'sd15.safetensors' not in []".into(),
                    input_name: Some("ckpt_name".into()),
                }],
            }],
            http_status: 400,
        }),
    ));
    insta::assert_snapshot!("rejected_80x24", render(&scene.app, 80, 24).backend());
}

#[test]
fn a_question_shows_even_when_the_window_is_too_small() {
    let mut scene = Scene::new();
    scene.running().key('q');
    insta::assert_snapshot!("too_small_quit_50x16", render(&scene.app, 50, 16).backend());
}

#[test]
fn server_log_open() {
    use comfy_tui::app::Event;
    let mut scene = Scene::new();
    scene.running();
    scene.key('L');
    scene.send(Event::Server(
        ServerKey::FIRST,
        ServerEvent::Log(vec![
            "got prompt".into(),
            "model weight dtype torch.float16, manual cast: None".into(),
            " 45%|████▌     | 9/20 [00:01<00:01,  7.10it/s]\u{1b}[2J".into(),
        ]),
    ));
    snapshot_all("server_log", &scene);
}
