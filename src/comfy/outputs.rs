//! UI output objects (`executed.output`, history `outputs`): lists of file entries
//! (`images`, `gifs`, `audio`, `video`, ...) and text, read from an open-ended shape.

use serde::Serialize;
use serde_json::Value;

/// A file the server produced, as `/view` wants it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FileRef {
    /// The output key it came under (`images`, `gifs`, `audio`, ...).
    pub media: String,
    pub filename: String,
    /// Passed back to `/view` verbatim; may use the server's path separator.
    pub subfolder: String,
    /// `output`, `temp` or `input`.
    #[serde(rename = "type")]
    pub folder_type: String,
}

/// What one node showed: its files and its text.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NodeOutput {
    pub files: Vec<FileRef>,
    pub texts: Vec<String>,
}

impl NodeOutput {
    /// Reads an output object. Anything that is neither a file entry nor text is skipped
    /// (`animated: [true]`, latents, custom scalars).
    pub fn from_value(value: &Value) -> Self {
        let mut out = Self::default();
        let Some(object) = value.as_object() else {
            return out;
        };
        for (media, items) in object {
            let Some(items) = items.as_array() else {
                continue;
            };
            for item in items {
                match item {
                    Value::Object(entry) => {
                        if let Some(filename) = entry.get("filename").and_then(Value::as_str) {
                            out.files.push(FileRef {
                                media: media.clone(),
                                filename: filename.to_owned(),
                                subfolder: entry
                                    .get("subfolder")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                                folder_type: entry
                                    .get("type")
                                    .and_then(Value::as_str)
                                    .unwrap_or("output")
                                    .to_owned(),
                            });
                        }
                    }
                    Value::String(text) if media == "text" => out.texts.push(text.clone()),
                    _ => {}
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.texts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn files_of_every_media_kind_and_text_are_read() {
        let out = NodeOutput::from_value(&json!({
            "images": [{"filename": "a.png", "subfolder": "", "type": "output"}],
            "gifs": [{"filename": "b.webp", "subfolder": "anim", "type": "temp"}],
            "animated": [true],
            "text": ["hello"],
        }));
        assert_eq!(out.files.len(), 2);
        assert_eq!(out.files[1].media, "gifs");
        assert_eq!(out.files[1].subfolder, "anim");
        assert_eq!(out.texts, vec!["hello".to_owned()]);
    }

    #[test]
    fn null_output_is_empty() {
        assert!(NodeOutput::from_value(&Value::Null).is_empty());
    }
}
