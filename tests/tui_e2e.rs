//! The real terminal: the built binary in tmux against the in-process simulator. Cancel
//! with `c` `y`, SIGTERM and a panic must all end with the terminal given back (primary
//! screen, cooked mode, no mouse reports) and the right exit code; Ctrl-Z gives it back
//! and `fg` brings the whole view back.

mod common;

use comfy_tui::sim::SimHandle;
use common::sim::{requests_to, start_sim};
use common::tmux::{Tmux, WAIT, tmux_available};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A folder with the workflow and the script the pane runs: the TUI, then its exit code
/// and the terminal modes it left behind.
struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new(sim: &SimHandle, env: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let workflow =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/workflows/txt2img.json");
        let script = format!(
            "cd '{dir}'\n\
             {env} COMFY_TUI_STATE_DIR='{dir}/state' COMFY_TUI_GRAPHICS=halfblocks '{bin}' run '{workflow}' --server {url} --out '{dir}/out'\n\
             echo \"EXIT=$?\" > '{dir}/exit.tmp' && mv '{dir}/exit.tmp' '{dir}/exit'\n\
             stty -a > '{dir}/stty' 2>&1\n\
             exec sleep 600\n",
            dir = dir.path().display(),
            bin = env!("CARGO_BIN_EXE_comfy-tui"),
            workflow = workflow.display(),
            url = sim.url(),
        );
        std::fs::write(dir.path().join("run.sh"), script).expect("script");
        Self { dir }
    }

    fn script(&self) -> PathBuf {
        self.dir.path().join("run.sh")
    }

    fn wait_exit(&self, tmux: &Tmux) -> i32 {
        let path = self.dir.path().join("exit");
        let start = Instant::now();
        while !path.exists() {
            assert!(
                start.elapsed() < WAIT,
                "the TUI did not exit; screen:\n{}",
                tmux.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // The stty line is written right after the exit code.
        std::thread::sleep(Duration::from_millis(300));
        let text = std::fs::read_to_string(&path).expect("exit file");
        text.trim()
            .strip_prefix("EXIT=")
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad exit file: {text:?}"))
    }

    /// The terminal is back in cooked mode with echo (raw mode was undone).
    fn assert_cooked(&self) {
        let stty = std::fs::read_to_string(self.dir.path().join("stty")).expect("stty output");
        let flags: Vec<&str> = stty.split_whitespace().collect();
        for flag in ["icanon", "echo", "isig"] {
            assert!(flags.contains(&flag), "{flag} not restored: {stty}");
        }
    }
}

fn assert_restored(tmux: &Tmux, run: &Run) {
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
    assert_eq!(
        tmux.display("#{mouse_any_flag}"),
        "0",
        "mouse reports left on"
    );
    run.assert_cooked();
}

/// The TUI's process: the child of the pane's shell.
fn tui_pid(tmux: &Tmux) -> u32 {
    let shell: u32 = tmux.display("#{pane_pid}").parse().expect("pane pid");
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`: comm may hold spaces, so read after the last `)`.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(shell) && stat.contains("(comfy-tui)") {
            return pid;
        }
    }
    panic!("no comfy-tui process under the pane's shell {shell}");
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The node gauge with a rate: the sampler is stepping.
fn sampling(screen: &str) -> bool {
    screen.contains("it/s") || screen.contains("s/it")
}

#[test]
fn c_then_y_interrupts_our_prompt_and_exits_130_with_the_terminal_restored() {
    if !tmux_available() {
        println!("skipped: tmux is not installed");
        return;
    }
    let rt = runtime();
    let sim = rt.block_on(start_sim(Duration::from_millis(250)));
    let tmux = Tmux::new("cancel");
    let run = Run::new(&sim, "");
    tmux.start(&run.script());
    tmux.wait_for_screen("the node gauge", sampling);
    assert_eq!(
        tmux.display("#{mouse_any_flag}"),
        "1",
        "wheel reports are on"
    );
    tmux.keys("c");
    tmux.wait_for_screen("the cancel question", |s| s.contains("Cancel the run?"));
    tmux.keys("y");
    // The view stays with the interrupted run (stopped node, last preview) until `q`.
    tmux.wait_for_screen("the interrupted run", |s| s.contains("interrupted in"));
    tmux.keys("q");
    assert_eq!(run.wait_exit(&tmux), 130, "screen:\n{}", tmux.screen());

    let submitted = requests_to(&sim, "POST", "/prompt");
    let prompt_id = submitted
        .first()
        .and_then(|r| r.body.as_ref())
        .and_then(|b| b["prompt_id"].as_str())
        .expect("the prompt was submitted with its id")
        .to_owned();
    let interrupts = requests_to(&sim, "POST", "/interrupt");
    assert!(
        interrupts.iter().any(|r| r
            .body
            .as_ref()
            .is_some_and(|b| b["prompt_id"] == prompt_id.as_str())),
        "no targeted interrupt for {prompt_id}: {interrupts:?}"
    );
    assert_restored(&tmux, &run);
    let screen = tmux.screen();
    assert!(screen.contains("comfy-tui: interrupted"), "{screen}");
    rt.block_on(sim.shutdown());
}

#[test]
fn sigterm_restores_the_terminal() {
    if !tmux_available() {
        println!("skipped: tmux is not installed");
        return;
    }
    let rt = runtime();
    let sim = rt.block_on(start_sim(Duration::from_millis(250)));
    let tmux = Tmux::new("sigterm");
    let run = Run::new(&sim, "");
    tmux.start(&run.script());
    tmux.wait_for_screen("the node gauge", sampling);
    let pid = tui_pid(&tmux);
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    // SIGTERM cancels our prompt (nothing left running unwatched), then leaves.
    assert_eq!(run.wait_exit(&tmux), 130);
    assert_restored(&tmux, &run);
    let screen = tmux.screen();
    assert!(screen.contains("comfy-tui: interrupted"), "{screen}");
    assert_eq!(requests_to(&sim, "POST", "/interrupt").len(), 1);
    rt.block_on(sim.shutdown());
}

#[test]
fn a_panic_restores_the_terminal_and_shows_the_message() {
    if !tmux_available() {
        println!("skipped: tmux is not installed");
        return;
    }
    let rt = runtime();
    let sim = rt.block_on(start_sim(Duration::from_millis(250)));
    let tmux = Tmux::new("panic");
    // No backtrace: the message must stay on the 30-line screen.
    let run = Run::new(
        &sim,
        &format!("RUST_BACKTRACE=0 {}=1", comfy_tui::tui::PANIC_ENV),
    );
    tmux.start(&run.script());
    assert_eq!(run.wait_exit(&tmux), 101, "screen:\n{}", tmux.screen());
    assert_restored(&tmux, &run);
    let screen = tmux.screen();
    assert!(
        screen.contains("panicking after the first frame"),
        "{screen}"
    );
    rt.block_on(sim.shutdown());
}

/// The state letter of a process (`T`: stopped), from `/proc`.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

fn wait_until(what: &str, tmux: &Tmux, pred: impl Fn() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(
            start.elapsed() < WAIT,
            "timed out waiting for {what}; screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn ctrl_z_gives_the_terminal_back_and_fg_brings_the_view_back() {
    if !tmux_available() || !Path::new("/bin/bash").exists() {
        println!("skipped: tmux or bash is not installed");
        return;
    }
    let rt = runtime();
    let sim = rt.block_on(start_sim(Duration::from_millis(250)));
    let tmux = Tmux::new("suspend");
    let dir = tempfile::tempdir().expect("temp dir");
    // A shell with job control, as a user has: Ctrl-Z and `fg` are its business.
    let rc = dir.path().join("rc");
    std::fs::write(&rc, "PS1='$ '\n").expect("rc");
    let shell = format!("bash --noprofile --rcfile '{}' -i", rc.display());
    let out = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "100",
        "-y",
        "30",
        &shell,
    ]);
    assert!(out.status.success(), "tmux: {out:?}");
    let workflow = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/workflows/txt2img.json");
    let command = format!(
        "COMFY_TUI_STATE_DIR='{dir}/state' COMFY_TUI_GRAPHICS=halfblocks '{bin}' run '{workflow}' --server {url} --out '{dir}/out' --no-notify",
        bin = env!("CARGO_BIN_EXE_comfy-tui"),
        workflow = workflow.display(),
        url = sim.url(),
        dir = dir.path().display(),
    );
    tmux.wait_for_screen("the prompt", |s| s.contains('$'));
    tmux.run(&["send-keys", "-t", "e2e", "-l", &command]);
    tmux.keys("Enter");
    tmux.wait_for_screen("the node gauge", sampling);
    assert_eq!(tmux.display("#{alternate_on}"), "1");
    assert_eq!(
        tmux.display("#{mouse_any_flag}"),
        "1",
        "wheel reports are on"
    );
    let pid = tui_pid(&tmux);

    tmux.keys("C-z");
    wait_until("the process to stop", &tmux, || {
        process_state(pid) == Some('T')
    });
    wait_until("the primary screen", &tmux, || {
        tmux.display("#{alternate_on}") == "0"
    });
    assert_eq!(
        tmux.display("#{mouse_any_flag}"),
        "0",
        "mouse reports left on"
    );
    tmux.wait_for_screen("the shell's stopped-job line", |s| s.contains("Stopped"));

    tmux.run(&["send-keys", "-t", "e2e", "-l", "fg"]);
    tmux.keys("Enter");
    wait_until("the view again", &tmux, || {
        tmux.display("#{alternate_on}") == "1"
    });
    // Everything is drawn again, not only what changed while away.
    let screen = tmux.wait_for_screen("the whole view", |s| {
        s.contains("Nodes") && s.contains("q quit") && s.contains("comfy-tui")
    });
    assert!(!screen.contains("Stopped"), "{screen}");
    assert_eq!(tmux.display("#{mouse_any_flag}"), "1");
    tmux.wait_for_screen("the end of the run", |s| s.contains("run ended"));
    tmux.keys("q");
    wait_until("the exit", &tmux, || process_state(pid).is_none());
    wait_until("the primary screen", &tmux, || {
        tmux.display("#{alternate_on}") == "0"
    });
    assert_eq!(tmux.display("#{mouse_any_flag}"), "0");
    let screen = tmux.wait_for_screen("the summary", |s| s.contains("comfy-tui: done"));
    assert!(screen.contains("saved"), "{screen}");
    rt.block_on(sim.shutdown());
}
