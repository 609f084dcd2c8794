//! What a new user and a real server found: exact paths, partial files, signals, exit
//! codes, the first line, numbers, seeds, connection hints, credentials, log files and
//! file modes. Whole runs of the built binary against the simulator on 127.0.0.1.

mod common;

use base64::Engine;
use comfy_tui::sim::{Faults, SimConfig};
use common::binary::{binary, next_event, rest, run_binary, run_command, signal, spawn_lines};
use common::run::{hidden_files, run_json, txt2img};
use common::sim::{requests_to, start_sim, start_sim_with, within};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn write_workflow(dir: &Path, workflow: &Value) -> String {
    let path = dir.join("w.json");
    std::fs::write(&path, workflow.to_string()).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

/// A graph whose sampler takes `steps` steps and whose output image is `size`² pixels.
fn graph(steps: u64, size: u64) -> Value {
    common::run::sampler_graph(steps, size, 1)
}

/// Waits (bounded) until `check` holds, polling.
async fn until(mut check: impl FnMut() -> bool) {
    within(async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_folder_that_is_not_utf8_is_reported_exactly() {
    use std::os::unix::ffi::OsStrExt;
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(2, 64));
    let out = dir.path().join(std::ffi::OsStr::from_bytes(b"o_\xfe"));
    std::fs::create_dir(&out).expect("mkdir");
    let json = run_command(
        binary()
            .args(["run", &wf, "--server", &sim.url(), "--json", "--out"])
            .arg(&out),
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let lines = json.lines();
    let output = lines
        .iter()
        .find(|l| l["event"] == "output")
        .expect("output");
    let exact = base64::engine::general_purpose::STANDARD
        .decode(output["path_bytes"].as_str().expect("path_bytes"))
        .expect("base64");
    let path = Path::new(std::ffi::OsStr::from_bytes(&exact));
    assert!(path.is_file(), "{path:?}");
    let done = lines.last().expect("done");
    assert_eq!(done["event"], "done");
    assert_eq!(done["saved_bytes"][0], output["path_bytes"]);
    // People get a form they can paste into a shell.
    let plain = run_command(
        binary()
            .args(["run", &wf, "--server", &sim.url(), "--plain", "--out"])
            .arg(&out),
    )
    .await;
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(plain.stdout.contains("$'"), "{}", plain.stdout);
    assert!(plain.stdout.contains("o_\\xfe/"), "{}", plain.stdout);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_a_download_leaves_no_partial_file_and_says_what_was_lost() {
    let sim = start_sim_with(SimConfig {
        step_delay: Duration::from_millis(1),
        faults: Faults {
            view_bytes_per_sec: Some(20_000),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(2, 512));
    let out = dir.path().join("out");
    let (mut child, mut lines) = spawn_lines(
        binary()
            .args(["run", &wf, "--server", &sim.url(), "--json", "--out"])
            .arg(&out),
    );
    next_event(&mut lines, "submitted").await;
    // The download has begun once its partial file exists.
    until(|| !hidden_files(&out).is_empty()).await;
    signal(&child, "INT");
    let rest = rest(&mut lines).await;
    let status = within(child.wait()).await.expect("exit");
    let failed: Vec<&Value> = rest
        .iter()
        .filter(|l| l["event"] == "output_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{rest:?}");
    let done = rest.last().expect("done");
    assert_eq!(done["status"], "incomplete", "{done}");
    assert_eq!(done["failed"].as_array().map(Vec::len), Some(1));
    assert_eq!(status.code(), Some(1));
    assert!(hidden_files(&out).is_empty(), "{:?}", hidden_files(&out));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_cancels_a_headless_run_like_ctrl_c() {
    let sim = start_sim(Duration::from_millis(50)).await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(400, 64));
    let (mut child, mut lines) = spawn_lines(
        binary()
            .args(["run", &wf, "--server", &sim.url(), "--json", "--out"])
            .arg(dir.path().join("out")),
    );
    let submitted = next_event(&mut lines, "submitted").await;
    next_event(&mut lines, "progress").await;
    signal(&child, "TERM");
    let done = next_event(&mut lines, "done").await;
    assert_eq!(done["status"], "interrupted", "{done}");
    assert_eq!(within(child.wait()).await.expect("exit").code(), Some(130));
    let interrupts = requests_to(&sim, "POST", "/interrupt");
    assert_eq!(interrupts.len(), 1);
    assert_eq!(
        interrupts[0].body.as_ref().map(|b| b["prompt_id"].clone()),
        Some(submitted["prompt_id"].clone())
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_detaches_and_leaves_the_prompt_running() {
    let sim = start_sim(Duration::from_millis(50)).await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(400, 64));
    let (mut child, mut lines) = spawn_lines(
        binary()
            .args(["run", &wf, "--server", &sim.url(), "--json", "--out"])
            .arg(dir.path().join("out")),
    );
    let submitted = next_event(&mut lines, "submitted").await;
    next_event(&mut lines, "progress").await;
    signal(&child, "HUP");
    let done = next_event(&mut lines, "done").await;
    assert_eq!(done["status"], "detached", "{done}");
    let id = submitted["prompt_id"].as_str().expect("id");
    assert!(
        done["reason"].as_str().is_some_and(|r| r.contains(id)),
        "{done}"
    );
    assert_eq!(
        within(child.wait()).await.expect("exit").code(),
        Some(comfy_tui::exit::DETACHED)
    );
    assert!(requests_to(&sim, "POST", "/interrupt").is_empty());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ctrl_c_against_a_slow_server_end_detached_not_lost() {
    let sim = start_sim_with(SimConfig {
        step_delay: Duration::from_millis(20),
        faults: Faults {
            http_delay: Some(Duration::from_millis(1500)),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(200, 64));
    let (mut child, mut lines) = spawn_lines(
        binary()
            .args(["run", &wf, "--server", &sim.url(), "--json", "--out"])
            .arg(dir.path().join("out")),
    );
    next_event(&mut lines, "submitted").await;
    next_event(&mut lines, "progress").await;
    signal(&child, "INT");
    next_event(&mut lines, "warning").await;
    signal(&child, "INT");
    let done = next_event(&mut lines, "done").await;
    assert_eq!(done["status"], "detached", "{done}");
    assert_eq!(
        within(child.wait()).await.expect("exit").code(),
        Some(comfy_tui::exit::DETACHED)
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_line_is_the_answer_even_when_the_socket_drops_early() {
    let sim = start_sim_with(SimConfig {
        step_delay: Duration::from_millis(1),
        faults: Faults {
            drop_ws_after_frames: Some(10),
            http_delay: Some(Duration::from_millis(300)),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let run = run_json(&sim.url(), &txt2img(3), |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    let lines = run.lines();
    assert_eq!(lines[0]["event"], "submitted", "{}", run.text);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_the_server_sends_as_integers_stay_integers_and_seeds_are_reported() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let run = run_json(&sim.url(), &txt2img(3), |a| a.seed = Some("random".into())).await;
    assert_eq!(run.code, 0, "{}", run.text);
    let submitted = &run.events("submitted")[0];
    assert!(submitted["number"].is_u64(), "{submitted}");
    for progress in run.events("progress") {
        assert!(
            progress["value"].is_u64() && progress["max"].is_u64(),
            "{progress}"
        );
    }
    let seeds = submitted["seeds"].as_array().expect("seeds");
    assert_eq!(seeds.len(), 1, "{submitted}");
    let prompts = requests_to(&sim, "POST", "/prompt");
    let sent = &prompts[0].body.as_ref().expect("body")["prompt"]["3"]["inputs"]["seed"];
    assert_eq!(&seeds[0]["value"], sent);
    assert_eq!(seeds[0]["node"], "3");
    assert_eq!(run.done()["seeds"], submitted["seeds"]);
    let plain = common::run::run_with(
        &sim.url(),
        &txt2img(2),
        comfy_tui::headless::Format::Plain,
        |a| a.seed = Some("12345".into()),
        |_| {},
    )
    .await;
    assert!(plain.text.contains("seed 12345"), "{}", plain.text);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_done_line_has_the_same_fields() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(2, 64));
    let ok = run_binary(&[
        "run",
        &wf,
        "--server",
        &sim.url(),
        "--json",
        "--out",
        dir.path().join("o").to_str().expect("utf-8"),
    ])
    .await;
    let bad = run_binary(&[
        "run",
        &wf,
        "--server",
        &sim.url(),
        "--json",
        "--timeout",
        "0",
    ])
    .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let keys = |o: &common::binary::Output| -> Vec<String> {
        let done = o.lines().pop().expect("done");
        let mut keys: Vec<String> = done.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&ok), keys(&bad));
    let done = bad.lines().pop().expect("done");
    assert_eq!(done["saved"], json!([]));
    assert_eq!(done["prompt_id"], Value::Null);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_the_server_refuses_as_too_large_is_a_rejection() {
    let sim = start_sim_with(SimConfig {
        faults: Faults {
            max_body_bytes: Some(500),
            ..Faults::default()
        },
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &txt2img(2));
    let out = dir.path().join("out");
    let run = run_binary(&[
        "run",
        &wf,
        "--server",
        &sim.url(),
        "--json",
        "--out",
        out.to_str().expect("utf-8"),
    ])
    .await;
    assert_eq!(run.code, comfy_tui::exit::REJECTED, "{}", run.stdout);
    let lines = run.lines();
    assert_eq!(lines[0]["event"], "rejected");
    let message = lines[0]["error"]["message"].as_str().expect("message");
    assert!(message.contains("413"), "{message}");
    assert!(message.contains("Maximum request body size"), "{message}");
    assert_eq!(lines.last().expect("done")["status"], "rejected");
    // Nothing was saved, and the output folder this run made is gone again.
    assert!(!out.exists());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_are_clear_usage_errors() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(2, 64));
    let afile = dir.path().join("afile");
    std::fs::write(&afile, "x").expect("write");
    let url = sim.url();
    for (args, expected) in [
        (
            vec!["--out", afile.to_str().expect("utf-8")],
            "not a directory",
        ),
        (vec!["--timeout", "0"], "--timeout 0"),
        (
            vec!["--preview-method", "bogus"],
            "auto, latent2rgb, taesd, none",
        ),
        (
            vec!["--log-file", dir.path().to_str().expect("utf-8")],
            "is a directory",
        ),
        (
            vec![
                "--log-file",
                dir.path().join("no/such/log").to_str().expect("utf-8"),
            ],
            "does not exist",
        ),
    ] {
        let mut all = vec!["run", wf.as_str(), "--server", url.as_str(), "--plain"];
        all.extend(args.iter().copied());
        let out = run_binary(&all).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
    }
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
    sim.shutdown().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_private_and_hold_no_secret_and_outputs_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(2, 64));
    let log = dir.path().join("trace.log");
    let out = dir.path().join("out");
    let server = sim.url().replace("http://", "http://alice:pa55word@");
    let command = format!(
        "umask 002; exec '{}' run '{wf}' --server '{server}' --plain --out '{}' --log-file '{}' --header 'Authorization: Bearer s3cr3t-token' --header 'Cookie: sid=c00kie'",
        env!("CARGO_BIN_EXE_comfy-tui"),
        out.display(),
        log.display()
    );
    let run = run_command(
        tokio::process::Command::new("sh")
            .args(["-c", &command])
            .env("COMFY_TUI_LOG", "trace")
            .env(
                comfy_tui::state::STATE_DIR_ENV,
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("state"),
            )
            .kill_on_drop(true),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.contains("authorization") || text.contains("Authorization"),
        "the trace has the handshake"
    );
    for secret in ["s3cr3t-token", "c00kie", "pa55word"] {
        assert!(!text.contains(secret), "{secret} leaked into the log");
    }
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&log), 0o600);
    let saved: Vec<_> = std::fs::read_dir(&out).expect("out").flatten().collect();
    assert!(!saved.is_empty());
    for entry in saved {
        assert_eq!(mode(&entry.path()), 0o664, "{:?}", entry.path());
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_credentials_go_on_every_request_and_the_upgrade() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let server = sim.url().replace("http://", "http://user:pw@");
    let run = run_json(&server, &txt2img(2), |_| {}).await;
    assert_eq!(run.code, 0, "{}", run.text);
    assert!(!run.text.contains("pw@"), "{}", run.text);
    let requests = sim.requests();
    assert!(
        requests.iter().any(|r| r.path.ends_with("/ws")),
        "the upgrade is captured"
    );
    // base64("user:pw")
    for request in requests {
        assert_eq!(
            request
                .headers
                .iter()
                .find(|(k, _)| k == "authorization")
                .map(|(_, v)| v.as_str()),
            Some("Basic dXNlcjpwdw=="),
            "{} {}",
            request.method,
            request.path
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_say_what_is_wrong_and_what_to_try() {
    let sim = start_sim(Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(2, 64));
    // https to a plain-http server.
    let https = sim.url().replace("http://", "https://");
    let out = run_binary(&[
        "run",
        &wf,
        "--server",
        &https,
        "--plain",
        "--connect-timeout",
        "3s",
    ])
    .await;
    assert_eq!(out.code, 4, "{}", out.stdout);
    assert!(out.stdout.contains("plain http"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains(&sim.url().trim_end_matches('/').to_string()),
        "{}",
        out.stdout
    );

    // A web server that is not ComfyUI (HTTP/1.0, 404 everywhere, like `python -m http.server`).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let other = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let body = "<html>Error response 404</html>";
                let _ = socket
                    .write_all(
                        format!("HTTP/1.0 404 File not found\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                            .as_bytes(),
                    )
                    .await;
            });
        }
    });
    let out = run_binary(&[
        "run",
        &wf,
        "--server",
        &format!("http://{addr}"),
        "--plain",
        "--connect-timeout",
        "3s",
    ])
    .await;
    assert_eq!(out.code, 4, "{}", out.stdout);
    assert!(
        out.stdout.contains("not a ComfyUI server"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("404"), "{}", out.stdout);
    other.abort();

    // A listener that never answers gives up within the connect timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = silent.local_addr().expect("addr");
    let started = std::time::Instant::now();
    let out = run_binary(&[
        "run",
        &wf,
        "--server",
        &format!("http://{addr}"),
        "--plain",
        "--connect-timeout",
        "2s",
    ])
    .await;
    assert_eq!(out.code, 4, "{}", out.stdout);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert!(out.stdout.contains("did not answer"), "{}", out.stdout);
    drop(silent);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_gone_deaf_under_a_shared_client_id_is_noticed_and_the_run_ends_right() {
    use futures_util::StreamExt;
    let sim = start_sim(Duration::from_millis(20)).await;
    let dir = tempfile::tempdir().expect("dir");
    let wf = write_workflow(dir.path(), &graph(60, 64));
    let (mut child, mut lines) = spawn_lines(
        binary()
            .args([
                "run",
                &wf,
                "--server",
                &sim.url(),
                "--json",
                "--client-id",
                "shared",
                "--out",
            ])
            .arg(dir.path().join("out")),
    );
    next_event(&mut lines, "progress").await;
    // A second client takes the same id over: the first one's socket hears nothing more.
    let (mut thief, _) = within(tokio_tungstenite::connect_async(format!(
        "{}?clientId=shared",
        sim.ws_url()
    )))
    .await
    .expect("second socket");
    let reader = tokio::spawn(async move { while thief.next().await.is_some() {} });
    let rest = rest(&mut lines).await;
    assert_eq!(within(child.wait()).await.expect("exit").code(), Some(0));
    assert!(
        rest.iter().any(|l| l["event"] == "warning"
            && l["message"]
                .as_str()
                .is_some_and(|m| m.contains("client-id"))),
        "{rest:?}"
    );
    let done = rest.last().expect("done");
    assert_eq!(done["status"], "success", "{done}");
    for node in done["nodes"].as_array().expect("nodes") {
        assert_ne!(node["state"], "skipped", "{node}");
    }
    assert_eq!(done["saved"].as_array().map(Vec::len), Some(1), "{done}");
    reader.abort();
    sim.shutdown().await;
}
