//! Local files as a run's inputs, before anything is submitted: each `--input`/`--mask`
//! resolved against the graph (a folder or a glob makes one job per file, multiplied
//! with the other jobs like a sweep), local files the graph names that the server does
//! not list found and announced, every distinct file uploaded once, and the names the
//! server gave put into each job's prompt.

use crate::comfy::object_info::ObjectInfo;
use crate::comfy::{ComfyClient, PromptId};
use crate::launch::{Prepared, UsageError};
use crate::runtime::JobPrompt;
use crate::upload::{InputArg, Plan, Wanted, auto};
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

/// Upload progress goes to the user at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// The inputs as the command line gives them.
#[derive(Debug, Clone, Default)]
pub struct InputArgs {
    pub inputs: Vec<String>,
    pub masks: Vec<String>,
}

/// Resolves the inputs, multiplies the jobs by their files, uploads, and sets the names.
/// Says whether anything went up. A local problem is exit 2; a refused upload exit 3
/// naming the file; no server, 4.
pub async fn prepare(
    prepared: &mut Prepared,
    args: &InputArgs,
    catalog: Option<&Map<String, Value>>,
    client: &ComfyClient,
    quiet: bool,
) -> Result<bool, (UsageError, i32)> {
    let usage = |e: &dyn std::fmt::Display| (UsageError(e.to_string()), crate::exit::USAGE);
    let Some(first) = prepared.jobs.first() else {
        return Ok(false);
    };
    let info = catalog.map(|c| ObjectInfo::for_prompt(c, first.workflow.nodes()));
    let mut resolved = Vec::new();
    for (spec, mask) in args
        .inputs
        .iter()
        .map(|s| (s, false))
        .chain(args.masks.iter().map(|s| (s, true)))
    {
        let arg = InputArg::parse(spec, mask).map_err(|e| usage(&e))?;
        resolved.push(
            arg.resolve(&first.workflow, info.as_ref())
                .map_err(|e| usage(&e))?,
        );
    }
    // Each input with several files is one more dimension of the batch.
    let mut combos: Vec<Vec<(usize, usize)>> = vec![Vec::new()];
    for (which, input) in resolved.iter().enumerate() {
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                (0..input.files.len()).map(move |file| {
                    let mut next = combo.clone();
                    next.push((which, file));
                    next
                })
            })
            .collect();
    }
    let total = prepared.jobs.len().saturating_mul(combos.len());
    if total > crate::launch::MAX_JOBS {
        return Err(usage(&format!(
            "the inputs' files and the other options make more than {} jobs; split the batch",
            crate::launch::MAX_JOBS
        )));
    }
    let mut jobs = Vec::with_capacity(total);
    let mut prompts = Vec::with_capacity(total);
    let mut wanted: Vec<Vec<Wanted>> = Vec::with_capacity(total);
    for (job, prompt) in prepared.jobs.iter().zip(&prepared.context.jobs) {
        for combo in &combos {
            let mut job = job.clone();
            let mut needs = Vec::new();
            for (which, file) in combo {
                let input = &resolved[*which];
                if let Some(want) = input.wanted(*file) {
                    if input.files.len() > 1 {
                        job.swept.push((
                            format!("{}.{}", input.node, input.input),
                            crate::path_text::display(&want.path),
                        ));
                    }
                    needs.push(want);
                }
            }
            prompts.push(JobPrompt {
                prompt_id: if jobs.is_empty() {
                    prompt.prompt_id.clone()
                } else {
                    PromptId::random()
                },
                prompt: prompt.prompt.clone(),
                seed: prompt.seed,
            });
            jobs.push(job);
            wanted.push(needs);
        }
    }
    // Local files the graph names that the server does not have.
    if let Some(info) = &info {
        let cwd = std::env::current_dir().unwrap_or_default();
        for found in auto::detect(&prompts[0].prompt, info, &cwd) {
            if resolved.iter().any(|r| found.is_for(&r.node, &r.input)) {
                continue;
            }
            if !quiet {
                eprintln!("comfy-tui: {}", crate::text::sanitize(&found.line()));
            }
            for needs in &mut wanted {
                needs.push(found.wanted());
            }
        }
    }
    if wanted.iter().all(Vec::is_empty) {
        prepared.jobs = jobs;
        prepared.context.jobs = prompts;
        return Ok(false);
    }
    let plan =
        Plan::from_disk(&prompts[0].prompt, info.as_ref(), &wanted).map_err(|e| usage(&e))?;
    let mut last = None::<Instant>;
    let uploaded = crate::upload::upload_all(client, &plan, |p| {
        let now = Instant::now();
        let end = p.sent == p.total;
        if !quiet && (end || last.is_none_or(|t| now.duration_since(t) >= PROGRESS_EVERY)) {
            last = Some(now);
            eprintln!(
                "comfy-tui: uploading {} ({}/{}): {} of {} bytes",
                crate::path_text::display(p.path),
                p.index + 1,
                p.count,
                p.sent,
                p.total
            );
        }
    })
    .await
    .map_err(|e| (UsageError(e.to_string()), e.exit_code()))?;
    for (index, (job, prompt)) in jobs.iter_mut().zip(&mut prompts).enumerate() {
        plan.apply(index, &mut prompt.prompt, &uploaded);
        plan.apply(index, job.workflow.nodes_mut(), &uploaded);
    }
    prepared.jobs = jobs;
    prepared.context.jobs = prompts;
    Ok(true)
}
