//! View checks beyond the snapshots: the help lists every key, hostile server text never
//! reaches the screen, scrolling is clamped, the title and the summary say the right thing.

mod ui_common;

use comfy_tui::app::keymap::KEYMAP;
use comfy_tui::app::{Event, Key};
use comfy_tui::app::{JobEvent, JobKey};
use comfy_tui::ui;
use ui_common::{Scene, render, screen_text};

#[test]
fn the_help_popup_lists_every_action_of_the_keymap() {
    for (w, h) in [(80, 24), (120, 40), (60, 20)] {
        let mut scene = Scene::new();
        scene.running().key('?');
        let screen = screen_text(&render(&scene.app, w, h));
        // The batch keys show only in a batch.
        for binding in KEYMAP
            .iter()
            .filter(|b| !comfy_tui::app::keymap::batch_only(b.action))
        {
            assert!(
                screen.contains(binding.label),
                "{:?} ({}) missing at {w}x{h}:\n{screen}",
                binding.action,
                binding.label
            );
            let first_words: String = binding
                .help
                .split(' ')
                .take(3)
                .collect::<Vec<_>>()
                .join(" ");
            assert!(
                screen.contains(&first_words),
                "help for {:?} missing at {w}x{h}",
                binding.action
            );
        }
    }
}

#[test]
fn the_markdown_key_table_has_every_binding() {
    let table = ui::help::markdown_key_table();
    assert!(table.starts_with("| Key | Action |"));
    for binding in KEYMAP {
        assert!(table.contains(binding.help), "{:?}", binding.action);
    }
    assert!(table.contains("`Ctrl-C`"));
}

#[test]
fn footer_hints_come_from_the_keymap() {
    let mut scene = Scene::new();
    scene.running();
    let following = screen_text(&render(&scene.app, 80, 24));
    assert!(!following.contains("f follow"), "{following}");
    // Scrolling stops following: from then on the footer offers `f`.
    scene.key('k');
    let screen = screen_text(&render(&scene.app, 80, 24));
    let footer = screen.lines().last().expect("footer");
    for binding in KEYMAP.iter().filter(|b| b.in_footer) {
        assert!(
            footer.contains(&format!("{} {}", binding.label, binding.hint)),
            "{footer}"
        );
    }
}

const HOSTILE_TITLE: &str = "Evil\x1b]0;owned\x07Node\x1b[2J";

#[test]
fn server_text_is_sanitized_everywhere_it_shows() {
    let mut scene = Scene::new();
    scene.running();
    // A custom node's hostile message, class and traceback.
    scene.msg(&format!(
        r#"{{"type":"execution_error","data":{{"prompt_id":"PID","node_id":"3","node_type":{t},"executed":[],"exception_message":{t},"exception_type":{t},"traceback":[{t}],"current_inputs":{{}},"current_outputs":{{}},"timestamp":2}}}}"#,
        t = serde_json::to_string(HOSTILE_TITLE).expect("json")
    ));
    scene.end();
    scene.key('l');
    for (w, h) in [(80, 24), (120, 40)] {
        let terminal = render(&scene.app, w, h);
        let buffer = terminal.backend().buffer();
        for cell in buffer.content() {
            assert!(
                !cell.symbol().chars().any(|c| c.is_control()),
                "control character on screen at {w}x{h}"
            );
        }
        let screen = screen_text(&terminal);
        assert!(screen.contains("EvilNode"), "{screen}");
        assert!(!screen.contains("owned"), "{screen}");
    }
    let summary = ui::summary::summary(&scene.app);
    assert!(!summary.contains('\x1b'));
    assert!(summary.contains("EvilNode"), "{summary}");
}

#[test]
fn scrolling_past_the_end_is_clamped() {
    let mut scene = Scene::new();
    scene.failed();
    scene.send(Event::Key(Key::End));
    let screen = screen_text(&render(&scene.app, 80, 24));
    // The last traceback line is on screen and the panel is not empty.
    assert!(screen.contains("negative)"), "{screen}");
    scene.send(Event::Key(Key::Home));
    let screen = screen_text(&render(&scene.app, 80, 24));
    assert!(screen.contains("torch.OutOfMemoryError"), "{screen}");
}

#[test]
fn the_title_shows_progress_and_the_outcome() {
    let mut scene = Scene::new();
    assert_eq!(
        ui::title::terminal_title(&scene.app),
        "[connecting] — comfy-tui"
    );
    scene.running();
    assert_eq!(
        ui::title::terminal_title(&scene.app),
        "[65%] KSampler — comfy-tui"
    );
    let mut done = Scene::new();
    done.done();
    assert_eq!(ui::title::terminal_title(&done.app), "[done] — comfy-tui");
    assert_eq!(
        ui::title::notification(&done.app).as_deref(),
        Some("comfy-tui: run done, 2 saved")
    );
}

#[test]
fn the_summary_tells_the_outcome_times_and_files() {
    let mut scene = Scene::new();
    scene.done();
    let summary = ui::summary::summary(&scene.app);
    assert!(
        summary.starts_with("comfy-tui: done in 6.1s (prompt 5f0c6a62-"),
        "{summary}"
    );
    assert!(summary.contains("7/7 done (3 cached)"), "{summary}");
    assert!(summary.contains("KSampler"), "{summary}");
    assert!(
        summary.contains("saved comfy-out/ComfyUI_00001_.png (402.7 KiB)"),
        "{summary}"
    );

    let mut failed = Scene::new();
    failed.failed();
    let summary = ui::summary::summary(&failed.app);
    assert!(
        summary.contains("error: torch.OutOfMemoryError: CUDA out of memory"),
        "{summary}"
    );
}

