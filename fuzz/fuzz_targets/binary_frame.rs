//! Any binary frame: parsing must never panic.
#![no_main]

use comfy_tui::comfy::BinaryFrame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = BinaryFrame::parse(bytes::Bytes::copy_from_slice(data));
});
