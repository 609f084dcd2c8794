//! Where a workflow comes from: a JSON file, a picture that carries one (PNG, WebP),
//! stdin (`-`), or a workflow saved on the server (`@NAME`). This gives the raw JSON and
//! names its origin; [`api_workflow`] turns it into the prompt to submit.

pub mod limit;
pub mod picture;
pub mod saved;

use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::comfy::http::HttpError;
use crate::comfy::workflow::WorkflowError;
use crate::comfy::{ComfyClient, Workflow};
use limit::{JSON_LIMIT, Oversize, PICTURE_LIMIT};
use picture::Kind;

/// What the `run` argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    File(PathBuf),
    /// `-`
    Stdin,
    /// `@NAME`: a workflow saved on the server (the name as given, without the `@`).
    Saved(String),
}

impl Spec {
    /// `-` is stdin and `@NAME` a saved workflow; anything else is a path (a file whose
    /// name starts with `@` is reached as `./@name.json`).
    pub fn parse(arg: &Path) -> Self {
        match arg.to_str() {
            Some("-") => Self::Stdin,
            Some(text) if text.starts_with('@') => Self::Saved(text[1..].to_owned()),
            _ => Self::File(arg.to_owned()),
        }
    }
}

/// Which of a picture's workflows to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Part {
    /// `prompt`: exactly what ran (the default).
    #[default]
    Prompt,
    /// `workflow`: the editable graph (`--from-workflow`), which needs converting.
    Workflow,
}

/// A workflow as read, before any check.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The JSON as found: an API prompt, a `POST /prompt` body, or a UI-format graph.
    pub value: Value,
    /// Where it came from, for messages: a path, `stdin`, `@name`, `out.png (prompt)`.
    pub origin: String,
    /// The editable UI graph, when known (a UI-format source, or a picture's `workflow`
    /// entry); a run can send it along as `extra_data.extra_pnginfo.workflow`.
    pub ui_workflow: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read workflow {origin}: {reason}")]
    Read { origin: String, reason: String },
    #[error("workflow {origin} {over}")]
    TooLarge { origin: String, over: Oversize },
    #[error("workflow {origin} is not valid JSON: {reason}")]
    NotJson { origin: String, reason: String },
    #[error("picture {origin}: {reason}")]
    Picture { origin: String, reason: String },
    #[error("picture {origin} carries no workflow: {detail}")]
    NoWorkflow { origin: String, detail: String },
    #[error(
        "picture {origin} carries no `workflow` (the editable graph), only the `prompt` that ran; run it without --from-workflow"
    )]
    NoEditableGraph { origin: String },
    #[error(
        "{origin} is a {format} picture; ComfyUI saves its workflow only in PNG and WebP pictures"
    )]
    Unsupported {
        origin: String,
        format: &'static str,
    },
    #[error(transparent)]
    Name(#[from] saved::NameError),
    #[error("the server has no saved workflow `@{name}`; {}", unknown_hint(.suggestions, *.listed))]
    UnknownSaved {
        name: String,
        suggestions: Vec<String>,
        /// How many saved workflows the server has.
        listed: usize,
    },
    #[error("cannot fetch saved workflow @{name}: {source}")]
    Server {
        name: String,
        source: Box<HttpError>,
    },
    #[error("@{0} names a workflow saved on the server; it is fetched by `run`")]
    NeedsServer(String),
}

fn unknown_hint(suggestions: &[String], listed: usize) -> String {
    if suggestions.is_empty() {
        let count = match listed {
            0 => "no saved workflows".to_owned(),
            1 => "1 saved workflow".to_owned(),
            n => format!("{n} saved workflows"),
        };
        format!("it has {count} (`comfy-tui workflows` lists them)")
    } else {
        let names: Vec<String> = suggestions.iter().map(|s| format!("@{s}")).collect();
        format!("did you mean {}?", names.join(", "))
    }
}

impl SourceError {
    /// Exit code 4 when the server could not be asked; every other problem is local
    /// input (2).
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Server { source, .. } if matches!(**source, HttpError::Unreachable { .. }) => {
                crate::exit::UNREACHABLE
            }
            _ => crate::exit::USAGE,
        }
    }
}

