//! Any workflow text plus `--set` specs: loading and overriding must never panic.
#![no_main]

use comfy_tui::comfy::Workflow;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line is a `--set` spec, the rest the workflow.
    let (spec, body) = text.split_once('\n').unwrap_or(("", &text));
    if let Ok(mut workflow) = Workflow::parse(body, std::path::Path::new("fuzz.json")) {
        let _ = workflow.apply_set(spec);
        let _ = workflow.apply_seed(|| 1);
        let _ = workflow.execution_order();
    }
});
