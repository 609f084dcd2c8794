//! `POST /upload/image` and `/upload/mask` (protocol reference §4.7, §4.8): one local
//! file streamed from disk as the multipart `image` field, never held whole in memory.

use super::{ComfyClient, HttpError, Rejection, body_suffix};
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Chunks read from disk at a time: large enough to keep the socket busy, small enough
/// that a 1 GiB file costs a few hundred KiB of buffers.
const CHUNK: usize = 256 * 1024;

/// Which upload route a file goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadKind {
    /// `/upload/image`: any file for an upload input (pictures, but also video or audio).
    Image,
    /// `/upload/mask`: the server puts the uploaded picture's alpha channel into
    /// `original` (a file already on the server, one of ours or one its lists name) and
    /// stores the result under the upload's name.
    Mask { original: Uploaded },
}

impl UploadKind {
    fn route(&self) -> &'static str {
        match self {
            Self::Image => "upload/image",
            Self::Mask { .. } => "upload/mask",
        }
    }
}

/// A file in one of the server's folders, as an upload answer names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uploaded {
    /// The stored name: it can differ from the one sent (`cat (1).png` on a collision).
    pub name: String,
    /// As sent (`""` for the top of the folder).
    pub subfolder: String,
    /// `input`, `temp` or `output`.
    pub folder_type: String,
}

impl Uploaded {
    /// The value a `LoadImage`-like input takes for this file: `name` or
    /// `subfolder/name`, with ` [temp]` or ` [output]` for files outside the input folder.
    pub fn input_value(&self) -> String {
        let mut value = if self.subfolder.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.subfolder.trim_end_matches('/'), self.name)
        };
        if !self.folder_type.is_empty() && self.folder_type != "input" {
            value.push_str(&format!(" [{}]", self.folder_type));
        }
        value
    }

    /// The file an input value names (the reverse of [`input_value`](Self::input_value)):
    /// `sub/name.png [output]` is `name.png` in `sub` of the output folder.
    pub fn from_input_value(value: &str) -> Self {
        let (path, folder_type) = ["input", "output", "temp"]
            .iter()
            .find_map(|kind| {
                value
                    .strip_suffix(&format!(" [{kind}]"))
                    .map(|stem| (stem, *kind))
            })
            .unwrap_or((value, "input"));
        let (subfolder, name) = path.rsplit_once('/').unwrap_or(("", path));
        Self {
            name: name.to_owned(),
            subfolder: subfolder.to_owned(),
            folder_type: folder_type.to_owned(),
        }
    }

    fn from_answer(route: &str, body: &Value) -> Result<Self, HttpError> {
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| HttpError::Decode {
                route: route.to_owned(),
                reason: "expected an object with the stored `name`".to_owned(),
            })?;
        let field = |key: &str, default: &str| {
            body.get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        Ok(Self {
            name: name.to_owned(),
            subfolder: field("subfolder", ""),
            folder_type: field("type", "input"),
        })
    }
}

/// The name sent as the part's `filename`: the file's own name, with the characters
/// that would need escaping in a `Content-Disposition` header replaced, since servers
/// differ in how they undo escapes.
fn sent_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '"' | '\\' | '/') {
                '_'
            } else {
                c
            }
        })
        .collect();
    if name.is_empty() {
        "upload".to_owned()
    } else {
        name
    }
}

/// The content type the browser would send; the server does not look at it.
fn mime(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        _ => "application/octet-stream",
    }
}

/// A refusal of an upload: always labelled with its status, since ComfyUI answers its
/// own upload refusals with an empty body.
fn upload_refusal(file: &str, status: StatusCode, text: &str) -> Rejection {
    let label = format!(
        "HTTP {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    Rejection {
        kind: format!("http_{}", status.as_u16()),
        message: format!(
            "the server refused the upload of {file} ({}){}",
            label.trim_end(),
            body_suffix(text)
        ),
        details: String::new(),
        node_errors: Vec::new(),
        http_status: status.as_u16(),
    }
}

