//! Any text frame: parsing must never panic, and a parsed message must be absorbable.
#![no_main]

use comfy_tui::comfy::{PromptId, ServerMessage, Workflow};
use comfy_tui::job::Job;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(message) = ServerMessage::parse(text) {
        let workflow = Workflow::parse(
            r#"{"1": {"class_type": "KSampler", "inputs": {}}}"#,
            std::path::Path::new("fuzz"),
        )
        .expect("fixed workflow");
        let mut job = Job::new(&workflow, PromptId::from("p"));
        let _ = job.apply(&message, std::time::Instant::now());
    }
});
