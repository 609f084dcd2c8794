//! Large outputs report their progress while they are saved: a whole run against the
//! simulator with a slow `/view`, the runtime's events taken as the loop would take them.

mod common;

use comfy_tui::app::{self, Event};
use comfy_tui::app::{JobEvent, JobKey};
use comfy_tui::comfy::FileRef;
use comfy_tui::headless::Format;
use comfy_tui::launch::{self, Face};
use comfy_tui::runtime::DOWNLOAD_PROGRESS_EVERY;
use common::run::{args, txt2img};
use common::sim::{start_sim, within};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Seen {
    progress: Vec<(Instant, u64, Option<u64>)>,
    saved: Option<(Instant, u64)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_downloads_send_bounded_progress_with_bytes_and_size() {
    let sim = start_sim(Duration::from_millis(1)).await;
    // A few KB a second: each image takes about a second to come.
    sim.faults().update(|f| f.view_bytes_per_sec = Some(8_000));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("workflow.json");
    std::fs::write(&file, txt2img(2).to_string()).expect("write workflow");
    let out = dir.path().join("out");
    let run_args = args(&file, &sim.url(), &out, Format::Json);
    let mut prepared = launch::prepare(&run_args, Face::Headless(Format::Json)).expect("prepared");
    prepared.context.state = Some(comfy_tui::state::StateDir::at(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("state"),
    ));
    let (mut runtime, mut app) = launch::assemble(prepared, false);
    runtime.start();
    let mut seen: HashMap<FileRef, Seen> = HashMap::new();
    let mut transfers_shown = 0;
    let code = within(async {
        loop {
            for stamped in runtime.next_batch().await {
                match &stamped.event {
                    Event::Job(
                        JobKey::FIRST,
                        JobEvent::DownloadProgress { file, bytes, total },
                    ) => seen
                        .entry(file.clone())
                        .or_default()
                        .progress
                        .push((stamped.at, *bytes, *total)),
                    Event::Job(JobKey::FIRST, JobEvent::Saved { file, bytes, .. }) => {
                        seen.entry(file.clone()).or_default().saved = Some((stamped.at, *bytes));
                    }
                    _ => {}
                }
                let effects = app::update(&mut app, stamped);
                transfers_shown = transfers_shown.max(app.focused().saves.transfers.len());
                if let Some(code) = runtime.perform(effects) {
                    return code;
                }
            }
        }
    })
    .await;
    runtime.shutdown();
    assert_eq!(code, 0);
    assert_eq!(
        app.focused().saves.saved.len(),
        4,
        "{:?}",
        app.focused().saves.saved
    );
    assert!(
        app.focused().saves.transfers.is_empty(),
        "saved files leave the progress list"
    );
    assert!(
        transfers_shown > 0,
        "the app kept the progress while saving"
    );
    for (file, seen) in &seen {
        let (saved_at, size) = seen.saved.unwrap_or_else(|| panic!("{file:?} not saved"));
        // Half a second at least at this rate: room for more than one event.
        assert!(size > 4_000, "{size}");
        let (first, ..) = *seen
            .progress
            .first()
            .unwrap_or_else(|| panic!("no progress for {}", file.filename));
        // Bounded: no more than one event per interval (plus the first one).
        let span = saved_at.saturating_duration_since(first);
        let allowed = (span.as_millis() / DOWNLOAD_PROGRESS_EVERY.as_millis()) as usize + 1;
        assert!(
            seen.progress.len() <= allowed,
            "{} events in {span:?}",
            seen.progress.len()
        );
        assert!(seen.progress.len() >= 2, "{}: {:?}", file.filename, span);
        let mut last = 0;
        for &(_, bytes, total) in &seen.progress {
            assert!(
                bytes >= last && bytes <= size,
                "{bytes} after {last} of {size}"
            );
            assert_eq!(total, Some(size), "the announced size");
            last = bytes;
        }
    }
    sim.shutdown().await;
}
