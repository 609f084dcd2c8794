//! Sending a plan's files, one after the other (a mask needs the stored name of the
//! picture it goes on), and putting a stored name into a prompt.

use super::plan::{Plan, Upload};
use crate::comfy::NodeId;
use crate::comfy::http::{ComfyClient, HttpError, Uploaded};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// How far the uploads are: upload `index` of `count` has sent `sent` of its `total`
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    pub index: usize,
    pub count: usize,
    pub path: &'a Path,
    pub sent: u64,
    pub total: u64,
}

/// An upload that failed; the uploads before it are on the server.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct UploadError {
    pub path: PathBuf,
    pub source: HttpError,
}

impl UploadError {
    /// A refusal is a rejection (3), a file that could not be read a local problem (2),
    /// anything else a server that could not be used (4).
    pub fn exit_code(&self) -> i32 {
        match self.source {
            HttpError::UploadRefused { .. } | HttpError::Rejected(_) => crate::exit::REJECTED,
            HttpError::File { .. } => crate::exit::USAGE,
            _ => crate::exit::UNREACHABLE,
        }
    }
}

/// Uploads every file of `plan` in order; `uploaded[i]` is what the server stored for
/// `plan.uploads[i]`. Stops at the first failure.
pub async fn upload_all(
    client: &ComfyClient,
    plan: &Plan,
    mut progress: impl FnMut(Progress<'_>),
) -> Result<Vec<Uploaded>, UploadError> {
    let count = plan.uploads.len();
    let mut uploaded = Vec::with_capacity(count);
    for (index, upload) in plan.uploads.iter().enumerate() {
        let stored = upload_one(client, plan, upload, &uploaded, |sent, total| {
            progress(Progress {
                index,
                count,
                path: &upload.path,
                sent,
                total,
            })
        })
        .await
        .map_err(|source| UploadError {
            path: upload.path.clone(),
            source,
        })?;
        uploaded.push(stored);
    }
    Ok(uploaded)
}

async fn upload_one(
    client: &ComfyClient,
    plan: &Plan,
    upload: &Upload,
    earlier: &[Uploaded],
    progress: impl FnMut(u64, u64),
) -> Result<Uploaded, HttpError> {
    // A plan puts a mask's picture before it, so this only fails for a hand-made plan.
    let kind = upload.kind_with(earlier).ok_or_else(|| HttpError::File {
        path: crate::path_text::display(&upload.path),
        reason: "the picture this mask goes on was not uploaded before it".to_owned(),
    })?;
    client
        .upload(kind, &upload.path, &plan.subfolder, progress)
        .await
}

/// Sets `node`'s `input` in `prompt` to the value that names `uploaded`
/// (`subfolder/name`, see [`Uploaded::input_value`]). False when the prompt has no such
/// node; the input is added when the node lacks it.
pub fn apply(
    prompt: &mut Map<String, Value>,
    node: &NodeId,
    input: &str,
    uploaded: &Uploaded,
) -> bool {
    let Some(node) = prompt.get_mut(node.as_str()).and_then(Value::as_object_mut) else {
        return false;
    };
    let inputs = node
        .entry("inputs")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(inputs) = inputs.as_object_mut() else {
        return false;
    };
    inputs.insert(input.to_owned(), Value::String(uploaded.input_value()));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn apply_writes_the_stored_name() {
        let mut prompt = json!({"10": {"class_type": "LoadImage", "inputs": {"image": "./cat.png"}}, "11": {"class_type": "X"}})
            .as_object()
            .cloned()
            .expect("object");
        let stored = Uploaded {
            name: "cat (1).png".into(),
            subfolder: "batch".into(),
            folder_type: "input".into(),
        };
        assert!(apply(&mut prompt, &"10".into(), "image", &stored));
        assert_eq!(prompt["10"]["inputs"]["image"], "batch/cat (1).png");
        assert!(apply(&mut prompt, &"11".into(), "image", &stored));
        assert_eq!(prompt["11"]["inputs"]["image"], "batch/cat (1).png");
        assert!(!apply(&mut prompt, &"99".into(), "image", &stored));
    }
}
