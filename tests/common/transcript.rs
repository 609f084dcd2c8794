//! Reading the recorded transcripts of a real ComfyUI server (`tests/fixtures/*.jsonl`).

#![allow(dead_code)]

use comfy_tui::comfy::preview::{ImageFormat, Preview, PreviewMeta};
use serde_json::Value;
use std::path::PathBuf;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn read_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every line of a transcript, parsed.
pub fn events(name: &str) -> Vec<Value> {
    read_fixture(name)
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1))
        })
        .collect()
}

/// Every transcript file in the fixtures.
pub fn all_transcripts() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture(""))
        .expect("fixtures folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    names
}

/// A preview rebuilt from a transcript's binary-frame summary (the recording keeps the
/// header and metadata, not the image bytes).
pub fn preview_from_summary(event: &Value) -> Option<Preview> {
    let event_type = event["event_type"].as_u64()?;
    let format = match event["image_kind"].as_str() {
        Some("jpeg") | Some("JPEG") => ImageFormat::Jpeg,
        Some("png") | Some("PNG") => ImageFormat::Png,
        _ => ImageFormat::Other,
    };
    match event_type {
        1 => Some(Preview {
            format,
            meta: None,
            image: bytes::Bytes::new(),
        }),
        4 => Some(Preview {
            format,
            meta: Some(
                serde_json::from_value::<PreviewMeta>(event["metadata"].clone())
                    .expect("recorded metadata parses"),
            ),
            image: bytes::Bytes::new(),
        }),
        _ => None,
    }
}
