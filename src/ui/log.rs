//! The event log: the reports, one line each, stamped with the time into the run; it
//! follows the newest line until the user scrolls it.

use super::scroll::{self, View};
use super::{format, theme};
use crate::app::{App, LogLine, Pane, Report};
use crate::comfy::NodeId;
use crate::job::Job;
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// One report in words, nodes named from the job's graph (not yet sanitized: callers
/// sanitize at the edge).
/// `seed 42` for one seed, `seeds 3: 42, 6: 7` for several (node ids name them).
pub fn seed_list(seeds: &[crate::comfy::workflow::Seed]) -> String {
    match seeds {
        [one] => format!("seed {}", one.value),
        many => format!(
            "seeds {}",
            many.iter()
                .map(|s| format!("{}: {}", s.node, s.value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

pub fn describe(report: &Report, job: &Job) -> String {
    let node = |id: &NodeId| match job.node(id) {
        Some(n) => format!("{} ({id})", n.name()),
        None => format!("node {id}"),
    };
    match report {
        Report::Submitted {
            prompt_id,
            number,
            node_errors,
            seeds,
            picks,
        } => {
            let mut text = format!("submitted {prompt_id} (#{})", super::format::count(*number));
            if !node_errors.is_empty() {
                text.push_str(&format!(", {} node errors", node_errors.len()));
            }
            if !seeds.is_empty() {
                text.push_str(&format!(", {}", seed_list(seeds)));
            }
            for pick in picks {
                text.push_str(&format!(", {pick}"));
            }
            text
        }
        Report::Rejected(rejection) => format!("rejected: {rejection}"),
        Report::NotSubmitted { reason } => format!("not submitted: {reason}"),
        Report::Attached { prompt_id, .. } => format!("attached to {prompt_id}"),
        Report::Queued {
            position,
            remaining,
        } => match (position, remaining) {
            (Some(0), _) => "queued, next to run".into(),
            (Some(p), _) => format!("queued, {p} ahead"),
            (None, Some(r)) => format!("queued ({r} in the queue)"),
            (None, None) => "queued".into(),
        },
        Report::Started => match job.expected_total() {
            Some(took) => format!(
                "execution started (about {} by earlier runs)",
                super::format::duration(took)
            ),
            None => "execution started".into(),
        },
        Report::Cached { nodes } if nodes.is_empty() => "nothing cached".into(),
        Report::Cached { nodes } => format!("{} nodes cached", nodes.len()),
        Report::Executing { node: id, .. } => format!("executing {}", node(id)),
        Report::Progress {
            node: id,
            value,
            max,
        } => format!(
            "{} step {}/{}",
            node(id),
            super::format::count(*value),
            super::format::count(*max)
        ),
        Report::Preview { format, bytes, .. } => {
            format!(
                "preview ({}, {})",
                format.name(),
                super::format::bytes(*bytes as u64)
            )
        }
        Report::Output {
            path: Some(path),
            bytes,
            ..
        } => format!(
            "saved {} ({})",
            crate::path_text::display(path),
            super::format::bytes(bytes.unwrap_or(0))
        ),
        Report::Output { file, .. } => format!("output {}", file.filename),
        Report::OutputFailed { file, reason, .. } => {
            format!("could not save {}: {reason}", file.filename)
        }
        Report::Text { node: id, text } => format!("{}: {text}", node(id)),
        Report::Error(error) => {
            let at = error
                .node_id
                .as_ref()
                .map(node)
                .unwrap_or_else(|| "a node".into());
            format!("{at} failed: {}: {}", error.exception_type, error.message)
        }
        Report::Interrupted { node: Some(id) } => format!("interrupted at {}", node(id)),
        Report::Interrupted { node: None } => "interrupted".into(),
        Report::Warning { message } => message.clone(),
        Report::JobDone { status, .. } => format!("job done: {status}"),
    }
}

fn style(report: &Report) -> Style {
    match report {
        Report::Rejected(_) | Report::NotSubmitted { .. } | Report::Error(_) => theme::error(),
        Report::OutputFailed { .. } => theme::error(),
        Report::Warning { .. } | Report::Interrupted { .. } => theme::warning(),
        Report::Output { .. } => theme::good(),
        _ => theme::base(),
    }
}

/// Progress and preview lines come many times a second: the log keeps them (the JSON
/// stream needs them) but the panel skips them so that it stays readable.
fn is_chatter(report: &Report) -> bool {
    matches!(report, Report::Progress { .. } | Report::Preview { .. })
}

/// The lines the panel shows, oldest first, each with its ring index (counting the lines
/// the ring dropped, so that an index names the same line for good).
pub fn entries(app: &App) -> Vec<(usize, &LogLine)> {
    let dropped = usize::try_from(app.log.dropped()).unwrap_or(usize::MAX);
    app.log
        .iter()
        .enumerate()
        .filter(|(_, line)| !is_chatter(&line.report))
        .map(|(i, line)| (dropped.saturating_add(i), line))
        .collect()
}

/// Where the first line at `index` (a ring index) is among `entries`: the first one at
/// or after it (the line itself may have been dropped since).
fn position(entries: &[(usize, &LogLine)], index: usize) -> usize {
    entries.partition_point(|(i, _)| *i < index)
}

/// The ring index of the line shown first when the view starts at row `first`.
pub fn anchor(app: &App, first: usize) -> usize {
    let entries = entries(app);
    entries.get(first).or(entries.last()).map_or(0, |(i, _)| *i)
}

fn view_of(app: &App, area: Rect, entries: &[(usize, &LogLine)]) -> View {
    let visible = usize::from(Block::bordered().inner(area).height);
    let total = entries.len();
    let max_first = total.saturating_sub(visible);
    let first = if app.ui.log.follow {
        max_first
    } else {
        position(entries, app.ui.log.offset).min(max_first)
    };
    View {
        area,
        first,
        visible,
        total,
    }
}

/// The panel's view in `area`: the newest lines while following, else from the line the
/// user scrolled to.
pub fn view(app: &App, area: Rect) -> View {
    view_of(app, area, &entries(app))
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let mut block = Block::bordered()
        .border_style(theme::pane_border(scroll::marked(app, Pane::Log)))
        .title(Span::styled(" Log ", theme::title()));
    let entries = entries(app);
    let view = view_of(app, area, &entries);
    let mut lines: Vec<Line<'_>> = entries
        .iter()
        .skip(view.first)
        .take(view.visible)
        .map(|(_, line)| {
            let at = line.at.saturating_duration_since(app.started);
            Line::from(vec![
                Span::styled(format!("{:>6} ", format::clock(at)), theme::dim()),
                Span::styled(
                    sanitize(&describe(&line.report, app.job())).into_owned(),
                    style(&line.report),
                ),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("nothing yet", theme::dim()));
    }
    if view.total > view.visible && view.visible > 0 {
        let (from, to, of) = view.position();
        let mode = if app.ui.log.follow {
            "following"
        } else {
            "f: follow"
        };
        block = block.title_bottom(
            Line::styled(format!(" {from}-{to} of {of} · {mode} "), theme::dim()).right_aligned(),
        );
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
