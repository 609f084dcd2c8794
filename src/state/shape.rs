//! A graph's *shape*: what decides how long it takes to run. Two prompts with the same
//! classes, links and cost inputs (steps, sizes, batch, models, sampler) take about as
//! long as each other, whatever their seeds or prompt texts say.

use serde_json::{Map, Value};
use std::fmt::Write;

/// Inputs whose value changes a node's cost. Names ending in `_name` (checkpoints,
/// LoRAs, VAEs, samplers, upscale models) count too: a different model or sampler is a
/// different cost. Seeds, texts, cfg, denoise and file prefixes do not.
const COST_INPUTS: &[&str] = &[
    "steps",
    "width",
    "height",
    "length",
    "batch_size",
    "amount",
    "frames",
    "num_frames",
    "video_frames",
    "frame_count",
    "start_at_step",
    "end_at_step",
    "scale_by",
    "upscale_by",
    "megapixels",
    "resolution",
    "tile_size",
];

fn is_cost_input(name: &str) -> bool {
    COST_INPUTS.contains(&name) || name.ends_with("_name")
}

/// A link input is `[source node id, output index]`.
fn link(value: &Value) -> Option<(&str, u64)> {
    match value.as_array()?.as_slice() {
        [Value::String(source), index] => Some((source, index.as_u64()?)),
        _ => None,
    }
}

/// The shape of one graph, as a short stable key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ShapeKey(pub String);

impl ShapeKey {
    /// The key of an API-format graph (`{id: {class_type, inputs}}`).
    pub fn of(nodes: &Map<String, Value>) -> Self {
        Self(format!(
            "{}n-{:016x}",
            nodes.len(),
            fnv1a(canonical(nodes).as_bytes())
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The shape as text: every node in id order with its class, its links and its cost
/// inputs in name order. Key order in the file does not matter.
fn canonical(nodes: &Map<String, Value>) -> String {
    let mut ids: Vec<&String> = nodes.keys().collect();
    ids.sort();
    let mut text = String::new();
    for id in ids {
        let node = &nodes[id.as_str()];
        let class = node.get("class_type").and_then(Value::as_str).unwrap_or("");
        let _ = write!(text, "{id:?}:{class:?}(");
        if let Some(inputs) = node.get("inputs").and_then(Value::as_object) {
            let mut names: Vec<&String> = inputs.keys().collect();
            names.sort();
            for name in names {
                let value = &inputs[name.as_str()];
                if let Some((source, index)) = link(value) {
                    let _ = write!(text, "{name:?}<{source:?}.{index} ");
                } else if is_cost_input(name) {
                    let _ = write!(text, "{name:?}={value} ");
                }
            }
        }
        text.push_str(")\n");
    }
    text
}

/// FNV-1a, 64 bits: stable across builds and platforms (std's hasher is not promised
/// to be), and plenty for telling a few hundred shapes apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(seed: u64, text: &str, steps: u64, width: u64) -> Map<String, Value> {
        let value = json!({
            "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["4", 1]}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": 512, "batch_size": 1}},
            "3": {"class_type": "KSampler", "inputs": {"seed": seed, "steps": steps, "cfg": 7.5,
                "model": ["4", 0], "positive": ["6", 0], "negative": ["6", 0], "latent_image": ["5", 0]}},
            "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "a", "images": ["3", 0]}}
        });
        value.as_object().expect("object").clone()
    }

    fn key(nodes: &Map<String, Value>) -> ShapeKey {
        ShapeKey::of(nodes)
    }

    #[test]
    fn seeds_texts_and_prefixes_do_not_change_the_shape() {
        let base = key(&graph(1, "a cat", 20, 512));
        assert_eq!(key(&graph(99, "a cat", 20, 512)), base);
        assert_eq!(key(&graph(1, "a dog in the rain", 20, 512)), base);
        let mut renamed = graph(1, "a cat", 20, 512);
        renamed["9"]["inputs"]["filename_prefix"] = json!("other");
        renamed["3"]["inputs"]["cfg"] = json!(4.0);
        assert_eq!(key(&renamed), base);
        // The order of the keys in the file does not matter either.
        let mut reversed = Map::new();
        for (id, node) in graph(1, "a cat", 20, 512).into_iter().rev() {
            reversed.insert(id, node);
        }
        assert_eq!(key(&reversed), base);
    }

    #[test]
    fn steps_sizes_models_and_links_change_the_shape() {
        let base = key(&graph(1, "a cat", 20, 512));
        assert_ne!(key(&graph(1, "a cat", 30, 512)), base);
        assert_ne!(key(&graph(1, "a cat", 20, 768)), base);
        let mut model = graph(1, "a cat", 20, 512);
        model["4"]["inputs"]["ckpt_name"] = json!("sdxl.safetensors");
        assert_ne!(key(&model), base);
        let mut batch = graph(1, "a cat", 20, 512);
        batch["5"]["inputs"]["batch_size"] = json!(4);
        assert_ne!(key(&batch), base);
        let mut relinked = graph(1, "a cat", 20, 512);
        relinked["3"]["inputs"]["negative"] = json!(["4", 1]);
        assert_ne!(key(&relinked), base);
        let mut class = graph(1, "a cat", 20, 512);
        class["3"]["class_type"] = json!("KSamplerAdvanced");
        assert_ne!(key(&class), base);
        let mut extra = graph(1, "a cat", 20, 512);
        extra.insert(
            "10".into(),
            json!({"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}),
        );
        assert_ne!(key(&extra), base);
    }

    #[test]
    fn the_key_is_stable_across_builds() {
        // A key is stored on disk: it must not change with the compiler or the platform.
        let nodes = json!({"1": {"class_type": "A", "inputs": {"steps": 2}}});
        let key = ShapeKey::of(nodes.as_object().expect("object"));
        assert_eq!(
            key.as_str(),
            format!("1n-{:016x}", fnv1a(b"\"1\":\"A\"(\"steps\"=2 )\n"))
        );
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
