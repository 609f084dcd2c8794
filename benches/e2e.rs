//! End-to-end figures that users feel, measured against the built-in simulator on
//! loopback with the release binary. Every scenario is bounded and stops by itself.
//!
//! `cargo bench --bench e2e` runs them all; `cargo bench --bench e2e -- NAME…` runs some
//! (flood, tui_flood, startup, memory, huge_text, download, idle, traffic, sweep). Scenarios that need a terminal run
//! the TUI inside tmux and are skipped when tmux is missing.

use comfy_tui::comfy::http::ComfyClient;
use comfy_tui::comfy::{FileRef, ServerUrl};
use comfy_tui::sim::{self, SimConfig, SimHandle};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_comfy-tui");

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!("comfy-tui end-to-end benchmarks (release binary, simulator on 127.0.0.1)");
    if run("flood") {
        rt.block_on(flood());
    }
    if run("tui_flood") {
        rt.block_on(tui_flood());
    }
    if run("startup") {
        rt.block_on(startup());
    }
    if run("memory") {
        rt.block_on(memory());
    }
    if run("huge_text") {
        rt.block_on(huge_text());
    }
    if run("download") {
        rt.block_on(download());
    }
    if run("idle") {
        rt.block_on(idle());
    }
    if run("traffic") {
        rt.block_on(traffic());
    }
    if run("sweep") {
        rt.block_on(sweep());
    }
}

/// Figure 13: a 1,000-job sweep of a small graph (one step, one saved image each) against
/// a simulator with no step delay: submission rate, end-to-end time, the client's peak
/// RSS and CPU.
async fn sweep() {
    let sim = start_sim(Duration::ZERO).await;
    let dir = tempfile::tempdir().expect("dir");
    let graph = json!({
        "1": {"class_type": "ProbeSteps", "inputs": {"steps": 1, "step_seconds": 0.0, "seed": 0,
              "fail_at_step": 0, "width": 64, "height": 64, "send_previews": false}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "sweep"}}
    });
    let workflow = write_workflow(dir.path(), "sweep.json", &graph);
    let url = sim.url();
    let out = dir.path().join("out");
    let result = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let mut child = Command::new(BIN)
            .args([
                "run",
                workflow.to_str().expect("utf-8"),
                "--json",
                "--server",
                &url,
                "--sweep",
                "1.seed=0..999",
                "--out",
            ])
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let (mut first, mut last, mut submitted, mut finished) = (None, None, 0u64, 0u64);
        let mut status = String::new();
        for line in BufReader::new(stdout).lines() {
            let value: Value = serde_json::from_str(&line.expect("line")).expect("json");
            match value["event"].as_str() {
                Some("submitted") => {
                    submitted += 1;
                    first = first.or(Some(Instant::now()));
                    last = Some(Instant::now());
                }
                Some("job_done") => finished += 1,
                Some("done") => {
                    status = value["status"].as_str().unwrap_or_default().to_owned();
                    break;
                }
                _ => {}
            }
        }
        let elapsed = start.elapsed();
        let exit = child.wait().expect("wait");
        let (maxrss, cpu) = children_rss_and_cpu();
        (
            elapsed,
            first.zip(last).map(|(a, b)| b - a),
            submitted,
            finished,
            status,
            exit,
            maxrss,
            cpu,
        )
    })
    .await
    .expect("sweep");
    let (elapsed, submitting, submitted, finished, status, exit, maxrss, cpu) = result;
    let rate = submitting.map_or(0.0, |d| submitted as f64 / d.as_secs_f64().max(1e-9));
    println!(
        "sweep: {submitted} jobs submitted at {rate:.0} jobs/s, {finished} job_done lines, {status} ({exit}); end to end {:.2} s; client peak RSS {:.1} MB, CPU {:.2} s ({:.0} % of a core)",
        elapsed.as_secs_f64(),
        maxrss as f64 / 1024.0,
        cpu.as_secs_f64(),
        cpu.as_secs_f64() / elapsed.as_secs_f64() * 100.0
    );
    sim.shutdown().await;
}

/// The children's peak RSS (KiB) and their CPU time, user and system.
fn children_rss_and_cpu() -> (i64, Duration) {
    // SAFETY: getrusage only writes into the struct we pass.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (usage.ru_maxrss, time(usage.ru_utime) + time(usage.ru_stime))
}

