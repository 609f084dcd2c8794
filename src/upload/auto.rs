//! The automatic upload: an upload input (`LoadImage`'s `image`, any `*_upload` combo
//! of the input folder) whose value is a file on local disk that the server does not
//! list is uploaded, and a line says so. A listed name is left alone, even when a local
//! file has it too: the workflow meant the server's.

use super::plan::{UploadAs, Wanted};
use crate::comfy::NodeId;
use crate::comfy::object_info::{InputType, ObjectInfo};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// One input whose value is a local file to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoUpload {
    pub node: NodeId,
    pub class: String,
    pub input: String,
    /// The value as the workflow has it (`./cat.png`).
    pub value: String,
    /// The file it names (relative values are taken from the current directory).
    pub path: PathBuf,
}

impl AutoUpload {
    /// The line that tells the user: `uploading ./cat.png for node 10 (LoadImage)`.
    pub fn line(&self) -> String {
        let shown = if Path::new(&self.value).is_relative() && !self.value.starts_with('.') {
            format!("./{}", self.value)
        } else {
            self.value.clone()
        };
        format!(
            "uploading {} for node {} ({})",
            crate::text::sanitize(&shown),
            crate::text::sanitize(self.node.as_str()),
            crate::text::sanitize(&self.class)
        )
    }

    /// What the plan needs for this input.
    pub fn wanted(&self) -> Wanted {
        Wanted {
            node: self.node.clone(),
            input: self.input.clone(),
            path: self.path.clone(),
            upload_as: UploadAs::Image,
        }
    }

    /// Whether this is the input an `--input` already gives a file for.
    pub fn is_for(&self, node: &NodeId, input: &str) -> bool {
        &self.node == node && self.input == input
    }
}

/// The upload inputs of `prompt` that name a local file (from `cwd` when relative) the
/// catalogue does not list, in the prompt's node order.
pub fn detect(prompt: &Map<String, Value>, catalog: &ObjectInfo, cwd: &Path) -> Vec<AutoUpload> {
    detect_with(prompt, catalog, cwd, Path::is_file)
}

/// [`detect`] with the file check passed in.
pub fn detect_with(
    prompt: &Map<String, Value>,
    catalog: &ObjectInfo,
    cwd: &Path,
    is_file: impl Fn(&Path) -> bool,
) -> Vec<AutoUpload> {
    let mut found = Vec::new();
    for (id, node) in prompt {
        let Some(class) = node.get("class_type").and_then(Value::as_str) else {
            continue;
        };
        let Some(spec) = catalog.get(class) else {
            continue;
        };
        let Some(inputs) = node.get("inputs").and_then(Value::as_object) else {
            continue;
        };
        for input in &spec.inputs {
            let InputType::Combo(combo) = &input.kind else {
                continue;
            };
            // Only inputs that name a file of the input folder: not LoadImageOutput's
            // output folder, not a plain list of choices.
            let folder = input
                .options
                .raw
                .get("image_folder")
                .and_then(Value::as_str)
                .unwrap_or("input");
            if input.options.upload.is_none() || folder != "input" {
                continue;
            }
            let Some(value) = inputs.get(&input.name).and_then(Value::as_str) else {
                continue;
            };
            let annotated = [" [input]", " [output]", " [temp]"]
                .iter()
                .any(|a| value.ends_with(a));
            let listed = combo.choices.iter().any(|c| c.as_str() == Some(value));
            if value.is_empty() || annotated || listed {
                continue;
            }
            let path = cwd.join(value);
            if is_file(&path) {
                found.push(AutoUpload {
                    node: NodeId::from(id.as_str()),
                    class: class.to_owned(),
                    input: input.name.clone(),
                    value: value.to_owned(),
                    path,
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> ObjectInfo {
        ObjectInfo::from_value(
            &json!({
                "LoadImage": {"input": {"required": {"image": [["listed.png"], {"image_upload": true}]}}},
                "LoadImageOutput": {"input": {"required": {"image": ["COMBO", {"image_upload": true, "image_folder": "output", "remote": {"route": "/internal/files/output"}}]}}},
                "CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [["a.safetensors"]]}}},
            }),
            "catalog",
        )
        .expect("catalog")
    }

    #[test]
    fn local_files_the_server_does_not_list_are_found() {
        let prompt = json!({
            "10": {"class_type": "LoadImage", "inputs": {"image": "cat.png"}},
            "11": {"class_type": "LoadImage", "inputs": {"image": "listed.png"}},
            "12": {"class_type": "LoadImage", "inputs": {"image": "/abs/dog.png"}},
            "13": {"class_type": "LoadImage", "inputs": {"image": "nowhere.png"}},
            "14": {"class_type": "LoadImageOutput", "inputs": {"image": "cat.png"}},
            "15": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "cat.png"}},
            "16": {"class_type": "LoadImage", "inputs": {"image": "cat.png [output]"}},
            "17": {"class_type": "LoadImage", "inputs": {"image": ["10", 0]}},
        });
        let local = ["/work/cat.png", "/work/listed.png", "/abs/dog.png"];
        let found = detect_with(
            prompt.as_object().expect("object"),
            &catalog(),
            Path::new("/work"),
            |p| local.iter().any(|l| Path::new(l) == p),
        );
        let nodes: Vec<&str> = found.iter().map(|f| f.node.as_str()).collect();
        assert_eq!(nodes, ["10", "12"]);
        assert_eq!(found[0].path, PathBuf::from("/work/cat.png"));
        assert_eq!(
            found[0].line(),
            "uploading ./cat.png for node 10 (LoadImage)"
        );
        assert_eq!(
            found[1].line(),
            "uploading /abs/dog.png for node 12 (LoadImage)"
        );
        assert!(found[0].is_for(&"10".into(), "image"));
        assert_eq!(found[0].wanted().upload_as, UploadAs::Image);
    }

    #[test]
    fn lines_are_sanitised() {
        let auto = AutoUpload {
            node: "1".into(),
            class: "Load\u{1b}[2JImage".into(),
            input: "image".into(),
            value: "./a\u{7}.png".into(),
            path: PathBuf::from("a.png"),
        };
        assert_eq!(auto.line(), "uploading ./a.png for node 1 (LoadImage)");
    }
}