#[test]
fn a_long_graph_follows_the_running_node_until_the_user_scrolls() {
    let mut scene = Scene::new();
    scene.running();
    // 60×20 leaves room for few rows once the log is open.
    scene.key('l');
    let screen = screen_text(&render(&scene.app, 60, 20));
    assert!(screen.contains("KSampler"), "{screen}");
}

#[test]
fn cancel_then_quit_leaves_once_the_interrupt_is_confirmed_but_c_y_stays() {
    use comfy_tui::app::Effect;
    let mut quitting = Scene::new();
    quitting.running().key('q');
    quitting.key('c');
    quitting.msg(r#"{"type":"execution_interrupted","data":{"prompt_id":"PID","node_id":"3","node_type":"KSampler","executed":[],"timestamp":3}}"#);
    quitting.end();
    let effects = quitting.send(Event::Job(JobKey::FIRST, JobEvent::History(None)));
    assert_eq!(effects, vec![Effect::Exit(130)]);

    // `c` `y` only cancels: the view stays with the interrupted run until `q`.
    let mut staying = Scene::new();
    staying.interrupted();
    assert!(staying.app.is_settled());
    assert!(staying.send(Event::Tick).is_empty());
    assert_eq!(staying.key('q'), vec![Effect::Exit(130)]);
}

#[test]
fn q_after_the_run_waits_for_the_saves_and_a_second_q_leaves_now() {
    use comfy_tui::app::Effect;
    let mut scene = Scene::new();
    scene.running();
    for step in 13..=20 {
        scene.secs(0.25).progress("3", step, 20);
    }
    scene.executing("9").executed_image("9", "a.png").end();
    // The download and the history are outstanding.
    assert!(!scene.app.is_settled());
    assert!(scene.key('q').is_empty());
    let screen = screen_text(&render(&scene.app, 80, 24));
    assert!(screen.contains("finishing, then quitting"), "{screen}");
    // Leaving now loses the file being written: the run says so.
    assert_eq!(
        scene.key('q'),
        vec![Effect::Exit(comfy_tui::exit::EXECUTION_ERROR)]
    );
    assert_eq!(scene.app.status(), "incomplete");
    assert!(
        comfy_tui::ui::summary::summary(&scene.app).contains("not saved a.png"),
        "{}",
        comfy_tui::ui::summary::summary(&scene.app)
    );

    let mut patient = Scene::new();
    patient.running();
    patient.executing("9").executed_image("9", "a.png").end();
    patient.key('q');
    patient.history("success", "execution_success");
    let effects = patient.send(Event::Job(
        JobKey::FIRST,
        JobEvent::Saved {
            node: "9".into(),
            file: comfy_tui::comfy::FileRef {
                media: "images".into(),
                filename: "a.png".into(),
                subfolder: String::new(),
                folder_type: "output".into(),
            },
            path: "out/a.png".into(),
            bytes: 1,
        },
    ));
    assert_eq!(effects, vec![Effect::Exit(0)]);
}

#[test]
fn popups_leave_the_half_block_preview_on_screen() {
    let mut scene = Scene::new();
    scene.running();
    let bare = screen_text(&render(&scene.app, 80, 24));
    let blocks = |screen: &str| screen.matches('▄').count();
    assert!(blocks(&bare) > 100, "{bare}");
    for keys in ["c", "q", "?"] {
        let mut open = Scene::new();
        open.running();
        for key in keys.chars() {
            open.key(key);
        }
        let screen = screen_text(&render(&open.app, 80, 24));
        assert!(open.app.ui.popup.is_some(), "{keys}");
        // The popup covers part of the picture; the rest stays.
        let left = blocks(&screen);
        assert!(left > 0 && left < blocks(&bare), "{keys}: {left}\n{screen}");
    }
}

#[test]
fn the_summary_leaves_out_nodes_that_took_no_time() {
    let mut scene = Scene::new();
    scene.submitted().secs(1.0);
    scene.msg(r#"{"type":"execution_start","data":{"prompt_id":"PID","timestamp":1}}"#);
    // The latent and the decoder take no measurable time; the sampler takes 2 s.
    scene.executing("5").executing("3").secs(2.0).executing("8");
    scene.executing("9").secs(0.3).end();
    let summary = ui::summary::summary(&scene.app);
    assert!(summary.contains("KSampler"), "{summary}");
    assert!(summary.contains("Save Image"), "{summary}");
    assert!(!summary.contains("0.0s"), "{summary}");
    assert!(!summary.contains("Empty Latent Image"), "{summary}");
}

#[test]
fn the_outputs_panel_shows_bytes_and_rate_while_a_file_is_saved() {
    let mut scene = Scene::new();
    scene.running();
    scene.executing("9").executed_image("9", "big_00001_.png");
    let file = comfy_tui::comfy::FileRef {
        media: "images".into(),
        filename: "big_00001_.png".into(),
        subfolder: String::new(),
        folder_type: "output".into(),
    };
    let progress = |bytes| {
        Event::Job(
            JobKey::FIRST,
            JobEvent::DownloadProgress {
                file: file.clone(),
                bytes,
                total: Some(8 * 1024 * 1024),
            },
        )
    };
    scene.send(progress(1024 * 1024));
    scene.secs(1.0).send(progress(3 * 1024 * 1024));
    let screen = screen_text(&render(&scene.app, 80, 24));
    assert!(
        screen.contains("big_00001_.png  3.0 MiB of 8.0 MiB (37%) · 2.0 MiB/s"),
        "{screen}"
    );
    insta::assert_snapshot!(
        "download_progress_80x24",
        render(&scene.app, 80, 24).backend()
    );
}