async fn start_sim(step_delay: Duration) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    sim::start(
        listener,
        SimConfig {
            step_delay,
            ..SimConfig::default()
        },
    )
    .await
    .expect("simulator")
}

fn write_workflow(dir: &Path, name: &str, workflow: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, workflow.to_string()).expect("write workflow");
    path
}

fn probe_steps(steps: u64) -> Value {
    json!({
        "1": {"class_type": "ProbeSteps", "inputs": {"steps": steps, "step_seconds": 0.0, "seed": 1,
              "width": 64, "height": 64, "fail_at_step": 0, "send_previews": false}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "flood"}}
    })
}

fn sleeper(seconds: f64) -> Value {
    json!({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
        "2": {"class_type": "ProbeSleep", "inputs": {"image": ["1", 0], "seconds": seconds}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "idle"}}
    })
}

/// Figure 3: The simulator floods 100,000 progress events for one node; time from the first
/// event to the `done` line of a headless run.
async fn flood() {
    let sim = start_sim(Duration::ZERO).await;
    let dir = tempfile::tempdir().expect("dir");
    let workflow = write_workflow(dir.path(), "flood.json", &probe_steps(100_000));
    let url = sim.url();
    let out = dir.path().join("out");
    let result = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BIN)
            .args([
                "run",
                workflow.to_str().expect("utf-8"),
                "--json",
                "--server",
                &url,
                "--out",
            ])
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let mut first_event = None;
        let mut printed = 0u64;
        let mut last_value = 0.0;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            let value: Value = serde_json::from_str(&line).expect("json");
            match value["event"].as_str() {
                Some("started") => first_event = first_event.or(Some(Instant::now())),
                Some("progress") => {
                    printed += 1;
                    last_value = value["value"].as_f64().unwrap_or(0.0);
                }
                Some("done") => break,
                _ => {}
            }
        }
        let done = Instant::now();
        let status = child.wait().expect("wait");
        let maxrss = children_max_rss_kib();
        (
            first_event.map(|t| done - t),
            printed,
            last_value,
            status.code(),
            maxrss,
        )
    })
    .await
    .expect("flood task");
    let (elapsed, printed, last_value, code, maxrss) = result;
    let elapsed = elapsed.expect("a started event");
    println!(
        "flood: 100000 progress events absorbed in {:.3} s ({:.0} events/s); {} progress lines printed (throttled), last value {}; exit {:?}; client peak RSS {:.1} MB",
        elapsed.as_secs_f64(),
        100_000.0 / elapsed.as_secs_f64(),
        printed,
        last_value,
        code,
        maxrss as f64 / 1024.0
    );
    sim.shutdown().await;
}

/// Counts the frames the TUI loop draws, rendering each into a `TestBackend`.
struct CountingScreen {
    terminal: ratatui::Terminal<ratatui::backend::TestBackend>,
    draws: Vec<Instant>,
    /// The text of the last frame drawn.
    last_frame: String,
}

impl comfy_tui::tui::Screen for CountingScreen {
    fn size(&self) -> std::io::Result<ratatui::layout::Rect> {
        Ok(ratatui::layout::Rect::new(0, 0, 120, 40))
    }

