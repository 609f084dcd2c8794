//! `comfy-tui check FILE`, and the check `run` makes before `POST /prompt`: getting the
//! catalogue (from the server or a file), checking, and telling the result.

use super::{CheckReport, check, render};
use crate::cli::CheckArgs;
use crate::comfy::Workflow;
use crate::comfy::object_info::ObjectInfo;
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

/// The full check before a run submits, against the target server's catalogue (fetched
/// once by the run). Warnings go to stderr; problems refuse the run, naming each one.
pub fn check_prompt(catalog: &Value, prompt: &Map<String, Value>) -> Result<(), UsageError> {
    let Value::Object(catalog) = catalog else {
        eprintln!("comfy-tui: no pre-flight check: the server's /object_info is not an object");
        return Ok(());
    };
    let catalog = ObjectInfo::for_prompt(catalog, prompt);
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
    let usage = |e: &dyn std::fmt::Display| CatalogError::Usage(e.to_string());
    // Any source `run` takes: a file, a picture, stdin; the editor's format is converted
    // against the same catalogue first.
    let spec = crate::source::Spec::parse(&args.workflow);
    let mut loaded =
        crate::source::read_local(&spec, crate::source::Part::Prompt).map_err(|e| usage(&e))?;
    let raw =
        crate::preflight::catalog_for(args.object_info.as_deref(), &args.server, &args.headers)
            .await
            .map_err(|(reason, code)| {
                if code == crate::exit::USAGE {
                    CatalogError::Usage(reason)
                } else {
                    CatalogError::Unreachable(reason)
                }
            })?;
    let name = match &args.object_info {
        Some(path) => format!("--object-info {}", path.display()),
        None => "the server's /object_info".to_owned(),
    };
    let catalog = ObjectInfo::from_value(&raw, &name).map_err(|e| usage(&e))?;
    crate::preflight::convert_loaded(&mut loaded, &raw, None).map_err(|e| usage(&e))?;
    let workflow = Workflow::from_value(loaded.value, &loaded.origin).map_err(|e| usage(&e))?;
    Ok(check(workflow.nodes(), Some(&catalog)))
}
