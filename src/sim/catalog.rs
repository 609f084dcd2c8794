//! The node catalogue: real `/object_info` definitions (a subset) plus fake model names.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// Definitions copied from a real ComfyUI 0.3.64 `/object_info` (probe nodes included);
/// the empty `ckpt_name` list was filled with fake names, the `LoadImage` list is filled
/// at run time from the input directory.
const OBJECT_INFO: &str = include_str!("../../assets/sim/object_info.json");

/// Checkpoint names the simulator pretends to have (the recording server had none).
pub const FAKE_CHECKPOINTS: &[&str] = &[
    "sd15-demo.safetensors",
    "sdxl-base-demo.safetensors",
    "flux-schnell-demo.safetensors",
];

/// LoRA files the simulator pretends to have, one in a subfolder (as the server lists it).
pub const FAKE_LORAS: &[&str] = &[
    "detail-tweaker-demo.safetensors",
    "styles/ink-demo.safetensors",
];

/// Textual-inversion embeddings the simulator pretends to have (names, no extension).
pub const FAKE_EMBEDDINGS: &[&str] = &["easynegative-demo", "watercolor-demo"];

/// Model folder kinds, as the recording server listed them for `GET /models`.
pub const MODEL_FOLDERS: &[&str] = &[
    "checkpoints",
    "configs",
    "loras",
    "vae",
    "text_encoders",
    "diffusion_models",
    "clip_vision",
    "style_models",
    "embeddings",
    "diffusers",
    "vae_approx",
    "controlnet",
    "gligen",
    "upscale_models",
    "custom_nodes",
    "hypernetworks",
    "photomaker",
    "classifiers",
    "model_patches",
    "audio_encoders",
];

/// The parsed catalogue, shared by every instance.
pub fn object_info() -> &'static Map<String, Value> {
    static PARSED: OnceLock<Map<String, Value>> = OnceLock::new();
    PARSED.get_or_init(|| {
        // The asset is compiled in and checked by a unit test, so a parse failure can
        // only come from a broken build; an empty catalogue keeps the server up anyway.
        serde_json::from_str(OBJECT_INFO).unwrap_or_default()
    })
}

/// One node class's definition.
pub fn class(name: &str) -> Option<&'static Value> {
    object_info().get(name)
}

pub fn is_output_node(class_type: &str) -> bool {
    class(class_type)
        .and_then(|c| c.get("output_node"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The output type names (`RETURN_TYPES`) of a class.
pub fn output_types(class_type: &str) -> Vec<String> {
    class(class_type)
        .and_then(|c| c.get("output"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| t.as_str().unwrap_or("*").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Input specs of one category (`required`, `optional`, `hidden`), in declaration order.
pub fn inputs(class_type: &str, category: &str) -> Vec<(String, Value)> {
    class(class_type)
        .and_then(|c| c.get("input"))
        .and_then(|i| i.get(category))
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Whether the class takes the hidden `UNIQUE_ID` input: ComfyUI then keys its cache
/// on the node id too, so the same inputs under another id are not a cache hit.
pub fn wants_unique_id(class_type: &str) -> bool {
    inputs(class_type, "hidden")
        .iter()
        .any(|(_, v)| v.as_str() == Some("UNIQUE_ID"))
}

/// The classes whose `image` choices are the input folder's files (ComfyUI lists the
/// folder again on every `/object_info`, so a fresh upload is offered at once).
pub const INPUT_FILE_CLASSES: &[&str] = &["LoadImage", "LoadImageMask"];

/// The catalogue as served, with the input-file choices set to the given input files.
pub fn object_info_with_inputs(input_files: &[String]) -> Map<String, Value> {
    let mut all = object_info().clone();
    for class in INPUT_FILE_CLASSES {
        if let Some(spec) = all
            .get_mut(*class)
            .and_then(|c| c.pointer_mut("/input/required/image/0"))
        {
            *spec = Value::from(input_files.to_vec());
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_parses_and_has_the_core_nodes() {
        for name in [
            "CheckpointLoaderSimple",
            "CLIPTextEncode",
            "EmptyLatentImage",
            "KSampler",
            "KSamplerAdvanced",
            "VAEDecode",
            "VAEEncode",
            "LoadImage",
            "LoadImageMask",
            "SaveImage",
            "PreviewImage",
            "EmptyImage",
            "ImageScale",
            "ProbeSteps",
            "ProbeSleep",
            "ProbeText",
            "ProbeBatch",
        ] {
            assert!(class(name).is_some(), "{name} missing");
        }
        assert!(is_output_node("SaveImage"));
        assert!(!is_output_node("KSampler"));
        assert_eq!(
            output_types("CheckpointLoaderSimple"),
            ["MODEL", "CLIP", "VAE"]
        );
        assert!(wants_unique_id("ProbeSteps"));
        assert!(!wants_unique_id("SaveImage"));
        let seed_max = class("KSampler")
            .and_then(|c| c.pointer("/input/required/seed/1/max"))
            .and_then(Value::as_u64);
        assert_eq!(seed_max, Some(u64::MAX));
    }
}