/// Reads a local source (a file or stdin); `@NAME` needs the server, see [`load`].
pub fn read_local(spec: &Spec, part: Part) -> Result<Loaded, SourceError> {
    match spec {
        Spec::File(path) => read_file(path, part),
        Spec::Stdin => read_stream(std::io::stdin().lock(), "stdin", part),
        Spec::Saved(name) => Err(SourceError::NeedsServer(name.clone())),
    }
}

/// Reads any source; `@NAME` is fetched from `client`'s server.
pub async fn load(spec: &Spec, part: Part, client: &ComfyClient) -> Result<Loaded, SourceError> {
    match spec {
        Spec::Saved(name) => fetch_saved(name, part, client).await,
        // Local reads happen once, before anything else runs; they need no task.
        local => read_local(local, part),
    }
}

/// Reads a file: a picture is streamed (only its text is kept), JSON is refused over
/// [`JSON_LIMIT`] from the file's size before it is read.
pub fn read_file(path: &Path, part: Part) -> Result<Loaded, SourceError> {
    let origin = path.display().to_string();
    let read_error = |e: std::io::Error| SourceError::Read {
        origin: origin.clone(),
        reason: e.to_string(),
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    if metadata.is_dir() {
        return Err(SourceError::Read {
            origin,
            reason: "it is a folder, not a file".to_owned(),
        });
    }
    let mut head = Vec::with_capacity(picture::SNIFF_LEN);
    (&mut file)
        .take(picture::SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .map_err(read_error)?;
    let kind = picture::sniff(&head);
    let too_large = |over| SourceError::TooLarge {
        origin: origin.clone(),
        over,
    };
    match kind {
        Some(Kind::Png | Kind::Webp) => {
            limit::check(metadata.len(), PICTURE_LIMIT).map_err(too_large)?;
            file.seek(SeekFrom::Start(0)).map_err(read_error)?;
            from_picture(BufReader::new(file), kind, &origin, part)
        }
        Some(Kind::Other(format)) => Err(SourceError::Unsupported { origin, format }),
        None => {
            limit::check(metadata.len(), JSON_LIMIT).map_err(too_large)?;
            // Files whose size says nothing (pipes, /proc) are still cut at the limit.
            limit::read_capped(file, &mut head, JSON_LIMIT)
                .map_err(read_error)?
                .map_err(too_large)?;
            from_json_bytes(&head, &origin)
        }
    }
}

/// Reads a stream (stdin) in any of the formats, never holding more than the limit of
/// the format its first bytes announce.
pub fn read_stream(mut reader: impl Read, origin: &str, part: Part) -> Result<Loaded, SourceError> {
    let read_error = |e: std::io::Error| SourceError::Read {
        origin: origin.to_owned(),
        reason: e.to_string(),
    };
    let mut bytes = Vec::new();
    (&mut reader)
        .take(picture::SNIFF_LEN as u64)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let kind = picture::sniff(&bytes);
    if let Some(Kind::Other(format)) = kind {
        return Err(SourceError::Unsupported {
            origin: origin.to_owned(),
            format,
        });
    }
    let cap = if kind.is_some() {
        PICTURE_LIMIT
    } else {
        JSON_LIMIT
    };
    limit::read_capped(reader, &mut bytes, cap)
        .map_err(read_error)?
        .map_err(|over| SourceError::TooLarge {
            origin: origin.to_owned(),
            over,
        })?;
    match kind {
        Some(_) => from_picture(Cursor::new(bytes), kind, origin, part),
        None => from_json_bytes(&bytes, origin),
    }
}

/// JSON text, UTF-8 (a leading byte-order mark is allowed), Python's `NaN` tolerated.
fn from_json_bytes(bytes: &[u8], origin: &str) -> Result<Loaded, SourceError> {
    let not_json = |reason: String| SourceError::NotJson {
        origin: origin.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        not_json(format!(
            "it is not UTF-8 text (byte {} is not)",
            e.valid_up_to()
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value = crate::comfy::lenient::from_str(text).map_err(|e| not_json(e.to_string()))?;
    let ui_workflow = crate::convert::is_ui_format(&value).then(|| value.clone());
    Ok(Loaded {
        value,
        origin: origin.to_owned(),
        ui_workflow,
    })
}

fn from_picture(
    reader: impl std::io::BufRead + Seek,
    kind: Option<Kind>,
    origin: &str,
    part: Part,
) -> Result<Loaded, SourceError> {
    let (entries, entry_kind, entry_kinds) = match kind {
        Some(Kind::Webp) => (picture::webp_entries(reader), "EXIF entry", "EXIF entries"),
        _ => (picture::png_entries(reader), "text chunk", "text chunks"),
    };
    let entries = entries.map_err(|e| SourceError::Picture {
        origin: origin.to_owned(),
        reason: e.0,
    })?;
    let text = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let parse = |key: &str, text: &str| {
        crate::comfy::lenient::from_str(text).map_err(|e| SourceError::Picture {
            origin: origin.to_owned(),
            reason: format!("its `{key}` {entry_kind} is not valid JSON: {e}"),
        })
    };
    let found = |which: &str, value: Value, ui_workflow| Loaded {
        value,
        origin: format!("{origin} ({which})"),
        ui_workflow,
    };
    match (part, text("prompt"), text("workflow")) {
        (Part::Prompt, Some(prompt), workflow) => {
            // A damaged editable graph does not stop a re-run of what ran.
            let ui = workflow.and_then(|w| parse("workflow", w).ok());
            Ok(found("prompt", parse("prompt", prompt)?, ui))
        }
        // A picture with only the editable graph (e.g. exported from the web UI) can
        // still run: that graph is all there is.
        (_, _, Some(workflow)) => {
            let graph = parse("workflow", workflow)?;
            Ok(found("workflow", graph.clone(), Some(graph)))
        }
        (Part::Workflow, Some(_), None) => Err(SourceError::NoEditableGraph {
            origin: origin.to_owned(),
        }),
        (_, None, None) => {
            let keys: Vec<String> = entries
                .iter()
                .map(|(k, _)| format!("`{}`", crate::text::sanitize(k)))
                .collect();
            let detail = if keys.is_empty() {
                format!(
                    "it has no {entry_kinds} at all (was it saved with --disable-metadata, or re-encoded?)"
                )
            } else {
                format!(
                    "it has no `prompt` or `workflow` {entry_kind}, only {}",
                    keys.join(", ")
                )
            };
            Err(SourceError::NoWorkflow {
                origin: origin.to_owned(),
                detail,
            })
        }
    }
}

/// Fetches `@NAME` from the server's saved workflows; an unknown name lists the closest.
async fn fetch_saved(name: &str, part: Part, client: &ComfyClient) -> Result<Loaded, SourceError> {
    let file = saved::file_name(name)?;
    let display = saved::display_name(&file).to_owned();
    let server_error = |source| SourceError::Server {
        name: display.clone(),
        source: Box::new(source),
    };
    let path = format!("{}/{file}", saved::FOLDER);
    let Some(bytes) = client
        .userdata_file(&path, JSON_LIMIT)
        .await
        .map_err(server_error)?
    else {
        let listed = saved::workflows(
            client
                .list_userdata(saved::FOLDER)
                .await
                .map_err(server_error)?,
        );
        let names: Vec<&str> = listed.iter().map(|f| f.path.as_str()).collect();
        return Err(SourceError::UnknownSaved {
            name: crate::text::sanitize(&display).into_owned(),
            suggestions: saved::closest(&file, &names, 5)
                .into_iter()
                .map(|s| crate::text::sanitize(&s).into_owned())
                .collect(),
            listed: names.len(),
        });
    };
    // A saved workflow is JSON, but sniffing costs nothing and keeps every format alike.
    read_stream(&bytes[..], &format!("@{display}"), part)
}

/// The API prompt a loaded source runs, with every check [`Workflow`] makes. A
/// UI-format graph is refused here (with a hint to export it) until it is converted:
/// this is the one place a converter goes in.
pub fn api_workflow(loaded: &Loaded) -> Result<Workflow, WorkflowError> {
    Workflow::from_value(loaded.value.clone(), &loaded.origin)
}

#[cfg(test)]
mod tests;
