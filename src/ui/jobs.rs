//! A batch's jobs in the run view: one row each (index, prompt, state with its progress,
//! seed, swept values), the job the rest of the view shows highlighted; under them the
//! contact strip: the finished jobs' saved pictures, small, newest last (their names when
//! there is no room for pictures).

use super::PreviewState;
use super::{format, theme};
use crate::app::App;
use crate::job::{Outcome, Phase};
use crate::session::Tracked;
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui_image::Image;

/// A contact-strip picture's cells (half blocks: two pixels a cell, top and bottom).
pub const THUMB_WIDTH: u16 = 10;
pub const THUMB_HEIGHT: u16 = 5;
/// The pictures and their labels under them.
const STRIP_HEIGHT: u16 = THUMB_HEIGHT + 1;

/// The panel's height within `available` rows: every job and the pictures when they fit,
/// else pictures beside a few job rows, else the jobs and a line of names.
pub fn height(app: &App, available: u16) -> u16 {
    if !app.is_batch() {
        return 0;
    }
    let jobs = u16::try_from(app.session.jobs.len()).unwrap_or(u16::MAX);
    let text = jobs.saturating_add(3);
    if strip_files(app).is_empty() {
        return text.min(available);
    }
    let pictures = jobs.saturating_add(2 + STRIP_HEIGHT);
    let least = 2 + STRIP_HEIGHT + jobs.min(3);
    if pictures <= available {
        pictures
    } else if least <= available {
        available
    } else {
        text.min(available)
    }
}

/// Every finished job's saved pictures, in job order: `(job, path)`.
fn strip_files(app: &App) -> Vec<(usize, &std::path::Path)> {
    app.session
        .jobs
        .iter()
        .filter(|t| t.job.is_finished())
        .flat_map(|t| {
            t.saves
                .saved
                .iter()
                .filter(|s| is_picture(&s.path))
                .map(move |s| (t.key.0, s.path.as_path()))
        })
        .collect()
}

fn is_picture(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

/// Where the pictures go inside the panel at `area`: the newest that fit, with their
/// cells; empty when there is no room for pictures.
pub fn strip_cells(app: &App, area: Rect) -> Vec<(usize, std::path::PathBuf, Rect)> {
    let inner = Block::bordered().inner(area);
    // Pictures only when a few job rows still show beside them.
    let rows = u16::try_from(app.session.jobs.len().min(3)).unwrap_or(3);
    if inner.height < STRIP_HEIGHT + rows {
        return Vec::new();
    }
    let files = strip_files(app);
    let fit = usize::from(inner.width / (THUMB_WIDTH + 1));
    let y = inner.y + inner.height - STRIP_HEIGHT;
    files
        .iter()
        .skip(files.len().saturating_sub(fit))
        .enumerate()
        .map(|(i, (job, path))| {
            let x = inner.x + u16::try_from(i).unwrap_or(0) * (THUMB_WIDTH + 1);
            (
                *job,
                path.to_path_buf(),
                Rect::new(x, y, THUMB_WIDTH, THUMB_HEIGHT),
            )
        })
        .collect()
}

/// The pictures the strip shows, for the loop to decode, and the size each must fit.
pub fn wanted_thumbs(app: &App, area: Rect) -> (Vec<std::path::PathBuf>, ratatui::layout::Size) {
    let cells = strip_cells(app, area);
    (
        cells.into_iter().map(|(_, path, _)| path).collect(),
        ratatui::layout::Size::new(THUMB_WIDTH, THUMB_HEIGHT),
    )
}

/// The first job row shown so that the focused one is in view.
fn first_row(app: &App, rows: usize) -> usize {
    let focus = app.session.focus.0;
    let total = app.session.jobs.len();
    focus
        .saturating_sub(rows / 2)
        .min(total.saturating_sub(rows))
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, preview: &PreviewState) {
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
    let cells = strip_cells(app, area);
    let strip = if cells.is_empty() { 1 } else { STRIP_HEIGHT };
    let rows = usize::from(inner.height.saturating_sub(strip)).max(1);
    let first = first_row(app, rows);
    let mut lines: Vec<Line<'_>> = jobs
        .iter()
        .skip(first)
        .take(rows)
        .map(|t| row(t, app, inner.width))
        .collect();
    if cells.is_empty() && inner.height > 1 {
        lines.push(contact_strip(app, inner.width));
    }
    frame.render_widget(Paragraph::new(lines), inner);
    for (job, path, cell) in cells {
        match preview.thumb(&path) {
            Some(protocol) => {
                let size = protocol.size();
                let rect = Rect::new(
                    cell.x,
                    cell.y,
                    size.width.min(cell.width),
                    size.height.min(cell.height),
                );
                frame.render_widget(Image::new(protocol), rect);
            }
            None => frame.render_widget(Paragraph::new(Line::styled("…", theme::dim())), cell),
        }
        let label = Rect::new(cell.x, cell.y + cell.height, cell.width, 1);
        frame.render_widget(
            Paragraph::new(Line::styled(format!("#{job}"), theme::label())),
            label,
        );
    }
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
