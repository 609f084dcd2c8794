//! A 64 MiB upload does not raise the client's memory much: the file is streamed from
//! disk, never read whole. The simulator runs as a child process (it keeps the whole
//! body, which would hide the client's own figure), and this process is the client
//! alone, its peak resident size reset just before the upload.

mod common;

use comfy_tui::comfy::ServerUrl;
use comfy_tui::comfy::http::{ComfyClient, UploadKind};
use common::binary::binary;
use common::sim::within;
use std::io::Write;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

const SIZE: u64 = 64 * 1024 * 1024;
/// Well under the file: buffers, the request's chunks in flight, the runtime.
const ALLOWED_GROWTH_KIB: u64 = 16 * 1024;

/// A `VmRSS`- or `VmHWM`-style line of `/proc/self/status`, in KiB.
fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn a_64_mib_upload_streams_without_holding_the_file() {
    // Resetting the peak needs Linux's clear_refs; elsewhere there is nothing to measure.
    if std::fs::write("/proc/self/clear_refs", "5").is_err() || status_kib("VmHWM:").is_none() {
        eprintln!("no /proc/self/clear_refs here: the peak cannot be measured");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("large.png");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut chunk = vec![0u8; 1024 * 1024];
        for i in 0..(SIZE / chunk.len() as u64) {
            chunk.iter_mut().enumerate().for_each(|(j, b)| {
                *b = (j as u64 ^ i) as u8;
            });
            file.write_all(&chunk).expect("write");
        }
        file.flush().expect("flush");
    }

    let mut sim = binary()
        .args(["sim", "--listen", "127.0.0.1:0", "--step-delay-ms", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("simulator starts");
    let stdout = sim.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = within(lines.next_line())
        .await
        .expect("reads")
        .expect("a line");
    let url = first
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    let client =
        ComfyClient::new(ServerUrl::parse(&url).expect("url"), Default::default()).expect("client");
    // A first small request sets up the connection pool and the runtime's threads, so
    // the figure below is the upload's alone.
    within(client.queue_remaining()).await.expect("server up");

    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak");
    let before = status_kib("VmRSS:").expect("rss");
    let mut last = (0, 0);
    let stored = within(client.upload(UploadKind::Image, &path, "", |sent, total| {
        last = (sent, total);
    }))
    .await
    .expect("upload");
    let peak = status_kib("VmHWM:").expect("peak");
    assert_eq!(stored.name, "large.png");
    assert_eq!(last, (SIZE, SIZE));
    let growth = peak.saturating_sub(before);
    eprintln!(
        "client peak grew by {growth} KiB for a {} KiB upload",
        SIZE / 1024
    );
    assert!(
        growth < ALLOWED_GROWTH_KIB,
        "the client's peak grew by {growth} KiB for a {} KiB file",
        SIZE / 1024
    );
    sim.kill().await.expect("stop the simulator");
}
