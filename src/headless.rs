//! The faces without a terminal UI: JSON lines for scripts and agents, plain lines for
//! people reading a log. Both print the app's reports over the same core as the TUI.

use crate::app::{self, App, JobKey, LogLine, Report};
use crate::comfy::http::NodeError;
use crate::job::Job;
use crate::runtime::Runtime;
use crate::text::sanitize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// Version of the JSON-lines schema; bumped on incompatible changes.
pub const SCHEMA: u32 = 1;
/// At most this often per node is progress printed; the last value always is.
const JSON_PROGRESS_INTERVAL: Duration = Duration::from_millis(50);
/// People read plain lines: one progress line a second is plenty.
const PLAIN_PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Plain,
}

/// Prints reports, holding back progress lines that come too fast.
pub struct Printer<W: Write> {
    format: Format,
    out: W,
    /// Progress last printed, per job and node.
    last_progress: HashMap<(JobKey, String), Instant>,
    held: Option<LogLine>,
}

impl<W: Write> Printer<W> {
    pub fn new(format: Format, out: W) -> Self {
        Self {
            format,
            out,
            last_progress: HashMap::new(),
            held: None,
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn print(&mut self, line: LogLine, app: &App) -> std::io::Result<()> {
        if app.is_batch() && self.format == Format::Plain && !plain_batch_line(&line.report) {
            // One line per job start and end (and its trouble) keeps a batch readable.
            return Ok(());
        }
        if let Report::Progress { node, value, max } = &line.report {
            let key = (line.job, node.to_string());
            let last = self.last_progress.get(&key);
            let interval = match self.format {
                Format::Json => JSON_PROGRESS_INTERVAL,
                Format::Plain => PLAIN_PROGRESS_INTERVAL,
            };
            let due = last.is_none_or(|t| line.at.saturating_duration_since(*t) >= interval);
            let same_node_held = matches!(&self.held, Some(LogLine { job, report: Report::Progress { node: held, .. }, .. }) if held == node && *job == line.job);
            if !same_node_held {
                self.flush_held(app)?;
            }
            if due || value >= max {
                self.held = None;
                self.last_progress.insert(key, line.at);
                return self.write(&line, app);
            }
            self.held = Some(line);
            return Ok(());
        }
        if self.format == Format::Plain && matches!(line.report, Report::Preview { .. }) {
            // A line per preview frame says nothing to a reader.
            return Ok(());
        }
        self.flush_held(app)?;
        self.write(&line, app)
    }

    /// Prints a held progress line: the latest value is always shown.
    pub fn flush_held(&mut self, app: &App) -> std::io::Result<()> {
        if let Some(line) = self.held.take() {
            if let Report::Progress { node, .. } = &line.report {
                self.last_progress
                    .insert((line.job, node.to_string()), line.at);
            }
            self.write(&line, app)?;
        }
        Ok(())
    }

    fn write(&mut self, line: &LogLine, app: &App) -> std::io::Result<()> {
        let tracked = app.session.job(line.job);
        let job = &tracked.job;
        match self.format {
            Format::Json => {
                let mut value = match &line.report {
                    Report::JobDone { .. } => job_done_json(tracked),
                    report => report_json(report, job),
                };
                if app.is_batch() {
                    // Every line of a batch says which job it is about.
                    value["prompt_id"] = json!(job.prompt_id);
                    value["job"] = json!(line.job.0);
                }
                stamp(&mut value);
                writeln!(self.out, "{value}")
            }
            Format::Plain if app.is_batch() => writeln!(
                self.out,
                "job {}: {}",
                line.job.0,
                match &line.report {
                    Report::JobDone { .. } => job_done_plain(tracked),
                    report => report_plain(report, job),
                }
            ),
            Format::Plain => writeln!(self.out, "{}", report_plain(&line.report, job)),
        }
    }

    /// The last line of every run.
    pub fn done(&mut self, app: &App) -> std::io::Result<()> {
        self.flush_held(app)?;
        match self.format {
            Format::Json => {
                let mut value = done_json(app);
                stamp(&mut value);
                writeln!(self.out, "{value}")?;
            }
            Format::Plain => writeln!(self.out, "{}", done_plain(app))?,
        }
        self.out.flush()
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn stamp(value: &mut Value) {
    if let Value::Object(map) = value {
        map.insert("schema".into(), json!(SCHEMA));
    }
}

/// The `_meta.title` the workflow gives a node, if any.
fn title<'a>(job: &'a Job, node: &crate::comfy::NodeId) -> Option<&'a str> {
    job.node(node).and_then(|n| n.title.as_deref())
}

fn node_errors_json(errors: &[NodeError], job: &Job) -> Value {
    errors
        .iter()
        .flat_map(|node| {
            node.errors.iter().map(move |e| {
                json!({
                    "node": node.node_id,
                    "title": title(job, &node.node_id),
                    "class_type": node.class_type,
                    "input": e.input_name,
                    "type": e.kind,
                    "message": e.message,
                    "details": e.details,
                })
            })
        })
        .collect()
}

/// One report as a JSON object (without the schema stamp).
pub fn report_json(report: &Report, job: &Job) -> Value {
    match report {
        Report::Submitted {
            prompt_id,
            number,
            node_errors,
            seeds,
            picks,
        } => {
            let mut v = json!({"event": "submitted", "prompt_id": prompt_id, "number": number_json(*number), "seeds": seeds_json(seeds, job), "dynamic_prompts": picks});
            if !node_errors.is_empty() {
                v["node_errors"] = node_errors_json(node_errors, job);
            }
            v
        }
        Report::Rejected(r) => json!({
            "event": "rejected",
            "error": {"type": r.kind, "message": r.message, "details": r.details},
            "node_errors": node_errors_json(&r.node_errors, job),
        }),
        Report::NotSubmitted { reason } => json!({"event": "not_submitted", "reason": reason}),
        Report::Attached {
            prompt_id,
            client_id,
        } => json!({"event": "attached", "prompt_id": prompt_id, "client_id": client_id}),
        Report::Queued {
            position,
            remaining,
        } => {
            json!({"event": "queued", "position": position, "queue_remaining": remaining})
        }
        Report::Started => {
            let mut v = json!({"event": "started"});
            // Known only when the same shape ran on this server before.
            if let Some(expected) = job.expected_total() {
                v["expected_seconds"] = json!((expected.as_secs_f64() * 1000.0).round() / 1000.0);
            }
            v
        }
        Report::Cached { nodes } => json!({"event": "cached", "nodes": nodes}),
        Report::Executing {
            node,
            class_type,
            title,
        } => json!({"event": "executing", "node": node, "class_type": class_type, "title": title}),
        Report::Progress { node, value, max } => {
            json!({"event": "progress", "node": node, "value": number_json(*value), "max": number_json(*max)})
        }
        Report::Preview {
            node,
            format,
            bytes,
        } => {
            json!({"event": "preview", "node": node, "format": format.name(), "bytes": bytes})
        }
        Report::Output {
            node,
            file,
            path,
            bytes,
        } => {
            let mut v = json!({
                "event": "output", "node": node, "path": null, "bytes": bytes,
                "filename": file.filename, "subfolder": file.subfolder, "type": file.folder_type,
            });
            if let Some(path) = path {
                put_path(&mut v, "path", path);
            }
            v
        }
        Report::OutputFailed { node, file, reason } => json!({
            "event": "output_failed", "node": node, "filename": file.filename, "error": reason,
        }),
        Report::Text { node, text } => json!({"event": "text", "node": node, "text": text}),
        Report::Error(e) => json!({
            "event": "error", "node": e.node_id, "class_type": e.node_type,
            "exception_type": e.exception_type, "message": e.message, "traceback": e.traceback,
        }),
        Report::Interrupted { node } => json!({"event": "interrupted", "node": node}),
        Report::Warning { message } => json!({"event": "warning", "message": message}),
        Report::JobDone { status, exit_code } => {
            json!({"event": "job_done", "status": status, "exit_code": exit_code})
        }
    }
}

/// One report as plain text: the event log's words (nodes named from the graph), plus
/// the details a log file should keep (every node error, the traceback). Sanitised.
pub fn report_plain(report: &Report, job: &Job) -> String {
    let s = |t: &str| sanitize(t).into_owned();
    let mut text = s(&crate::ui::log::describe(report, job));
    match report {
        Report::Submitted { node_errors, .. } => {
            for e in node_errors {
                text.push_str(&format!(
                    "\n  node {} ({}) will not run",
                    s(e.node_id.as_str()),
                    s(&e.class_type)
                ));
            }
        }
        Report::Rejected(r) => {
            for node in &r.node_errors {
                for e in &node.errors {
                    let input = e
                        .input_name
                        .as_deref()
                        .map(|i| format!(" input {}", s(i)))
                        .unwrap_or_default();
                    let details = if e.details.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", s(&e.details))
                    };
                    let name = match title(job, &node.node_id) {
                        Some(t) => format!("\"{}\" ({})", s(t), s(&node.class_type)),
                        None => s(&node.class_type),
                    };
                    text.push_str(&format!(
                        "\n  node {} {name}{input}: {}{details}",
                        s(node.node_id.as_str()),
                        s(&e.message),
                    ));
                }
            }
        }
        Report::Error(e) => {
            for frame in &e.traceback {
                for line in frame.lines() {
                    text.push_str(&format!("\n  {}", s(line)));
                }
            }
        }
        _ => {}
    }
    text
}

fn seeds_json(seeds: &[crate::comfy::workflow::Seed], job: &Job) -> Value {
    seeds
        .iter()
        .map(|s| json!({"node": s.node, "title": title(job, &s.node), "input": s.input, "value": s.value}))
        .collect()
}

/// A JSON number as the server meant it: ComfyUI sends step counts and queue numbers
/// as integers, and they are read as `f64`; whole values go out as integers again.
fn number_json(value: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer below is exact
    if value.fract() == 0.0 && value.abs() < EXACT {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// Sets `key` to the path's text, and `key_bytes` to its exact bytes (base64) when the
/// path is not UTF-8.
fn put_path(value: &mut Value, key: &str, path: &std::path::Path) {
    let (text, exact) = crate::path_text::json_parts(path);
    value[key] = json!(text);
    if let Some(exact) = exact {
        value[format!("{key}_bytes")] = json!(exact);
    }
}

/// The fields every `done` line has, whatever happened; null or empty where they do not
/// apply.
pub fn done_line(status: &str, exit_code: i32, reason: Option<&str>) -> Value {
    json!({
        "event": "done",
        "status": status,
        "exit_code": exit_code,
        "prompt_id": null,
        "client_id": null,
        "elapsed": 0.0,
        "seeds": [],
        "saved": [],
        "failed": [],
        "nodes": [],
        "reason": reason,
    })
}

/// What a plain batch prints: a job's start, end and trouble, and its progress.
fn plain_batch_line(report: &Report) -> bool {
    matches!(
        report,
        Report::Submitted { .. }
            | Report::Rejected(_)
            | Report::NotSubmitted { .. }
            | Report::Started
            | Report::Progress { .. }
            | Report::Error(_)
            | Report::Interrupted { .. }
            | Report::OutputFailed { .. }
            | Report::Warning { .. }
            | Report::JobDone { .. }
    )
}

/// A job's end in a batch: its status, its files, its seeds and swept values.
fn job_done_json(tracked: &crate::session::Tracked) -> Value {
    let saved: Vec<Value> = tracked
        .saves
        .saved
        .iter()
        .map(|s| json!(crate::path_text::json_parts(&s.path).0))
        .collect();
    let swept: serde_json::Map<String, Value> = tracked
        .spec
        .swept
        .iter()
        .map(|(target, value)| (target.clone(), json!(value)))
        .collect();
    json!({
        "event": "job_done",
        "prompt_id": tracked.job.prompt_id,
        "job": tracked.key.0,
        "status": tracked.status(),
        "exit_code": tracked.exit_code(),
        "saved": saved,
        "failed": tracked
            .saves
            .failed
            .iter()
            .map(|(f, r)| json!({"filename": f.filename, "error": r}))
            .collect::<Vec<_>>(),
        "seeds": seeds_json(&tracked.spec.seeds, &tracked.job),
        "swept": swept,
        "reason": tracked.fatal,
    })
}

fn job_done_plain(tracked: &crate::session::Tracked) -> String {
    let mut line = format!(
        "done: {}, {} file(s) saved",
        tracked.status(),
        tracked.saves.saved.len()
    );
    for (target, value) in &tracked.spec.swept {
        line.push_str(&format!(", {}={}", sanitize(target), sanitize(value)));
    }
    if let Some(seed) = tracked.spec.seeds.first() {
        line.push_str(&format!(", seed {}", seed.value));
    }
    line
}

fn done_json(app: &App) -> Value {
    if app.is_batch() {
        return batch_done_json(app);
    }
    let nodes: Vec<Value> = app
        .job()
        .nodes
        .iter()
        .map(|n| {
            json!({
                "node": n.id, "class_type": n.class_type, "title": n.title,
                "state": n.state, "seconds": n.duration().map(|d| d.as_secs_f64()),
            })
        })
        .collect();
    let mut value = done_line(
        app.status(),
        app.exit_code(),
        app.focused().fatal.as_deref(),
    );
    value["prompt_id"] = json!(app.job().prompt_id);
    value["client_id"] = json!(app.server().client_id);
    value["elapsed"] = json!(app.elapsed().as_secs_f64());
    value["seeds"] = seeds_json(&app.focused().spec.seeds, app.job());
    let saved: Vec<(String, Option<String>)> = app
        .focused()
        .saves
        .saved
        .iter()
        .map(|s| crate::path_text::json_parts(&s.path))
        .collect();
    if saved.iter().any(|(_, exact)| exact.is_some()) {
        value["saved_bytes"] = saved.iter().map(|(_, exact)| json!(exact)).collect();
    }
    value["saved"] = saved.into_iter().map(|(text, _)| json!(text)).collect();
    value["failed"] = app
        .focused()
        .saves
        .failed
        .iter()
        .map(|(f, r)| json!({"filename": f.filename, "error": r}))
        .collect();
    value["nodes"] = json!(nodes);
    value
}

/// The last line of a batch: the overall status and code (the worst job's) and every
/// job's end.
fn batch_done_json(app: &App) -> Value {
    let mut value = done_line(
        app.status(),
        app.exit_code(),
        app.deciding().fatal.as_deref(),
    );
    value["client_id"] = json!(app.server().client_id);
    value["elapsed"] = json!(app.elapsed().as_secs_f64());
    value["jobs"] = app.session.jobs.iter().map(job_done_json).collect();
    value["saved"] = app
        .session
        .jobs
        .iter()
        .flat_map(|t| &t.saves.saved)
        .map(|s| json!(crate::path_text::json_parts(&s.path).0))
        .collect();
    value["failed"] = app
        .session
        .jobs
        .iter()
        .flat_map(|t| &t.saves.failed)
        .map(|(f, r)| json!({"filename": f.filename, "error": r}))
        .collect();
    value
}

fn done_plain(app: &App) -> String {
    if app.is_batch() {
        let count = |status: &str| {
            app.session
                .jobs
                .iter()
                .filter(|t| t.status() == status)
                .count()
        };
        let saved: usize = app.session.jobs.iter().map(|t| t.saves.saved.len()).sum();
        return format!(
            "done: {} ({} jobs: {} success, {} error, {} interrupted) in {:.1}s, {saved} file(s) saved",
            app.status(),
            app.session.jobs.len(),
            count("success"),
            count("error") + count("incomplete"),
            count("interrupted"),
            app.elapsed().as_secs_f64(),
        );
    }
    let mut line = format!(
        "done: {} in {:.1}s, {} file(s) saved",
        app.status(),
        app.elapsed().as_secs_f64(),
        app.focused().saves.saved.len()
    );
    if !app.focused().saves.failed.is_empty() {
        line.push_str(&format!(", {} not saved", app.focused().saves.failed.len()));
    }
    if let Some(reason) = &app.focused().fatal {
        line.push_str(&format!(" ({})", sanitize(reason)));
    }
    line
}

/// Runs the app without a terminal UI until it exits; returns the exit code.
pub async fn run(mut runtime: Runtime, mut app: App, format: Format, out: impl Write) -> i32 {
    let mut printer = Printer::new(format, out);
    let signals = crate::signals::spawn(runtime.sender(), true);
    runtime.start();
    let code = loop {
        let batch = runtime.next_batch().await;
        if batch.is_empty() {
            break app.exit_code();
        }
        let mut exit = None;
        for event in batch {
            let effects = app::update(&mut app, event);
            for line in app.take_reports() {
                let _ = printer.print(line, &app);
            }
            if let Some(code) = runtime.perform(effects) {
                exit = Some(code);
                break;
            }
        }
        let _ = printer.flush();
        if let Some(code) = exit {
            break code;
        }
    };
    signals.abort();
    let _ = printer.done(&app);
    runtime.shutdown();
    code
}
