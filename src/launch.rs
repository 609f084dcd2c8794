//! From parsed arguments to a running face: load and prepare the workflow, check the
//! output folder, build the runtime, and pick the TUI or a headless face. Every local
//! problem is reported here, before anything reaches the server.

use crate::app::{App, AppConfig};
use crate::cli::{FaceArgs, RunArgs};
use crate::comfy::http::{ComfyClient, parse_headers};
use crate::comfy::{ClientId, PromptId, ServerUrl, Workflow};
use crate::headless::{self, Format};
use crate::job::Job;
use crate::runtime::{Liveness, RunContext, Runtime};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Which face shows the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Tui,
    Headless(Format),
}

impl Face {
    /// `--json` and `--plain` win; otherwise the TUI only when stdout is a terminal.
    pub fn choose(args: &FaceArgs) -> Self {
        if args.json {
            Self::Headless(Format::Json)
        } else if args.plain || !std::io::stdout().is_terminal() {
            Self::Headless(Format::Plain)
        } else {
            Self::Tui
        }
    }
}

/// A problem with local input: nothing was sent. Exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

/// Everything a run needs, checked.
pub struct Prepared {
    pub workflow: Workflow,
    pub context: RunContext,
    pub timeout: Option<std::time::Duration>,
    pub download: bool,
}

/// Loads the workflow, applies overrides and checks every local input.
pub fn prepare(args: &RunArgs, face: Face) -> Result<Prepared, UsageError> {
    let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
    let mut workflow = Workflow::load(&args.workflow).map_err(|e| usage(&e))?;
    for spec in &args.sets {
        workflow.apply_set(spec).map_err(|e| usage(&e))?;
    }
    if let Some(seed) = &args.seed {
        let fixed = match seed.as_str() {
            "random" => None,
            n => Some(n.parse::<u64>().map_err(|_| {
                UsageError(format!("--seed {n}: expected `random` or a whole number"))
            })?),
        };
        // The range the ComfyUI editor draws random seeds from.
        let count =
            workflow.apply_seed(|| fixed.unwrap_or_else(|| rand::random_range(0..=(1u64 << 50))));
        if count == 0 {
            return Err(UsageError(format!(
                "--seed: workflow {} has no seed or noise_seed input to set",
                args.workflow.display()
            )));
        }
    }
    // Cycles and dangling links are local errors: nothing is sent.
    let structure = crate::check::check(workflow.nodes(), None);
    if !structure.is_ok() {
        return Err(UsageError(crate::check::render::problems_inline(
            &structure,
        )));
    }
    let server = ServerUrl::parse(&args.server).map_err(|e| usage(&e))?;
    let headers = parse_headers(&args.headers).map_err(|e| usage(&e))?;
    let client_id = match &args.client_id {
        Some(id) if id.trim().is_empty() => {
            return Err(UsageError("--client-id must not be empty".into()));
        }
        Some(id) => ClientId::from(id.as_str()),
        None => ClientId::random(),
    };
    if !args.no_download {
        crate::output::prepare_dir(&args.out).map_err(|e| usage(&e))?;
    }
    let client = ComfyClient::new(server.clone(), headers.clone()).map_err(|e| usage(&e))?;
    let preview_method = args
        .preview_method
        .clone()
        .or_else(|| (face == Face::Tui).then(|| "auto".to_owned()));
    let context = RunContext {
        client,
        server,
        headers,
        client_id,
        prompt_id: PromptId::random(),
        prompt: workflow.nodes().clone(),
        preview_method,
        out_dir: absolute(&args.out),
        liveness: Liveness::default(),
    };
    Ok(Prepared {
        workflow,
        context,
        timeout: args.timeout,
        download: !args.no_download,
    })
}

fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Builds the app and its runtime for a prepared run.
pub fn assemble(prepared: Prepared, interactive: bool) -> (Runtime, App) {
    let Prepared {
        workflow,
        context,
        timeout,
        download,
    } = prepared;
    let job = Job::new(&workflow, context.prompt_id.clone());
    let config = AppConfig {
        server: context.server.as_str().to_owned(),
        client_id: context.client_id.clone(),
        download,
        timeout,
        interactive,
    };
    let app = App::new(job, config, std::time::Instant::now());
    (Runtime::new(context), app)
}

/// Reports a local error in the face's own form and returns exit code 2.
pub fn report_usage(error: &UsageError, face: Face) -> i32 {
    let code = crate::exit::USAGE;
    if face == Face::Headless(Format::Json) {
        let reason = &error.0;
        println!(
            "{}",
            serde_json::json!({"schema": headless::SCHEMA, "event": "not_submitted", "reason": reason})
        );
        println!(
            "{}",
            serde_json::json!({"schema": headless::SCHEMA, "event": "done", "status": "rejected", "exit_code": code, "reason": reason})
        );
    }
    eprintln!("comfy-tui: {}", crate::text::sanitize(&error.0));
    code
}

/// `comfy-tui run`.
pub async fn run(args: RunArgs) -> i32 {
    let face = Face::choose(&args.face);
    let prepared = match prepare(&args, face) {
        Ok(p) => p,
        Err(e) => return report_usage(&e, face),
    };
    if !args.no_check
        && let Err(e) =
            crate::check::command::preflight(&prepared.context.client, &prepared.context.prompt)
                .await
    {
        return report_usage(&e, face);
    }
    start(prepared, face, !args.face.no_notify).await
}

/// Runs a prepared run in the chosen face.
pub async fn start(prepared: Prepared, face: Face, notify: bool) -> i32 {
    match face {
        Face::Headless(format) => {
            let (runtime, app) = assemble(prepared, false);
            headless::run(runtime, app, format, std::io::stdout().lock()).await
        }
        Face::Tui => {
            let (runtime, mut app) = assemble(prepared, true);
            match crate::terminal::Guard::new() {
                Ok(guard) => {
                    let options = crate::tui::TuiOptions {
                        notify,
                        ..Default::default()
                    };
                    match crate::tui::run_with(guard, runtime, app, options).await {
                        Ok(code) => code,
                        Err(e) => {
                            eprintln!("comfy-tui: the terminal failed: {e:#}");
                            crate::exit::UNREACHABLE
                        }
                    }
                }
                Err(e) => {
                    // No usable terminal: the same run, told in plain lines.
                    tracing::warn!("no TUI ({e}); plain output instead");
                    app.config.interactive = false;
                    headless::run(runtime, app, Format::Plain, std::io::stdout().lock()).await
                }
            }
        }
    }
}