impl ComfyClient {
    /// Uploads the file at `path` into `subfolder` of the server's input folder
    /// (`type=input`, `overwrite=false`), streamed from disk. `progress(sent, total)` is
    /// called with the bytes of the file sent so far: `(0, total)` first, then once per
    /// chunk read (256 KiB), ending with `(total, total)` when the whole file went out.
    ///
    /// The answer names the stored file, which is what a prompt must use: the server
    /// renames a file whose name is taken by other content. Any 4xx is
    /// [`HttpError::UploadRefused`] naming the file; a file that cannot be read is
    /// [`HttpError::File`].
    pub async fn upload(
        &self,
        kind: UploadKind,
        path: &Path,
        subfolder: &str,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Uploaded, HttpError> {
        let shown = crate::path_text::display(path);
        let unreadable = |e: std::io::Error| HttpError::File {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let file = tokio::fs::File::open(path).await.map_err(unreadable)?;
        let total = file.metadata().await.map_err(unreadable)?.len();
        let route = kind.route();

        // The body stream runs inside the connection's task, so it reports each chunk
        // through a channel (a few thousand counts for a large file) and keeps a read
        // error for the answer.
        let (sent_tx, mut sent_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let read_error: Arc<Mutex<Option<String>>> = Arc::default();
        let read_error_in_stream = read_error.clone();
        let mut sent = 0u64;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, CHUNK).map(move |chunk| {
            match &chunk {
                Ok(bytes) => {
                    sent += bytes.len() as u64;
                    // The receiver is gone only when the upload was given up.
                    let _ = sent_tx.send(sent);
                }
                Err(e) => {
                    if let Ok(mut slot) = read_error_in_stream.lock() {
                        *slot = Some(e.to_string());
                    }
                }
            }
            chunk
        });
        let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), total)
            .file_name(sent_name(path))
            .mime_str(mime(path))
            .map_err(|e| self.unreachable(e))?;
        let mut form = Form::new()
            .part("image", part)
            .text("type", "input")
            .text("subfolder", subfolder.to_owned())
            .text("overwrite", "false");
        if let UploadKind::Mask { original } = &kind {
            let reference = json!({
                "filename": original.name,
                "subfolder": original.subfolder,
                "type": original.folder_type,
            });
            form = form.text("original_ref", reference.to_string());
        }
        // No overall timeout: a large file on a slow link takes as long as it takes;
        // the client's read timeout still catches a server that stops answering.
        let request = self.http.post(self.server.route(route)).multipart(form);

        progress(0, total);
        let send = self.send(route, request);
        tokio::pin!(send);
        let mut counting = true;
        let response = loop {
            tokio::select! {
                response = &mut send => break response,
                count = sent_rx.recv(), if counting => match count {
                    Some(count) => progress(count, total),
                    // The body is gone (sent or dropped): only the answer is left.
                    None => counting = false,
                },
            }
        };
        while let Ok(count) = sent_rx.try_recv() {
            progress(count, total);
        }
        let read_failure = read_error.lock().ok().and_then(|mut slot| slot.take());
        if let Some(reason) = read_failure {
            return Err(HttpError::File {
                path: shown,
                reason,
            });
        }
        let response = response?;
        let status = response.status();
        if status.is_client_error() {
            let text = response.text().await.unwrap_or_default();
            return Err(HttpError::UploadRefused {
                rejection: Box::new(upload_refusal(&shown, status, &text)),
                file: shown,
            });
        }
        let body = self.json(route, response).await?;
        Uploaded::from_answer(route, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_values_join_the_subfolder_and_annotate_other_folders() {
        let file = |name: &str, sub: &str, kind: &str| Uploaded {
            name: name.into(),
            subfolder: sub.into(),
            folder_type: kind.into(),
        };
        assert_eq!(file("a.png", "", "input").input_value(), "a.png");
        assert_eq!(
            file("a (1).png", "x/y", "input").input_value(),
            "x/y/a (1).png"
        );
        assert_eq!(file("a.png", "", "output").input_value(), "a.png [output]");
        assert_eq!(file("a.png", "t", "temp").input_value(), "t/a.png [temp]");
        for value in ["a.png", "x/y/a (1).png", "a.png [output]", "t/a.png [temp]"] {
            assert_eq!(Uploaded::from_input_value(value).input_value(), value);
        }
        assert_eq!(
            Uploaded::from_input_value("s/b.png [output]"),
            file("b.png", "s", "output")
        );
    }

    #[test]
    fn answers_without_a_name_are_refused_and_defaults_filled() {
        assert!(Uploaded::from_answer("upload/image", &json!({"subfolder": ""})).is_err());
        let up = Uploaded::from_answer("upload/image", &json!({"name": "a.png"})).expect("ok");
        assert_eq!(
            (up.subfolder.as_str(), up.folder_type.as_str()),
            ("", "input")
        );
    }

    #[test]
    fn sent_names_need_no_escaping() {
        assert_eq!(sent_name(Path::new("/tmp/a\"b\\c.png")), "a_b_c.png");
        assert_eq!(sent_name(Path::new("/tmp/ünï cat.png")), "ünï cat.png");
    }

    #[test]
    fn refusals_name_the_file_and_status() {
        let r = upload_refusal("./cat.png", StatusCode::PAYLOAD_TOO_LARGE, "too big");
        assert_eq!(
            r.message,
            "the server refused the upload of ./cat.png (HTTP 413 Payload Too Large): too big"
        );
        assert_eq!((r.kind.as_str(), r.http_status), ("http_413", 413));
        let bare = upload_refusal("a.png", StatusCode::BAD_REQUEST, "");
        assert_eq!(
            bare.message,
            "the server refused the upload of a.png (HTTP 400 Bad Request)"
        );
    }
}