    fn draw(
        &mut self,
        app: &comfy_tui::app::App,
        preview: &comfy_tui::ui::PreviewState,
    ) -> std::io::Result<()> {
        self.draws.push(Instant::now());
        self.terminal
            .draw(|frame| comfy_tui::ui::render(frame, app, preview))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let buffer = self.terminal.backend().buffer();
        let area = buffer.area;
        self.last_frame = (area.top()..area.bottom())
            .map(|y| {
                (area.left()..area.right())
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n");
        Ok(())
    }

    fn set_title(&mut self, _: &str) -> std::io::Result<()> {
        Ok(())
    }

    fn notify(&mut self, _: &str) -> std::io::Result<()> {
        Ok(())
    }

    fn suspend(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        // A test backend writes no bytes; this figure counts frames, not bytes.
        0
    }
}

/// `comfy-tui run ARGS…` parsed as the binary parses it.
fn run_args(args: &[&std::ffi::OsStr]) -> comfy_tui::cli::RunArgs {
    use clap::Parser;
    let argv = ["comfy-tui".as_ref(), "run".as_ref()]
        .into_iter()
        .chain(args.iter().copied());
    match comfy_tui::cli::Cli::try_parse_from(argv)
        .expect("valid arguments")
        .command
    {
        comfy_tui::cli::Command::Run(args) => args,
        _ => unreachable!("a run command"),
    }
}

/// Figure 4: the TUI loop under the same flood, in-process: frames per second drawn, and
/// whether the screen shows the final value within one frame of the last event.
async fn tui_flood() {
    use comfy_tui::launch::{self, Face};
    let sim = start_sim(Duration::ZERO).await;
    let dir = tempfile::tempdir().expect("dir");
    let workflow = write_workflow(dir.path(), "flood.json", &probe_steps(100_000));
    let args = run_args(&[
        workflow.as_os_str(),
        "--server".as_ref(),
        sim.url().as_ref(),
        "--out".as_ref(),
        dir.path().join("out").as_os_str(),
        "--no-download".as_ref(),
        "--no-notify".as_ref(),
    ]);
    let prepared = launch::prepare(&args, Face::Tui).expect("prepared");
    let (mut runtime, mut app) = launch::assemble(prepared, true);
    let mut screen = CountingScreen {
        terminal: ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40))
            .expect("terminal"),
        draws: Vec::new(),
        last_frame: String::new(),
    };
    let mut preview = comfy_tui::ui::PreviewState::halfblocks();
    let options = comfy_tui::tui::TuiOptions {
        notify: false,
        query_graphics: false,
        preview_budget: comfy_tui::budget::DEFAULT_BYTES_PER_SEC,
    };
    comfy_tui::tui::Driver::start(&mut runtime);
    // The loop keeps the view after the run; quit once the run has settled.
    let tx = comfy_tui::tui::Driver::sender(&runtime);
    let quitter = tokio::spawn(async move {
        // Quit once the run is surely over (a `q` while it runs only asks).
        tokio::time::sleep(Duration::from_secs(2)).await;
        loop {
            let key = comfy_tui::app::Event::Key(comfy_tui::app::Key::Char('q'));
            if tx
                .send(comfy_tui::app::Stamped::new(Instant::now(), key))
                .await
                .is_err()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let started = Instant::now();
    let code = comfy_tui::tui::drive(
        &mut runtime,
        &mut app,
        &mut screen,
        &mut preview,
        &options,
        false,
    )
    .await
    .expect("loop");
    quitter.abort();
    let total = started.elapsed();
    let first = app.job().started_at.expect("started");
    // The sampler node finishes with its last progress event.
    let last_event = app
        .job()
        .node(&comfy_tui::comfy::NodeId::from("1"))
        .and_then(|n| n.finished)
        .expect("node 1 finished");
    let flood = last_event.saturating_duration_since(first);
    let during: Vec<&Instant> = screen
        .draws
        .iter()
        .filter(|t| **t >= first && **t <= last_event)
        .collect();
    let max_per_second = screen
        .draws
        .iter()
        .map(|t| {
            screen
                .draws
                .iter()
                .filter(|u| **u >= *t && u.duration_since(*t) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    let final_frame = screen
        .draws
        .iter()
        .find(|t| **t >= last_event)
        .map(|t| t.duration_since(last_event));
    println!(
        "tui_flood: 100000 events in {:.3} s; {} frames during the flood ({:.1}/s), at most {} frames in any 1 s window; final frame {:?} after the last event, showing the final value: {}; exit {} after {:.2} s",
        flood.as_secs_f64(),
        during.len(),
        during.len() as f64 / flood.as_secs_f64().max(1e-9),
        max_per_second,
        final_frame,
        screen.last_frame.contains("100%"),
        code,
        total.as_secs_f64()
    );
    sim.shutdown().await;
}

/// Peak resident set of the largest waited-for child, in KiB.
fn children_max_rss_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct we pass.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    }
}

/// Figure 8: Time from process start to the `POST /prompt` request reaching the simulator.
async fn startup() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let workflow = write_workflow(dir.path(), "w.json", &probe_steps(2));
    let mut samples = Vec::new();
    for _ in 0..20 {
        sim.clear_requests();
        let started = Instant::now();
        let mut child = Command::new(BIN)
            .args([
                "run",
                workflow.to_str().expect("utf-8"),
                "--json",
                "--no-download",
                "--server",
                &sim.url(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let reached = loop {
            if sim
                .requests()
                .iter()
                .any(|r| r.method == "POST" && r.path.ends_with("/prompt"))
            {
                break started.elapsed();
            }
            if started.elapsed() > Duration::from_secs(10) {
                panic!("no POST /prompt within 10 s");
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        samples.push(reached);
        let _ = tokio::task::spawn_blocking(move || child.wait()).await;
    }
    samples.sort();
    println!(
        "startup: process start to POST /prompt at the simulator: median {:.1} ms, min {:.1} ms, max {:.1} ms (20 runs)",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
    sim.shutdown().await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Figure 5: Peak RSS of a headless run and a TUI run of the demo workflow.
async fn memory() {
    // The simulator lives in this process, so the figures are the client's alone.
    let sim = start_sim(Duration::from_millis(20)).await;
    let dir = tempfile::tempdir().expect("dir");
    let workflow = write_workflow(
        dir.path(),
        "demo.json",
        &serde_json::from_str::<Value>(comfy_tui::demo::DEMO_WORKFLOW).expect("demo workflow"),
    );
    let out = dir.path().join("out");
    let status = tokio::task::spawn_blocking({
        let (out, workflow, url) = (out.clone(), workflow.clone(), sim.url());
        move || {
            Command::new(BIN)
                .args([
                    "run",
                    workflow.to_str().expect("utf-8"),
                    "--plain",
                    "--preview-method",
                    "auto",
                ])
                .args(["--server", &url, "--out"])
                .arg(&out)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run")
        }
    })
    .await
    .expect("task");
    let headless = children_max_rss_kib();
    println!(
        "memory: headless run of the demo workflow, peak RSS {:.1} MB (exit {:?})",
        headless as f64 / 1024.0,
        status.code()
    );
    let command = format!(
        "{BIN} run {} --server {} --out {}",
        workflow.display(),
        sim.url(),
        out.display()
    );
    match Tmux::start("mem", &command, 120, 40) {
        Some(tmux) => {
            let pid = tmux.wait_for_pid();
            tmux.wait_for_text("done in", Duration::from_secs(60));
            let peak = vm_hwm_kib(pid);
            tmux.keys(&["q"]);
            println!(
                "memory: TUI run of the demo workflow at 120x40 with previews (half-blocks), peak RSS {:.1} MB",
                peak as f64 / 1024.0
            );
        }
        None => println!("memory: TUI figure skipped (tmux missing)"),
    }
    sim.shutdown().await;
}

/// Peak RSS so far of a running process, from /proc.
fn vm_hwm_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of a process so far, from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0)
        + fields
            .get(12)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_secs_f64(ticks as f64 / hz as f64)
}

/// Figure 9: A 200 MB output through `/view` to disk, against a plain streaming GET (to a file) of the same
/// URL in the same run.
async fn download() {
    let sim = start_sim(Duration::from_millis(1)).await;
    const SIZE: usize = 200 * 1024 * 1024;
    let name = "big_00001_.bin";
    {
        let chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i * 31 % 251) as u8).collect();
        let mut file = std::fs::File::create(sim.output_dir().join(name)).expect("big file");
        for _ in 0..SIZE / chunk.len() {
            std::io::Write::write_all(&mut file, &chunk).expect("write");
        }
    }
    let server = ServerUrl::parse(&sim.url()).expect("url");
    let client = ComfyClient::new(server.clone(), Default::default()).expect("client");
    let file = FileRef {
        media: "images".into(),
        filename: name.into(),
        subfolder: String::new(),
        folder_type: "output".into(),
    };
    let plain = reqwest::Client::new();
    let mut ours = Vec::new();
    let mut baseline = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let response = plain
            .get(server.route("view"))
            .query(&[("filename", name), ("subfolder", ""), ("type", "output")])
            .send()
            .await
            .expect("get");
        let baseline_dir = tempfile::tempdir().expect("dir");
        let mut sink = tokio::fs::File::create(baseline_dir.path().join("plain.bin"))
            .await
            .expect("file");
        let mut body = response.bytes_stream();
        let mut n = 0usize;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.expect("chunk");
            n += chunk.len();
            tokio::io::AsyncWriteExt::write_all(&mut sink, &chunk)
                .await
                .expect("write");
        }
        tokio::io::AsyncWriteExt::flush(&mut sink)
            .await
            .expect("flush");
        assert_eq!(n, SIZE);
        baseline.push(t.elapsed());

        let dir = tempfile::tempdir().expect("dir");
        let t = Instant::now();
        let (_, bytes) = comfy_tui::output::download(&client, &file, dir.path(), |_, _| {})
            .await
            .expect("download");
        assert_eq!(bytes as usize, SIZE);
        ours.push(t.elapsed());
    }
    let best = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    let mbps = |d: Duration| SIZE as f64 / 1e6 / d.as_secs_f64();
    println!(
        "download: 200 MB via /view to disk {:.0} MB/s; plain streaming GET to a file {:.0} MB/s; ratio {:.2} (best of 3)",
        mbps(best(&ours)),
        mbps(best(&baseline)),
        best(&baseline).as_secs_f64() / best(&ours).as_secs_f64()
    );
    sim.shutdown().await;
}

/// Figure 6: CPU used by the TUI over 30 s of silence (a node that sleeps).
async fn idle() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let workflow = write_workflow(dir.path(), "sleep.json", &sleeper(45.0));
    let command = format!(
        "{BIN} run {} --server {} --out {}",
        workflow.display(),
        sim.url(),
        dir.path().join("out").display()
    );
    let Some(tmux) = Tmux::start("idle", &command, 120, 40) else {
        println!("idle: skipped (tmux missing)");
        return;
    };
    let pid = tmux.wait_for_pid();
    tmux.wait_for_text("ProbeSleep", Duration::from_secs(20));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = cpu_time(pid);
    let window = Duration::from_secs(30);
    tokio::time::sleep(window).await;
    let used = cpu_time(pid).saturating_sub(before);
    println!(
        "idle: TUI CPU over {} s of silence: {:.3} s = {:.2} % of a core",
        window.as_secs(),
        used.as_secs_f64(),
        used.as_secs_f64() / window.as_secs_f64() * 100.0
    );
    tmux.keys(&["q", "l"]);
    drop(tmux);
    sim.shutdown().await;
}

/// A sampler-like node that sends a new 512×512-latent preview at every step, as
/// KSampler does with previews on.
fn probe_previews(steps: u64) -> Value {
    json!({
        "1": {"class_type": "ProbeSteps", "inputs": {"steps": steps, "step_seconds": 0.0, "seed": 1,
              "width": 512, "height": 512, "fail_at_step": 0, "send_previews": true}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "traffic"}}
    })
}

/// Figure 7: Bytes written to the terminal per second while a node steps: without
/// previews at 10 it/s, then with a new preview every step (5 and 20 it/s) at 120×40
/// and 200×60, unlimited (as before the budget) and under the default budget.
async fn traffic() {
    traffic_one(&probe_steps(400), 100, (120, 40), None, "no previews").await;
    for (cols, rows) in [(120, 40), (200, 60)] {
        for budget in [Some(0), None] {
            traffic_one(
                &probe_previews(400),
                200,
                (cols, rows),
                budget,
                "a preview every step",
            )
            .await;
        }
    }
    traffic_one(
        &probe_previews(1000),
        50,
        (200, 60),
        None,
        "a preview every step",
    )
    .await;
}

/// One traffic figure: `budget` is `--preview-budget` (`None`: the default).
async fn traffic_one(
    workflow: &Value,
    step_ms: u64,
    (cols, rows): (u16, u16),
    budget: Option<u64>,
    what: &str,
) {
    let sim = start_sim(Duration::from_millis(step_ms)).await;
    let dir = tempfile::tempdir().expect("dir");
    let workflow = write_workflow(dir.path(), "steps.json", workflow);
    let budget_arg = budget.map_or(String::new(), |b| format!(" --preview-budget {b}"));
    let command = format!(
        "{BIN} run {} --server {} --out {}{budget_arg}",
        workflow.display(),
        sim.url(),
        dir.path().join("out").display()
    );
    let Some(tmux) = Tmux::start("traffic", &command, cols, rows) else {
        println!("traffic: skipped (tmux missing)");
        return;
    };
    tmux.wait_for_text("ProbeSteps", Duration::from_secs(20));
    let capture = dir.path().join("bytes");
    tmux.pipe_to(&capture);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let size = || std::fs::metadata(&capture).map(|m| m.len()).unwrap_or(0);
    // Sampled every 250 ms, for the average and the worst 5 s window.
    let window = Duration::from_secs(10);
    let tick = Duration::from_millis(250);
    let mut samples = vec![size()];
    let started = Instant::now();
    while started.elapsed() < window {
        tokio::time::sleep(tick).await;
        samples.push(size());
    }
    let per_window = (Duration::from_secs(5).as_millis() / tick.as_millis()) as usize;
    let worst = samples
        .windows(per_window + 1)
        .map(|w| w[per_window] - w[0])
        .max()
        .unwrap_or(0);
    let total = samples.last().copied().unwrap_or(0) - samples[0];
    let budget = match budget {
        Some(0) => "unlimited".to_owned(),
        Some(b) => format!("budget {b} B/s"),
        None => format!(
            "default budget {} B/s",
            comfy_tui::budget::DEFAULT_BYTES_PER_SEC
        ),
    };
    println!(
        "traffic: TUI at {cols}x{rows}, {what}, {:.0} it/s, {budget}: {:.0} bytes/s to the terminal (over {} s), worst 5 s window {:.0} bytes/s",
        1000.0 / step_ms as f64,
        total as f64 / window.as_secs_f64(),
        window.as_secs(),
        worst as f64 / 5.0
    );
    tmux.keys(&["q", "l"]);
    drop(tmux);
    sim.shutdown().await;
}

/// Figure 10: Peak RSS of a headless run whose server sends one 200 MiB text frame in
/// the middle of a node; the run must reconnect and complete.
async fn huge_text() {
    // The simulator lives in this process: the frame it builds is not the client's.
    let sim = start_sim(Duration::from_millis(20)).await;
    sim.faults()
        .update(|f| f.huge_text_frame = Some(200 * 1024 * 1024));
    let dir = tempfile::tempdir().expect("dir");
    let workflow = write_workflow(dir.path(), "steps.json", &probe_steps(20));
    let url = sim.url();
    let out = dir.path().join("out");
    let (code, peak_kib, lines) = tokio::task::spawn_blocking(move || {
        // Reaped with `wait4` below, which also reports this child's own peak RSS.
        #[allow(clippy::zombie_processes)]
        let child = Command::new(BIN)
            .args(["run", workflow.to_str().expect("utf-8"), "--json"])
            .args(["--server", &url, "--out"])
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let pid = child.id();
        let mut stdout = child.stdout.expect("stdout");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).expect("read");
        // This child's own peak, not the largest of every child so far.
        let mut status = 0;
        // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let waited = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
        assert_eq!(waited, pid as i32, "wait4");
        (libc::WEXITSTATUS(status), usage.ru_maxrss, text)
    })
    .await
    .expect("task");
    let reconnected = lines.contains("reconnected");
    let refused = lines.contains("text message of 209715200 bytes");
    println!(
        "huge_text: one 200 MiB text frame mid-run: client peak RSS {:.1} MB, exit {code}, refused {refused}, reconnected {reconnected}",
        peak_kib as f64 / 1024.0
    );
    assert!(
        sim.faults().get().huge_text_frame.is_none(),
        "the frame was sent"
    );
    sim.shutdown().await;
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn child_named(parent: u32, name: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok())
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_string_lossy().parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent && comm(pid) == name).then_some(pid)
        })
}

