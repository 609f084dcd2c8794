//! From parsed arguments to a running face: load and prepare the workflow, check the
//! output folder, build the runtime, and pick the TUI or a headless face. Every local
//! problem is reported here, before anything reaches the server.

use crate::app::App;
use crate::cli::{FaceArgs, RunArgs};
use crate::comfy::http::{ComfyClient, parse_headers};
use crate::comfy::{ClientId, PromptId, ServerUrl, Workflow};
use crate::headless::{self, Format};
use crate::job::Job;
use crate::runtime::{Liveness, RunContext, Runtime};
use crate::{preflight, source};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Which face shows the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Tui,
    Headless(Format),
}

impl Face {
    /// `--json` and `--plain` win; otherwise the TUI only when stdout is a terminal that
    /// can draw one.
    pub fn choose(args: &FaceArgs) -> Self {
        let term = std::env::var("TERM").ok();
        Self::decide(args, term.as_deref(), std::io::stdout().is_terminal())
    }

    /// The choice itself: `TERM=dumb` (Emacs shells, some CI logs) cannot draw a
    /// full-screen view, so it gets plain lines.
    pub fn decide(args: &FaceArgs, term: Option<&str>, stdout_is_terminal: bool) -> Self {
        if args.json {
            Self::Headless(Format::Json)
        } else if args.plain || term == Some("dumb") || !stdout_is_terminal {
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
    /// The jobs, in submission order (one for a plain run), their prompts in `context`.
    pub jobs: Vec<PreparedJob>,
    pub context: RunContext,
    pub timeout: Option<std::time::Duration>,
    pub download: bool,
    /// The output folder when this run created it: removed again if nothing lands in it.
    pub created_out: Option<PathBuf>,
    /// Where the workflow came from, for the job store.
    pub origin: String,
    /// The graph's shape, under which its node durations are learned.
    pub shape: crate::state::shape::ShapeKey,
    /// The dynamic-prompt choices a conversion made, reported with the submission.
    pub picks: Vec<crate::convert::DynamicPick>,
    /// Following a prompt already on the server (`attach`): nothing is submitted.
    pub attach: Option<Attach>,
}

/// One job of a run: its graph and what makes it this job.
#[derive(Debug, Clone)]
pub struct PreparedJob {
    pub workflow: Workflow,
    pub seeds: Vec<crate::comfy::workflow::Seed>,
    /// The swept inputs' values (`NODE.INPUT`, value).
    pub swept: Vec<(String, String)>,
}

/// The most jobs one command makes.
pub const MAX_JOBS: usize = 10_000;

/// A prompt `attach` follows: already queued (with this number), running or finished.
#[derive(Debug, Clone)]
pub struct Attach {
    pub number: f64,
}

/// The server and the headers for every request. Credentials in the URL go on every
/// request and on the WebSocket upgrade as Basic auth, and the URL shown and logged no
/// longer carries them.
fn connection(args: &RunArgs) -> Result<(ServerUrl, reqwest::header::HeaderMap), UsageError> {
    connection_for(&args.server, &args.headers)
}

/// [`connection`] from a `--server` and its `--header`s.
pub fn connection_for(
    server: &str,
    headers: &[String],
) -> Result<(ServerUrl, reqwest::header::HeaderMap), UsageError> {
    let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
    let mut server = ServerUrl::parse(server).map_err(|e| usage(&e))?;
    let mut headers = parse_headers(headers).map_err(|e| usage(&e))?;
    if let Some(basic) = server.take_credentials()
        && !headers.contains_key(reqwest::header::AUTHORIZATION)
    {
        headers.insert(reqwest::header::AUTHORIZATION, basic);
    }
    Ok((server, headers))
}

/// The fixed `--seed N`, which also makes the dynamic-prompt picks of a conversion
/// repeatable.
fn fixed_seed(args: &RunArgs) -> Option<u64> {
    args.seed.as_deref().and_then(|s| s.parse().ok())
}

/// The values ComfyUI's `extra_data.preview_method` takes.
pub const PREVIEW_METHODS: &[&str] = &["auto", "latent2rgb", "taesd", "none", "default"];

/// Loads a local workflow (a file or stdin), applies overrides and checks every local
/// input. `run` also reads `@NAME` from the server, then goes on as [`prepare_loaded`].
pub fn prepare(args: &RunArgs, face: Face) -> Result<Prepared, UsageError> {
    let spec = source::Spec::parse(&args.workflow);
    let loaded = source::read_local(&spec, part(args)).map_err(|e| UsageError(e.to_string()))?;
    prepare_loaded(args, loaded, face)
}

fn part(args: &RunArgs) -> source::Part {
    if args.from_workflow {
        source::Part::Workflow
    } else {
        source::Part::Prompt
    }
}

/// Reads the workflow from wherever `run`'s argument says; a failure carries its exit
/// code (4 when the server holding `@NAME` cannot be reached, else 2).
pub async fn load(args: &RunArgs) -> Result<source::Loaded, (UsageError, i32)> {
    let spec = source::Spec::parse(&args.workflow);
    let usage = |e: &dyn std::fmt::Display| (UsageError(e.to_string()), crate::exit::USAGE);
    let loaded = match &spec {
        source::Spec::Saved(_) => {
            let (server, headers) = connection(args).map_err(|e| (e, crate::exit::USAGE))?;
            let client = ComfyClient::new(server, headers).map_err(|e| usage(&e))?;
            source::load(&spec, part(args), &client).await
        }
        local => source::read_local(local, part(args)),
    };
    loaded.map_err(|e| (UsageError(e.to_string()), e.exit_code()))
}

/// [`prepare`] for a workflow already read.
pub fn prepare_loaded(
    args: &RunArgs,
    loaded: source::Loaded,
    face: Face,
) -> Result<Prepared, UsageError> {
    let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
    let mut workflow = source::api_workflow(&loaded).map_err(|e| usage(&e))?;
    for spec in &args.sets {
        workflow.apply_set(spec).map_err(|e| usage(&e))?;
    }
    let jobs = batch_jobs(args, &workflow, &loaded.origin)?;
    let (server, headers) = connection(args)?;
    if args.timeout == Some(std::time::Duration::ZERO) {
        return Err(UsageError(
            "--timeout 0: a run cannot finish in no time; leave --timeout out to wait as long as it takes".into(),
        ));
    }
    if let Some(method) = &args.preview_method
        && !PREVIEW_METHODS.contains(&method.as_str())
    {
        return Err(UsageError(format!(
            "--preview-method {method}: expected one of {}",
            PREVIEW_METHODS.join(", ")
        )));
    }
    // Cycles and dangling links are local errors: nothing is sent.
    let structure = crate::check::check(workflow.nodes(), None);
    if !structure.is_ok() {
        return Err(UsageError(crate::check::render::problems_inline(
            &structure,
        )));
    }
    let client_id = match &args.client_id {
        Some(id) if id.trim().is_empty() => {
            return Err(UsageError("--client-id must not be empty".into()));
        }
        Some(id) => ClientId::from(id.as_str()),
        None => ClientId::random(),
    };
    let created_out = if args.no_download {
        None
    } else {
        crate::output::prepare_dir(&args.out).map_err(|e| usage(&e))?
    };
    let client = ComfyClient::new(server.clone(), headers.clone()).map_err(|e| usage(&e))?;
    let preview_method = args
        .preview_method
        .clone()
        .or_else(|| (face == Face::Tui).then(|| "auto".to_owned()));
    let names = args
        .name
        .as_deref()
        .map(crate::batch::NamePattern::parse)
        .transpose()
        .map_err(UsageError)?;
    let context = RunContext {
        client,
        server,
        headers,
        client_id,
        jobs: jobs
            .iter()
            .map(|job| crate::runtime::JobPrompt {
                prompt_id: PromptId::random(),
                prompt: job.workflow.nodes().clone(),
                seed: job.seeds.first().and_then(|s| s.value.as_u64()),
            })
            .collect(),
        front: args.front,
        names,
        preview_method,
        out_dir: absolute(&args.out),
        liveness: Liveness {
            connect_within: args.connect_timeout,
            ..Liveness::default()
        },
        state: crate::state::StateDir::locate(),
        workflow: loaded.ui_workflow.clone(),
    };
    Ok(Prepared {
        shape: crate::state::shape::ShapeKey::of(workflow.nodes()),
        // A file is recorded by its full path: the store is read from anywhere.
        origin: match source::Spec::parse(&args.workflow) {
            source::Spec::File(path) => absolute(&path).display().to_string(),
            _ => loaded.origin.clone(),
        },
        jobs,
        context,
        timeout: args.timeout,
        download: !args.no_download,
        created_out,
        picks: Vec::new(),
        attach: None,
    })
}

/// The jobs `--count`, `--sweep` and `--seed` make of the workflow (one without them):
/// each a copy with its swept values set, then its seed.
fn batch_jobs(
    args: &RunArgs,
    base: &Workflow,
    origin: &str,
) -> Result<Vec<PreparedJob>, UsageError> {
    use crate::batch::{SeedMode, Sweep};
    if args.count == 0 {
        return Err(UsageError(
            "--count 0: nothing to run; give 1 or more".into(),
        ));
    }
    let sweeps = args
        .sweeps
        .iter()
        .map(|s| Sweep::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(UsageError)?;
    let total = sweeps
        .iter()
        .try_fold(args.count, |n, s| n.checked_mul(s.values.len()))
        .filter(|n| *n <= MAX_JOBS)
        .ok_or_else(|| {
            UsageError(format!(
                "--count and --sweep make more than {MAX_JOBS} jobs; split the batch"
            ))
        })?;
    let mode = args
        .seed
        .as_deref()
        .map(SeedMode::parse)
        .transpose()
        .map_err(UsageError)?
        .unwrap_or(SeedMode::Keep);
    let workflow_seed = base.seeds().first().and_then(|s| s.value.as_u64());
    // The range the ComfyUI editor draws random seeds from.
    let mut random = || rand::random_range(0..=(1u64 << 50));
    let mut jobs = Vec::with_capacity(total);
    for variant in crate::batch::variants(args.count, &sweeps) {
        let mut workflow = base.clone();
        for (target, value) in &variant.sets {
            workflow
                .apply_set(&format!("{target}={value}"))
                .map_err(|e| UsageError(format!("--sweep: {e}")))?;
        }
        let set = match mode {
            SeedMode::Keep => None,
            // Every seed input its own, as one run always had.
            SeedMode::Random => Some(workflow.apply_seed(&mut random)),
            other => {
                let seed = other.seed_for(variant.index, workflow_seed, &mut random);
                seed.map(|seed| workflow.apply_seed(|| seed))
            }
        };
        if set == Some(0) {
            return Err(UsageError(format!(
                "--seed: workflow {origin} has no seed or noise_seed input to set"
            )));
        }
        jobs.push(PreparedJob {
            seeds: workflow.seeds(),
            workflow,
            swept: variant.sets,
        });
    }
    Ok(jobs)
}

fn absolute(path: &std::path::Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Builds the app and its runtime for a prepared run. Reads what earlier runs of the
/// same shape on this server took (the only I/O here, before the loop starts).
pub fn assemble(prepared: Prepared, interactive: bool) -> (Runtime, App) {
    let Prepared {
        jobs,
        context,
        timeout,
        download,
        picks,
        created_out: _,
        origin,
        shape,
        attach,
    } = prepared;
    let server = context.server.as_str().to_owned();
    let learned = context.state.as_ref().and_then(|dir| {
        dir.durations()
            .load()
            .inspect_err(|e| tracing::warn!("no learned durations: {e}"))
            .ok()
    });
    let now = std::time::Instant::now();
    let mut tracked = Vec::with_capacity(jobs.len());
    let mut shapes = Vec::with_capacity(jobs.len());
    for (prepared, prompt) in jobs.into_iter().zip(&context.jobs) {
        let mut job = Job::new(&prepared.workflow, prompt.prompt_id.clone());
        if let Some(attach) = &attach {
            // Already on the server: where it is, the queue and the history say.
            let _ = job.submitted(prompt.prompt_id.clone(), attach.number, now);
        }
        // Sweeps can change the cost (steps, sizes): each job has its own shape.
        let job_shape = if tracked.is_empty() {
            shape.clone()
        } else {
            crate::state::shape::ShapeKey::of(prepared.workflow.nodes())
        };
        job.expected = learned
            .as_ref()
            .and_then(|l| l.expected(&server, &job_shape));
        let spec = crate::session::JobSpec {
            download,
            timeout,
            seeds: prepared.seeds,
            picks: picks.clone(),
            attach: attach.is_some(),
            swept: prepared.swept,
        };
        shapes.push(job_shape);
        tracked.push((job, spec));
    }
    let label = crate::session::Server::new(server.clone(), context.client_id.clone());
    let mut app = App::batch(label, tracked, interactive, now);
    if context.state.is_some() {
        for (tracked, shape) in app.session.jobs.iter_mut().zip(shapes) {
            tracked.recording = Some(crate::session::recording::Recording::new(
                server.clone(),
                context.client_id.clone(),
                origin.clone(),
                shape,
                std::time::SystemTime::now(),
            ));
        }
    }
    (Runtime::new(context), app)
}

/// Reports a local error in the face's own form and returns exit code 2.
pub fn report_usage(error: &UsageError, face: Face) -> i32 {
    report_unsent(error, crate::exit::USAGE, face)
}

/// Reports why nothing was sent, in the face's own form, and returns `code`.
pub fn report_unsent(error: &UsageError, code: i32, face: Face) -> i32 {
    if face == Face::Headless(Format::Json) {
        let reason = &error.0;
        let status = match code {
            crate::exit::USAGE => "invalid",
            crate::exit::REJECTED => "rejected",
            _ => "lost",
        };
        println!(
            "{}",
            serde_json::json!({"schema": headless::SCHEMA, "event": "not_submitted", "reason": reason})
        );
        let mut done = headless::done_line(status, code, Some(reason));
        done["schema"] = serde_json::json!(headless::SCHEMA);
        println!("{done}");
    } else if face == Face::Headless(Format::Plain) && code != crate::exit::USAGE {
        // The lines a run that could not start prints, as the runtime's path does.
        let reason = crate::text::sanitize(&error.0);
        let status = if code == crate::exit::REJECTED {
            "rejected"
        } else {
            "lost"
        };
        println!("not submitted: {reason}");
        println!("done: {status} in 0.0s, 0 file(s) saved ({reason})");
        return code;
    }
    eprintln!("comfy-tui: {}", crate::text::sanitize(&error.0));
    code
}

/// `comfy-tui run`.
pub async fn run(args: RunArgs) -> i32 {
    let face = Face::choose(&args.face);
    let mut loaded = match load(&args).await {
        Ok(loaded) => loaded,
        Err((e, code)) => return report_unsent(&e, code, face),
    };
    // The server's catalogue, fetched at most once: a graph in the editor's format needs
    // it to be converted, and the pre-flight check needs it unless `--no-check`. An API
    // prompt is checked locally first, so that a broken graph asks the server nothing.
    let needs_conversion = crate::convert::is_ui_format(&loaded.value);
    let mut catalog = None;
    let mut picks = Vec::new();
    if needs_conversion {
        catalog = match fetch_catalog(&args).await {
            Ok(Some(catalog)) => Some(catalog),
            Ok(None) => {
                return report_unsent(
                    &UsageError(
                        "cannot convert the editor's format: the server's /object_info is not usable".into(),
                    ),
                    crate::exit::UNREACHABLE,
                    face,
                );
            }
            Err((e, code)) => return report_unsent(&e, code, face),
        };
        if let Some(catalog) = &catalog {
            match preflight::convert_loaded(&mut loaded, catalog, fixed_seed(&args)) {
                Ok(conversion) => {
                    for warning in &conversion.warnings {
                        eprintln!("comfy-tui: {}", crate::text::sanitize(warning));
                    }
                    picks = conversion.picks;
                }
                Err(reason) => return report_usage(&UsageError(reason), face),
            }
        }
    }
    let mut prepared = match prepare_loaded(&args, loaded, face) {
        Ok(p) => p,
        Err(e) => return report_usage(&e, face),
    };
    prepared.picks = picks;
    let wants_files = !args.inputs.is_empty() || !args.masks.is_empty();
    if catalog.is_none() && (wants_files || !args.no_check) {
        catalog = match fetch_catalog(&args).await {
            Ok(catalog) => catalog,
            Err((e, code)) => {
                remove_created_out(&prepared);
                return report_unsent(&e, code, face);
            }
        };
    }
    // Local files go up before anything is checked or submitted: the check sees the
    // names the server stored them under.
    let inputs = crate::inputs::InputArgs {
        inputs: args.inputs.clone(),
        masks: args.masks.clone(),
    };
    let catalog_map = catalog.as_ref().and_then(serde_json::Value::as_object);
    let client = prepared.context.client.clone();
    let uploaded = crate::inputs::prepare(
        &mut prepared,
        &inputs,
        catalog_map,
        &client,
        // Said on stderr before the live view takes the screen, so every face says it.
        false,
    )
    .await;
    match uploaded {
        // The server lists its input files in `/object_info`: read again, it has ours.
        Ok(true) if !args.no_check => {
            catalog = match fetch_catalog(&args).await {
                Ok(catalog) => catalog,
                Err((e, code)) => {
                    remove_created_out(&prepared);
                    return report_unsent(&e, code, face);
                }
            };
        }
        Ok(_) => {}
        Err((e, code)) => {
            remove_created_out(&prepared);
            return report_unsent(&e, code, face);
        }
    }
    if !args.no_check
        && let Some(catalog) = &catalog
        && let Some(e) = prepared
            .context
            .jobs
            .iter()
            .find_map(|job| crate::check::command::check_prompt(catalog, &job.prompt).err())
    {
        remove_created_out(&prepared);
        return report_usage(&e, face);
    }
    start(prepared, face, &args.face).await
}

/// The target server's `/object_info`; `None` when it answered without a usable one (the
/// check is then skipped); an error (exit 4) when it cannot be reached.
async fn fetch_catalog(args: &RunArgs) -> Result<Option<serde_json::Value>, (UsageError, i32)> {
    let (server, headers) = connection(args).map_err(|e| (e, crate::exit::USAGE))?;
    let client = ComfyClient::new(server.clone(), headers)
        .map_err(|e| (UsageError(e.to_string()), crate::exit::USAGE))?;
    match preflight::fetch_catalog(&client, &server, args.connect_timeout).await {
        Ok(value) => Ok(Some(value)),
        Err(preflight::CatalogError::Unreachable(reason)) => {
            Err((UsageError(reason), crate::exit::UNREACHABLE))
        }
        Err(preflight::CatalogError::Unusable(reason)) => {
            eprintln!(
                "comfy-tui: no pre-flight check: {}",
                crate::text::sanitize(&reason)
            );
            Ok(None)
        }
    }
}

/// A folder made for a run that never started is not left behind.
fn remove_created_out(prepared: &Prepared) {
    if let Some(dir) = &prepared.created_out {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Runs a prepared run in the chosen face; `options` say how the live view behaves.
pub async fn start(prepared: Prepared, face: Face, options: &FaceArgs) -> i32 {
    let created_out = prepared.created_out.clone();
    let code = start_face(prepared, face, options).await;
    // A folder made for this run and left empty (a rejected prompt) is not left behind.
    if let Some(dir) = created_out {
        let _ = std::fs::remove_dir(dir);
    }
    code
}

async fn start_face(prepared: Prepared, face: Face, options: &FaceArgs) -> i32 {
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
                        notify: !options.no_notify,
                        preview_budget: options.preview_budget,
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
                    app.interactive = false;
                    headless::run(runtime, app, Format::Plain, std::io::stdout().lock()).await
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dumb_terminal_gets_plain_lines() {
        let args = FaceArgs {
            json: false,
            plain: false,
            no_notify: false,
            preview_budget: 0,
        };
        assert_eq!(Face::decide(&args, Some("xterm-256color"), true), Face::Tui);
        assert_eq!(
            Face::decide(&args, Some("dumb"), true),
            Face::Headless(Format::Plain)
        );
        assert_eq!(
            Face::decide(&args, None, false),
            Face::Headless(Format::Plain)
        );
    }
}
