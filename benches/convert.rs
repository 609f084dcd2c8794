//! Converting the largest frontend pair (the Qwen image-edit template: 100+ nodes, a
//! subgraph, 29 bypassed nodes) against the full `/object_info` of a real server.

use comfy_tui::convert::{ConvertOptions, convert};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use std::hint::black_box;
use std::path::Path;

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn bench_convert(c: &mut Criterion) {
    let ui = fixture("ui-to-api/tpl_image_qwen_image_edit_2509.ui.json");
    let object_info = fixture("object_info_full.json");
    let options = ConvertOptions::local_now(Some(1));
    c.bench_function("convert largest pair (object_info_full)", |b| {
        b.iter(|| convert(black_box(&ui), black_box(&object_info), &options).expect("converts"))
    });
}

criterion_group!(benches, bench_convert);
criterion_main!(benches);
