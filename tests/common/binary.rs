//! Driving the built binary: run it to the end, or spawn it and read its JSON lines.

#![allow(dead_code)]

use super::sim::within;
use serde_json::Value;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_comfy-tui"));
    command
        .env_remove("COMFYUI_URL")
        .env_remove("COMFY_TUI_LOG_FILE")
        // The job store and learned durations of test runs stay out of the user's own.
        .env(
            comfy_tui::state::STATE_DIR_ENV,
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("state"),
        )
        .kill_on_drop(true);
    command
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The JSON lines printed on stdout, each checked against the schema.
    pub fn lines(&self) -> Vec<Value> {
        self.stdout.lines().map(super::schema::parse).collect()
    }

    /// The one JSON object a command printed with `--json`, checked against the schema.
    pub fn json(&self) -> Value {
        super::schema::parse(self.stdout.trim())
    }
}

pub async fn run_binary(args: &[&str]) -> Output {
    run_command(binary().args(args)).await
}

pub async fn run_command(command: &mut Command) -> Output {
    let output = within(command.stdin(Stdio::null()).output())
        .await
        .expect("binary runs");
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub type Lines = tokio::io::Lines<BufReader<tokio::process::ChildStdout>>;

/// Spawns the command with stdout piped, and returns it with a reader of its lines.
pub fn spawn_lines(command: &mut Command) -> (tokio::process::Child, Lines) {
    let mut child = command
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    (child, BufReader::new(stdout).lines())
}

/// Reads lines until one has this `event`.
pub async fn next_event(lines: &mut Lines, event: &str) -> Value {
    loop {
        let line = within(lines.next_line())
            .await
            .expect("read")
            .expect("line before exit");
        let value = super::schema::parse(&line);
        if value["event"] == event {
            return value;
        }
    }
}

/// Every line left until the process closes stdout.
pub async fn rest(lines: &mut Lines) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(line) = within(lines.next_line()).await.expect("read") {
        out.push(super::schema::parse(&line));
    }
    out
}

pub fn signal(child: &tokio::process::Child, name: &str) {
    let pid = child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .expect("kill");
    assert!(status.success());
}
