//! A batch in the real terminal: the built binary in tmux against the simulator. `C` then
//! `y` cancels the whole batch, and nothing of ours is left in the server's queue.

mod common;

use comfy_tui::comfy::{ComfyClient, ServerUrl};
use common::run::txt2img;
use common::sim::{requests_to, start_sim, within};
use common::tmux::{Tmux, WAIT, tmux_available};
use std::time::{Duration, Instant};

#[test]
fn capital_c_cancels_the_whole_batch_and_leaves_nothing_of_ours_queued() {
    if !tmux_available() {
        println!("skipped: tmux is not installed");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sim = rt.block_on(start_sim(Duration::from_millis(100)));
    let dir = tempfile::tempdir().expect("dir");
    let workflow = dir.path().join("w.json");
    std::fs::write(&workflow, txt2img(200).to_string()).expect("workflow");
    let script = dir.path().join("batch.sh");
    std::fs::write(
        &script,
        format!(
            "cd '{dir}'\n\
             COMFY_TUI_STATE_DIR='{dir}/state' COMFY_TUI_GRAPHICS=halfblocks '{bin}' run '{workflow}' --server {url} --out '{dir}/out' --count 4 --no-notify\n\
             echo \"EXIT=$?\" > '{dir}/exit.tmp' && mv '{dir}/exit.tmp' '{dir}/exit'\n\
             exec sleep 600\n",
            dir = dir.path().display(),
            bin = env!("CARGO_BIN_EXE_comfy-tui"),
            workflow = workflow.display(),
            url = sim.url(),
        ),
    )
    .expect("script");
    let tmux = Tmux::new("batch");
    tmux.start(&script);
    tmux.wait_for_screen("the batch running", |s| {
        s.contains("Jobs 0/4 done") && s.contains("running")
    });
    // Every job is on the server before the cancel.
    let start = Instant::now();
    while requests_to(&sim, "POST", "/prompt").len() < 4 {
        assert!(
            start.elapsed() < WAIT,
            "not all submitted:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    tmux.keys("C");
    tmux.wait_for_screen("the question", |s| s.contains("Cancel the batch?"));
    tmux.keys("y");
    tmux.wait_for_screen("every job ended", |s| s.contains("Jobs 4/4 done"));
    let client = ComfyClient::new(
        ServerUrl::parse(&sim.url()).expect("url"),
        reqwest::header::HeaderMap::new(),
    )
    .expect("client");
    let ours: Vec<String> = requests_to(&sim, "POST", "/prompt")
        .into_iter()
        .filter_map(|r| r.body?["prompt_id"].as_str().map(str::to_owned))
        .collect();
    let queue = rt.block_on(within(client.queue_listing())).expect("queue");
    let left: Vec<_> = queue
        .running
        .iter()
        .chain(&queue.pending)
        .filter(|r| ours.contains(&r.prompt_id.to_string()))
        .collect();
    assert!(left.is_empty(), "left on the server: {left:?}");
    assert_eq!(requests_to(&sim, "POST", "/interrupt").len(), 1);
    tmux.keys("q");
    let exit = dir.path().join("exit");
    let start = Instant::now();
    while !exit.exists() {
        assert!(start.elapsed() < WAIT, "did not exit:\n{}", tmux.screen());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        std::fs::read_to_string(&exit).expect("exit").trim(),
        "EXIT=130"
    );
    rt.block_on(sim.shutdown());
}
