//! `comfy-tui check FILE`, and the check `run` makes before `POST /prompt`: getting the
//! catalogue (from the server or a file), checking, and telling the result.

use super::{CheckReport, check, render};
use crate::cli::CheckArgs;
use crate::comfy::http::{ComfyClient, parse_headers};
use crate::comfy::object_info::ObjectInfo;
use crate::comfy::{ServerUrl, Workflow};
use crate::launch::UsageError;
use serde_json::{Map, Value, json};

/// Why no catalogue could be had.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Local input is wrong (a bad `--server`, an unreadable `--object-info` file).
    #[error("{0}")]
    Usage(String),
    /// The server could not be reached or gave no usable `/object_info`.
    #[error("{0}")]
    Unreachable(String),
}

/// `GET /object_info` from the server, read once.
pub async fn fetch_catalog(client: &ComfyClient) -> Result<ObjectInfo, CatalogError> {
    let value = client
        .object_info(None)
        .await
        .map_err(|e| CatalogError::Unreachable(e.to_string()))?;
    ObjectInfo::from_value(&value, "the server's /object_info")
        .map_err(|e| CatalogError::Unreachable(e.to_string()))
}

/// `--object-info FILE`: a saved `/object_info` answer.
pub fn read_catalog(path: &std::path::Path) -> Result<ObjectInfo, CatalogError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CatalogError::Usage(format!("cannot read --object-info {}: {e}", path.display()))
    })?;
    ObjectInfo::parse(&text, &path.display().to_string())
        .map_err(|e| CatalogError::Usage(format!("--object-info: {e}")))
}

/// The full check before a run submits: fetch the target server's catalogue once and
/// check `prompt` against it. Warnings go to stderr. When the catalogue cannot be had,
/// the run goes ahead unchecked: the server validates anyway, and the run itself
/// reports a server it cannot reach.
pub async fn preflight(
    client: &ComfyClient,
    prompt: &Map<String, Value>,
) -> Result<(), UsageError> {
    let catalog = match fetch_catalog(client).await {
        Ok(catalog) => catalog,
        Err(e) => {
            tracing::warn!("no pre-flight check: {e}");
            return Ok(());
        }
    };
    let report = check(prompt, Some(&catalog));
    for line in render::warnings(&report) {
        eprintln!("comfy-tui: {line}");
    }
    if report.is_ok() {
        Ok(())
    } else {
        Err(UsageError(format!(
            "{}; nothing was sent (--no-check skips the check)",
            render::problems_inline(&report)
        )))
    }
}

/// `comfy-tui check`: 0 when the prompt passes, 2 with problems or bad input, 4 when
/// the server cannot be reached.
pub async fn run(args: CheckArgs) -> i32 {
    let outcome = load_and_check(&args).await;
    match outcome {
        Ok(report) => {
            for line in render::warnings(&report) {
                eprintln!("comfy-tui: {line}");
            }
            if args.json {
                println!("{}", report.to_json());
            } else if report.is_ok() {
                println!(
                    "ok: {} passes the check ({} warning(s))",
                    crate::text::sanitize(&args.workflow.display().to_string()),
                    report.warnings.len()
                );
            } else {
                println!("{}", render::problems_heading(&report));
                for problem in &report.problems {
                    println!("  {}", render::line(problem));
                }
            }
            if report.is_ok() {
                crate::exit::SUCCESS
            } else {
                crate::exit::USAGE
            }
        }
        Err(error) => {
            let (code, text) = match &error {
                CatalogError::Usage(t) => (crate::exit::USAGE, t),
                CatalogError::Unreachable(t) => (crate::exit::UNREACHABLE, t),
            };
            let text = crate::text::sanitize(text).into_owned();
            if args.json {
                println!(
                    "{}",
                    json!({"ok": false, "error": text, "problems": [], "warnings": []})
                );
            }
            eprintln!("comfy-tui: {text}");
            code
        }
    }
}

async fn load_and_check(args: &CheckArgs) -> Result<CheckReport, CatalogError> {
    let workflow =
        Workflow::load(&args.workflow).map_err(|e| CatalogError::Usage(e.to_string()))?;
    let catalog = match &args.object_info {
        Some(path) => read_catalog(path)?,
        None => {
            let usage = |e: &dyn std::fmt::Display| CatalogError::Usage(e.to_string());
            let server = ServerUrl::parse(&args.server).map_err(|e| usage(&e))?;
            let headers = parse_headers(&args.headers).map_err(|e| usage(&e))?;
            let client = ComfyClient::new(server, headers).map_err(|e| usage(&e))?;
            fetch_catalog(&client).await?
        }
    };
    Ok(check(workflow.nodes(), Some(&catalog)))
}
