//! The cockpit in a real terminal: the built binary in tmux against a busy simulator
//! (other clients' long prompts). Each key that acts on the server is answered, after its
//! question, by the request it names, and only that one; `q` gives the terminal back.

mod common;

use comfy_tui::comfy::listing::QueueListing;
use comfy_tui::comfy::{ComfyClient, ServerUrl};
use comfy_tui::sim::{SimConfig, SimHandle};
use common::sim::{requests_to, start_sim_with, within};
use common::tmux::{Tmux, WAIT, tmux_available};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn script(sim: &SimHandle, dir: &std::path::Path) -> PathBuf {
    let text = format!(
        "cd '{dir}'\n\
         COMFY_TUI_STATE_DIR='{dir}/state' '{bin}' watch --server {url} --out '{dir}/out'\n\
         echo \"EXIT=$?\" > '{dir}/exit.tmp' && mv '{dir}/exit.tmp' '{dir}/exit'\n\
         exec sleep 600\n",
        dir = dir.display(),
        bin = env!("CARGO_BIN_EXE_comfy-tui"),
        url = sim.url(),
    );
    let path = dir.join("watch.sh");
    std::fs::write(&path, text).expect("script");
    path
}

/// The line the script writes once `watch` has exited (waited for, bounded).
fn exit_line(dir: &std::path::Path, tmux: &Tmux) -> String {
    let exit = dir.join("exit");
    let start = Instant::now();
    while !exit.exists() {
        assert!(
            start.elapsed() < WAIT,
            "watch did not exit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&exit)
        .expect("exit")
        .trim()
        .to_owned()
}

fn listing(rt: &tokio::runtime::Runtime, sim: &SimHandle) -> QueueListing {
    let client = ComfyClient::new(
        ServerUrl::parse(&sim.url()).expect("url"),
        reqwest::header::HeaderMap::new(),
    )
    .expect("client");
    rt.block_on(within(client.queue_listing())).expect("queue")
}

/// Waits until the simulator has seen a request matching `pred`.
fn wait_request(
    sim: &SimHandle,
    tmux: &Tmux,
    method: &str,
    route: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        if let Some(body) = requests_to(sim, method, route)
            .into_iter()
            .filter_map(|r| r.body)
            .find(|b| pred(b))
        {
            return body;
        }
        assert!(
            start.elapsed() < WAIT,
            "no {method} {route} as expected; screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_cockpit_deletes_interrupts_moves_frees_and_reruns_each_after_its_question() {
    if !tmux_available() {
        println!("skipped: tmux is not installed");
        return;
    }
    let rt = runtime();
    let sim = rt.block_on(start_sim_with(SimConfig {
        step_delay: Duration::from_millis(20),
        other_clients: 4,
        ..SimConfig::default()
    }));
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::new("watch");
    tmux.start(&script(&sim, dir.path()));
    tmux.wait_for_screen("the jobs table", |s| {
        s.contains("Jobs") && s.matches("pending").count() >= 3
    });
    let queue = listing(&rt, &sim);
    assert_eq!(queue.running.len(), 1, "{queue:?}");
    let running = queue.running[0].prompt_id.to_string();
    let first_pending = queue.pending[0].prompt_id.to_string();

    // Row 1 is the first pending job: `d`, `y` deletes only it.
    tmux.keys("g");
    tmux.keys("j");
    tmux.keys("d");
    tmux.wait_for_screen("the delete question", |s| s.contains("from the queue?"));
    tmux.keys("y");
    let delete = wait_request(&sim, &tmux, "POST", "/queue", |b| b.get("delete").is_some());
    assert_eq!(delete["delete"], serde_json::json!([first_pending]));

    // `f` on a pending job: deleted, then the same prompt again in front.
    tmux.wait_for_screen("the answer", |s| s.contains("removed prompt"));
    let second_pending = listing(&rt, &sim).pending[0].clone();
    tmux.keys("g");
    tmux.keys("j");
    tmux.keys("f");
    let front = wait_request(&sim, &tmux, "POST", "/prompt", |b| b["front"] == true);
    assert_eq!(
        front["prompt"],
        Value::Object(second_pending.prompt.clone())
    );
    assert_eq!(
        front["extra_data"]["client_id"],
        second_pending.extra_data["client_id"]
    );
    assert_ne!(front["prompt_id"], second_pending.prompt_id.as_str());
    tmux.wait_for_screen("the new id in the footer", |s| {
        s.contains("to the front as")
    });

    // The running job: `i`, `n` sends nothing; `i`, `y` the targeted interrupt.
    tmux.keys("g");
    tmux.keys("i");
    tmux.wait_for_screen("the interrupt question", |s| s.contains("Interrupt prompt"));
    tmux.keys("n");
    tmux.keys("i");
    tmux.wait_for_screen("the interrupt question", |s| s.contains("Interrupt prompt"));
    tmux.keys("y");
    let interrupt = wait_request(&sim, &tmux, "POST", "/interrupt", |_| true);
    assert_eq!(interrupt["prompt_id"], running.as_str());
    assert_eq!(requests_to(&sim, "POST", "/interrupt").len(), 1);

    // `F`, `y` frees memory.
    tmux.keys("F");
    tmux.wait_for_screen("the free question", |s| s.contains("Free the server"));
    tmux.keys("y");
    let free = wait_request(&sim, &tmux, "POST", "/free", |_| true);
    assert_eq!(free["unload_models"], true);
    assert_eq!(free["free_memory"], true);

    // The interrupted job is in the history now: `r` submits it again.
    tmux.wait_for_screen("the interrupted job", |s| s.contains("interrupted"));
    tmux.keys("G");
    let submitted_before = requests_to(&sim, "POST", "/prompt").len();
    tmux.keys("r");
    let start = Instant::now();
    while requests_to(&sim, "POST", "/prompt").len() == submitted_before {
        assert!(
            start.elapsed() < WAIT,
            "no re-run; screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.wait_for_screen("the re-run's answer", |s| s.contains("again as"));

    tmux.keys("q");
    assert_eq!(exit_line(dir.path(), &tmux), "EXIT=0");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
    rt.block_on(sim.shutdown());
}

#[test]
fn enter_follows_the_running_job_live_and_leaving_it_running_comes_back_to_the_cockpit() {
    if !tmux_available() {
        println!("skipped: tmux is not installed");
        return;
    }
    let rt = runtime();
    let sim = rt.block_on(start_sim_with(SimConfig {
        step_delay: Duration::from_millis(50),
        other_clients: 2,
        ..SimConfig::default()
    }));
    let dir = tempfile::tempdir().expect("temp dir");
    let tmux = Tmux::new("watch-follow");
    tmux.start(&script(&sim, dir.path()));
    tmux.wait_for_screen("the running job", |s| s.contains("running"));
    tmux.keys("g");
    tmux.keys("Enter");
    // The live view of `run`, for a prompt of another client, under its client id.
    tmux.wait_for_screen("the live view stepping", |s| {
        s.contains("it/s") || s.contains("s/it")
    });
    tmux.keys("q");
    tmux.wait_for_screen("the quit question", |s| s.contains("Quit?"));
    tmux.keys("l");
    tmux.wait_for_screen("the cockpit again", |s| {
        s.contains("Jobs") && s.contains("back from prompt")
    });
    assert!(
        requests_to(&sim, "POST", "/interrupt").is_empty(),
        "leaving it running stops nothing"
    );
    tmux.keys("q");
    assert_eq!(exit_line(dir.path(), &tmux), "EXIT=0");
    rt.block_on(sim.shutdown());
}
