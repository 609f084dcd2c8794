//! UI outputs of output nodes: SaveImage/PreviewImage write real PNG files, ProbeText
//! returns its lines.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::config::Faults;
use super::files;
use super::images;
use super::nodes::{self, Args, ImageSpec};
use super::pyconv;
use super::state::{Core, QueueItem, lock};

/// The `executed.output` of a node (`None` for nodes without UI output). An `Err` is
/// the message of the exception ComfyUI would raise (e.g. saving outside the folder).
pub async fn ui_output(
    core: &Core,
    class: &str,
    args: &Args,
    faults: &Faults,
    item: &QueueItem,
) -> Result<Option<Value>, String> {
    match class {
        "SaveImage" => {
            let prefix = args.str("filename_prefix").unwrap_or("ComfyUI").to_owned();
            let spec = args
                .image("images")
                .unwrap_or(ImageSpec::pattern(64, 64, 1, 0));
            let text = png_text(item);
            let (entries, first) =
                save(core.dirs.output.clone(), prefix, spec, "output", text).await?;
            if faults.hostile_filenames.is_empty() {
                return Ok(Some(json!({"images": entries})));
            }
            // The files are written normally; only the reported names are hostile, and
            // /view serves these bytes for them.
            *lock(&core.hostile_bytes) = first;
            let hostile: Vec<Value> = faults
                .hostile_filenames
                .iter()
                .map(|n| json!({"filename": n, "subfolder": "", "type": "output"}))
                .collect();
            Ok(Some(json!({"images": hostile})))
        }
        "PreviewImage" => {
            let suffix: String = (0..5)
                .map(|_| char::from(b'a' + rand::random_range(0..26u8)))
                .collect();
            let spec = args
                .image("images")
                .unwrap_or(ImageSpec::pattern(64, 64, 1, 0));
            let prefix = format!("ComfyUI_temp_{suffix}");
            // PreviewImage writes the same metadata as SaveImage.
            let text = png_text(item);
            let (entries, _) = save(core.dirs.temp.clone(), prefix, spec, "temp", text).await?;
            Ok(Some(json!({"images": entries})))
        }
        "ProbeText" => Ok(Some(json!({"text": nodes::probe_text_lines(args)}))),
        _ => Ok(None),
    }
}

/// The text chunks ComfyUI's SaveImage writes: `prompt` (what ran), then each key of
/// `extra_data.extra_pnginfo` (the web UI sends `workflow`), as Python's `json.dumps`.
pub fn png_text(item: &QueueItem) -> Vec<(String, String)> {
    let mut text = vec![(
        "prompt".to_owned(),
        pyconv::json_dumps(&Value::Object(item.prompt.clone())),
    )];
    if let Some(extra) = item
        .extra_data
        .get("extra_pnginfo")
        .and_then(Value::as_object)
    {
        text.extend(
            extra
                .iter()
                .map(|(key, value)| (key.clone(), pyconv::json_dumps(value))),
        );
    }
    text
}

/// Write one PNG per image of the batch with ComfyUI's naming; returns the file entries
/// and the bytes of the first image.
async fn save(
    root: PathBuf,
    prefix: String,
    spec: ImageSpec,
    kind: &'static str,
    text: Vec<(String, String)>,
) -> Result<(Vec<Value>, Vec<u8>), String> {
    // Encoding and writing are blocking work; keep them off the async threads.
    let job = tokio::task::spawn_blocking(move || {
        let (folder, base, counter, sub) = files::save_target(&root, &prefix)?;
        let mut entries = Vec::new();
        let mut first = Vec::new();
        for i in 0..u64::from(spec.batch.max(1)) {
            let name = files::save_name(&base, counter + i);
            let bytes = images::saved_png(
                spec.width,
                spec.height,
                spec.seed.wrapping_add(i),
                spec.color,
                &text,
            );
            std::fs::write(folder.join(&name), &bytes).map_err(|e| e.to_string())?;
            if i == 0 {
                first = bytes;
            }
            entries.push(json!({"filename": name, "subfolder": sub, "type": kind}));
        }
        Ok((entries, first))
    });
    job.await.map_err(|e| e.to_string())?
}
