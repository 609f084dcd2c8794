//! `comfy-tui convert`: read a workflow, convert it against the server's (or a saved)
//! `/object_info`, and print the bare API prompt. Picks and warnings go to stderr, so
//! stdout can be piped straight into a file or another tool.

use crate::cli::ConvertArgs;
use crate::convert::{ConvertOptions, convert, is_ui_format};
use crate::exit;
use crate::text::sanitize;
use serde_json::Value;
use std::io::Write;

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

/// The prompt text for `args`, with the lines meant for stderr.
pub async fn prepare(args: &ConvertArgs) -> Result<(String, Vec<String>), ConvertCmdError> {
    let workflow = crate::preflight::read_json(&args.workflow, "workflow").map_err(usage)?;
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
    let object_info =
        crate::preflight::catalog_for(args.object_info.as_deref(), &args.server, &args.headers)
            .await
            .map_err(|(reason, code)| {
                let reason = sanitize(&reason).into_owned();
                if code == exit::USAGE {
                    ConvertCmdError::Usage(reason)
                } else {
                    ConvertCmdError::Server(reason)
                }
            })?;
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
