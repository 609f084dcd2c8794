//! The few lines printed after the screen is restored: how the run ended, node times,
//! where the files went. Plain text, every server string sanitized.

use super::{format, header};
use crate::app::App;
use crate::text::sanitize;
use std::fmt::Write;

/// How many node times the summary lists.
const SLOWEST: usize = 5;
/// The shortest time listed: anything less prints as `0.0s`.
const MEASURABLE: std::time::Duration = std::time::Duration::from_millis(50);

pub fn summary(app: &App) -> String {
    let job = app.job();
    let mut out = String::new();
    let state = match job.outcome() {
        _ if app.focused().detached().is_some() => {
            format!("detached while {}", header::phase_label(app))
        }
        Some(crate::job::Outcome::Success) if !app.focused().saves.failed.is_empty() => {
            "finished, but not every output was saved".to_owned()
        }
        Some(outcome) => header::outcome_label(outcome).to_owned(),
        None => format!("left while {}", header::phase_label(app)),
    };
    let _ = write!(out, "comfy-tui: {state}");
    if let (Some(start), Some(end)) = (job.started_at, job.finished_at) {
        let _ = write!(
            out,
            " in {}",
            format::duration(end.saturating_duration_since(start))
        );
    }
    let _ = writeln!(out, " (prompt {})", sanitize(job.prompt_id.as_str()));

    if !app.focused().spec.seeds.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            sanitize(&super::log::seed_list(&app.focused().spec.seeds))
        );
    }
    let (done, total) = job.graph_counts();
    let cached = job.cached_count();
    if total > 0 {
        let _ = write!(out, "  nodes: {done}/{total} done");
        if cached > 0 {
            let _ = write!(out, " ({cached} cached)");
        }
        out.push('\n');
    }
    // The slowest nodes, in graph order: where the time went, without a wall of lines.
    // A node that took no measurable time (it prints as 0.0s) says nothing about where
    // the time went.
    let mut timed: Vec<_> = job
        .durations()
        .filter(|(_, d)| *d >= MEASURABLE)
        .enumerate()
        .collect();
    timed.sort_by_key(|(_, (_, d))| std::cmp::Reverse(*d));
    let hidden = timed.len().saturating_sub(SLOWEST);
    timed.truncate(SLOWEST);
    timed.sort_by_key(|(i, _)| *i);
    for (_, (node, duration)) in timed {
        let _ = writeln!(
            out,
            "    {:<28} {:>8}  {}",
            format::truncate(&sanitize(node.name()), 28),
            format::duration(duration),
            node.state.label()
        );
    }
    if hidden > 0 {
        let _ = writeln!(out, "    (and {hidden} faster nodes)");
    }
    if let Some(error) = &job.error {
        let _ = writeln!(
            out,
            "  error: {}: {}",
            sanitize(&error.exception_type),
            sanitize(&error.message)
        );
    }
    if let Some(rejection) = &app.focused().rejection {
        let _ = writeln!(out, "  rejected: {}", sanitize(&rejection.to_string()));
    }
    if let Some(fatal) = &app.focused().fatal {
        let _ = writeln!(out, "  {}", sanitize(fatal));
    }
    for saved in &app.focused().saves.saved {
        let _ = writeln!(
            out,
            "  saved {} ({})",
            crate::path_text::display(&saved.path),
            format::bytes(saved.bytes)
        );
    }
    for (file, reason) in &app.focused().saves.failed {
        let _ = writeln!(
            out,
            "  not saved {}: {}",
            sanitize(&file.filename),
            sanitize(reason)
        );
    }
    if !app.focused().spec.download {
        for (_, file) in job.files() {
            let _ = writeln!(out, "  on the server: {}", sanitize(&file.filename));
        }
    }
    out
}
