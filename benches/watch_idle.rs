//! What `watch` costs while nothing happens: a server with 50 pending prompts of other
//! clients and nothing running (the simulator paused). The built binary runs in a real
//! terminal (tmux, recorded by `script`); over the measuring window this reports the CPU
//! it used (utime + stime from /proc) as a share of one core, and the bytes it wrote to
//! the terminal. Run with `cargo bench --bench watch_idle` (needs tmux and script).

use comfy_tui::sim::{SimConfig, SimHandle};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(30);
const QUEUE: usize = 50;

fn tmux(socket: &str, args: &[&str]) -> std::process::Output {
    Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .output()
        .expect("tmux")
}

/// Clock ticks of CPU (user + system) of a process.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the `)`: state is field 0, utime 11, stime 12.
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn watch_pid() -> u32 {
    let start = Instant::now();
    loop {
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if cmdline.contains("comfy-tui") && cmdline.contains("\0watch\0") {
                return pid;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "watch did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim: SimHandle = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("port");
        comfy_tui::sim::start(
            listener,
            SimConfig {
                paused: true,
                other_clients: QUEUE,
                ..SimConfig::default()
            },
        )
        .await
        .expect("sim")
    });
    let dir = tempfile::tempdir().expect("dir");
    let record = dir.path().join("terminal.out");
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/comfy-tui");
    assert!(
        bin.exists(),
        "build the release binary first: cargo build --release"
    );
    let command = format!(
        "script -q -f -c \"COMFY_TUI_STATE_DIR='{dir}/state' '{bin}' watch --server {url}\" '{record}'",
        dir = dir.path().display(),
        bin = bin.display(),
        url = sim.url(),
        record = record.display(),
    );
    let socket = format!("comfy-tui-bench-{}", std::process::id());
    let out = tmux(
        &socket,
        &[
            "new-session",
            "-d",
            "-s",
            "b",
            "-x",
            "200",
            "-y",
            "60",
            &command,
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let pid = watch_pid();
    // Settle: the first listing, stats and full draw.
    std::thread::sleep(Duration::from_secs(5));
    let screen = tmux(&socket, &["capture-pane", "-p", "-t", "b"]);
    let screen = String::from_utf8_lossy(&screen.stdout);
    assert!(
        screen.matches("pending").count() >= 20,
        "the queue is not shown:\n{screen}"
    );
    let (ticks0, bytes0, t0) = (cpu_ticks(pid), size(&record), Instant::now());
    std::thread::sleep(WINDOW);
    let (ticks1, bytes1, elapsed) = (cpu_ticks(pid), size(&record), t0.elapsed());
    let hz = 100.0; // USER_HZ on Linux
    let cpu = (ticks1 - ticks0) as f64 / hz / elapsed.as_secs_f64() * 100.0;
    let bytes = bytes1 - bytes0;
    println!(
        "watch idle, {QUEUE} pending, nothing running, 200x60: CPU {cpu:.2} % of a core over {:.0} s; terminal {:.0} B/s ({bytes} B)",
        elapsed.as_secs_f64(),
        bytes as f64 / elapsed.as_secs_f64()
    );
    let _ = tmux(&socket, &["kill-server"]);
    rt.block_on(sim.shutdown());
}
