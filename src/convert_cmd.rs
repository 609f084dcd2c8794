//! `comfy-tui convert`: read a workflow, convert it against the server's (or a saved)
//! `/object_info`, and print the bare API prompt. Picks and warnings go to stderr, so
//! stdout can be piped straight into a file or another tool.

use crate::cli::ConvertArgs;
use crate::comfy::http::{ComfyClient, parse_headers};
use crate::comfy::{ServerUrl, lenient};
use crate::convert::{ConvertOptions, convert, is_ui_format};
use crate::exit;
use crate::text::sanitize;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;

/// Why `convert` stopped, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum ConvertCmdError {
    /// Local input (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The server could not be asked (exit 4).
    #[error("{0}")]
    Server(String),
}

impl ConvertCmdError {
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => exit::USAGE,
            Self::Server(_) => exit::UNREACHABLE,
        }
    }
}

fn usage(message: impl Into<String>) -> ConvertCmdError {
    ConvertCmdError::Usage(message.into())
}

/// Reads a JSON file (or stdin for `-`), accepting ComfyUI's `NaN`/`Infinity` tokens.
pub fn read_json(path: &Path, what: &str) -> Result<Value, ConvertCmdError> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| usage(format!("cannot read {what} from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read {what} {}: {e}", path.display())))?
    };
    lenient::from_str(&text)
        .map_err(|e| usage(format!("{what} {} is not valid JSON: {e}", path.display())))
}

/// Fetches `/object_info` once from the server.
pub async fn fetch_object_info(server: &str, headers: &[String]) -> Result<Value, ConvertCmdError> {
    let server = ServerUrl::parse(server).map_err(|e| usage(e.to_string()))?;
    let headers = parse_headers(headers).map_err(|e| usage(e.to_string()))?;
    let client =
        ComfyClient::new(server, headers).map_err(|e| ConvertCmdError::Server(e.to_string()))?;
    client
        .object_info(None)
        .await
        .map_err(|e| ConvertCmdError::Server(sanitize(&e.to_string()).into_owned()))
}

/// The prompt text for `args`, with the lines meant for stderr.
pub async fn prepare(args: &ConvertArgs) -> Result<(String, Vec<String>), ConvertCmdError> {
    let workflow = read_json(&args.workflow, "workflow")?;
    if !is_ui_format(&workflow) {
        if !workflow.is_object() {
            return Err(usage(format!(
                "workflow {} must be a JSON object",
                args.workflow.display()
            )));
        }
        // Already an API prompt: nothing to convert.
        let text = serde_json::to_string_pretty(&workflow)
            .map_err(|e| usage(format!("cannot print the prompt: {e}")))?;
        return Ok((text, vec![]));
    }
    let object_info = match &args.object_info {
        Some(path) => read_json(path, "object_info")?,
        None => fetch_object_info(&args.server, &args.headers).await?,
    };
    let options = ConvertOptions::local_now(args.seed);
    let converted = convert(&workflow, &object_info, &options)
        .map_err(|e| usage(format!("workflow {}: {e}", args.workflow.display())))?;
    let mut notes = Vec::new();
    for pick in &converted.picks {
        notes.push(format!("dynamic prompt picked: {pick}"));
    }
    for warning in &converted.warnings {
        notes.push(format!("warning: {}", sanitize(warning)));
    }
    let text = serde_json::to_string_pretty(&Value::Object(converted.prompt))
        .map_err(|e| usage(format!("cannot print the prompt: {e}")))?;
    Ok((text, notes))
}

pub async fn run(args: ConvertArgs) -> i32 {
    let (text, notes) = match prepare(&args).await {
        Ok(done) => done,
        Err(e) => {
            eprintln!("comfy-tui convert: {e}");
            return e.exit_code();
        }
    };
    for note in notes {
        eprintln!("{note}");
    }
    let written = match &args.output {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}").map_err(|e| format!("cannot write to stdout: {e}"))
        }
    };
    match written {
        Ok(()) => exit::SUCCESS,
        Err(e) => {
            eprintln!("comfy-tui convert: {e}");
            exit::USAGE
        }
    }
}