/// A detached tmux session on its own server socket running one command; killed on drop.
struct Tmux {
    name: String,
}

impl Tmux {
    fn start(label: &str, command: &str, cols: u16, rows: u16) -> Option<Self> {
        let name = format!("comfy-bench-{label}-{}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "-L",
                &name,
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
                command,
            ])
            .env("TERM", "xterm-256color")
            .status()
            .ok()?
            .success();
        ok.then_some(Self { name })
    }

    fn tmux(&self, args: &[&str]) -> String {
        Command::new("tmux")
            .args(["-L", &self.name])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// The pid of the comfy-tui process in the pane (the pane's shell may have
    /// started it as a child rather than exec'ing it).
    fn wait_for_pid(&self) -> u32 {
        let pane: u32 = self
            .tmux(&["list-panes", "-t", &self.name, "-F", "#{pane_pid}"])
            .trim()
            .parse()
            .expect("pane pid");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if comm(pane) == "comfy-tui" {
                return pane;
            }
            if let Some(child) = child_named(pane, "comfy-tui") {
                return child;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no comfy-tui process under pane {pane}");
    }

    fn wait_for_text(&self, text: &str, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self
                .tmux(&["capture-pane", "-p", "-t", &self.name])
                .contains(text)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("`{text}` did not appear on screen within {limit:?}");
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", &self.name, key]);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn pipe_to(&self, file: &Path) {
        self.tmux(&[
            "pipe-pane",
            "-o",
            "-t",
            &self.name,
            &format!("cat >> {}", file.display()),
        ]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}
