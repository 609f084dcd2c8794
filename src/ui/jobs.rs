//! A batch's jobs in the run view: one row each (index, prompt, state with its progress,
//! seed, swept values), the job the rest of the view shows highlighted; under them the
//! contact strip, the finished jobs' saved outputs.

use super::{format, theme};
use crate::app::App;
use crate::job::{Outcome, Phase};
use crate::session::Tracked;
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// The rows the panel wants (border, the jobs, the strip), before the layout caps it.
pub fn wanted_height(app: &App) -> u16 {
    if !app.is_batch() {
        return 0;
    }
    u16::try_from(app.session.jobs.len())
        .unwrap_or(u16::MAX)
        .saturating_add(3)
}

/// The first job row shown so that the focused one is in view.
fn first_row(app: &App, rows: usize) -> usize {
    let focus = app.session.focus.0;
    let total = app.session.jobs.len();
    focus
        .saturating_sub(rows / 2)
        .min(total.saturating_sub(rows))
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let jobs = &app.session.jobs;
    let done = jobs.iter().filter(|t| t.job.is_finished()).count();
    let title = format!(" Jobs {done}/{} done ", jobs.len());
    let block = Block::bordered()
        .border_style(theme::border())
        .title(Span::styled(title, theme::title()))
        .title_bottom(Span::styled(" [ ] job  C cancel all ", theme::label()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let rows = usize::from(inner.height.saturating_sub(1)).max(1);
    let first = first_row(app, rows);
    let mut lines: Vec<Line<'_>> = jobs
        .iter()
        .skip(first)
        .take(rows)
        .map(|t| row(t, app, inner.width))
        .collect();
    lines.truncate(usize::from(inner.height.saturating_sub(1)).max(1));
    if inner.height > 1 {
        lines.push(contact_strip(app, inner.width));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn row<'a>(tracked: &'a Tracked, app: &App, width: u16) -> Line<'a> {
    let job = &tracked.job;
    let state = match job.phase {
        Phase::Connecting => "waiting".to_owned(),
        Phase::Submitting => "submitting".to_owned(),
        Phase::Queued => match job.queue_position {
            Some(0) => "next".to_owned(),
            Some(n) => format!("queued #{n}"),
            None => "queued".to_owned(),
        },
        Phase::Running => format!("running {:>3.0}%", job.graph_fraction() * 100.0),
        Phase::Finished(_) => tracked.status().to_owned(),
    };
    let style = match job.outcome() {
        Some(Outcome::Success) if tracked.saves.failed.is_empty() => theme::good(),
        Some(Outcome::Success) | Some(Outcome::Error) | Some(Outcome::Rejected) => theme::error(),
        Some(_) => theme::warning(),
        None if job.phase == Phase::Running => theme::phase(job.phase),
        None => theme::dim(),
    };
    let seed = tracked
        .spec
        .seeds
        .first()
        .map(|s| format!("seed {}", s.value))
        .unwrap_or_default();
    let swept: Vec<String> = tracked
        .spec
        .swept
        .iter()
        .map(|(target, value)| format!("{}={}", sanitize(target), sanitize(value)))
        .collect();
    let mark = if tracked.key == app.session.focus {
        "▶"
    } else {
        " "
    };
    let text = format!(
        "{mark}{:>4} {} {:<13} {:<16} {}",
        tracked.key.0,
        sanitize(job.prompt_id.short()),
        state,
        seed,
        swept.join(" ")
    );
    let text = format::truncate(&text, usize::from(width));
    let mut line = Line::from(Span::styled(text, style));
    if tracked.key == app.session.focus {
        line = line.patch_style(theme::highlight());
    }
    line
}

/// The finished jobs' outputs, newest last, as many as fit: `#3 t_00004_.png`.
fn contact_strip(app: &App, width: u16) -> Line<'static> {
    let mut items: Vec<String> = app
        .session
        .jobs
        .iter()
        .filter(|t| t.job.is_finished())
        .flat_map(|t| {
            t.saves.saved.iter().map(move |s| {
                let name = s
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!("#{} {}", t.key.0, sanitize(&name))
            })
        })
        .collect();
    if items.is_empty() {
        return Line::styled("no outputs yet", theme::dim());
    }
    // The newest that fit.
    let width = usize::from(width);
    let mut shown = Vec::new();
    let mut used = 0;
    while let Some(item) = items.pop() {
        let cost = item.chars().count() + 2;
        if used + cost > width {
            break;
        }
        used += cost;
        shown.push(item);
    }
    shown.reverse();
    Line::styled(shown.join("  "), theme::good())
}
