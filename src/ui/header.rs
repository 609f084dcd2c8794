//! The top line: server, connection, where the run is, the prompt id and the elapsed time.

use super::{format, theme};
use crate::app::{App, Connection};
use crate::job::{Outcome, Phase};
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::time::Duration;

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let sep = || Span::styled(" │ ", theme::border());
    let mut left = vec![
        Span::styled("comfy-tui", theme::title()),
        sep(),
        Span::raw(sanitize(server_label(&app.config.server)).into_owned()),
        sep(),
        Span::styled(
            connection_label(app.connection),
            theme::connection(app.connection),
        ),
        sep(),
        Span::styled(phase_label(app), theme::phase(app.job.phase)),
    ];
    if let Some(queue) = queue_label(app) {
        left.push(sep());
        left.push(Span::raw(queue));
    }
    let right = vec![
        Span::styled("prompt ", theme::label()),
        Span::raw(sanitize(app.job.prompt_id.short()).into_owned()),
        Span::raw("  "),
        Span::styled(format::clock(elapsed(app)), theme::title()),
    ];
    let right_width: usize = right.iter().map(|s| s.width()).sum();
    let [left_area, right_area] = ratatui::layout::Layout::horizontal([
        ratatui::layout::Constraint::Min(0),
        ratatui::layout::Constraint::Length(right_width as u16 + 1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), left_area);
    frame.render_widget(
        Paragraph::new(Line::from(right)).alignment(Alignment::Right),
        right_area,
    );
}

/// The server without its scheme: the host is what people recognise.
fn server_label(server: &str) -> &str {
    server
        .strip_prefix("http://")
        .or_else(|| server.strip_prefix("https://"))
        .unwrap_or(server)
        .trim_end_matches('/')
}

pub fn connection_label(connection: Connection) -> String {
    match connection {
        Connection::Connecting => "● connecting".into(),
        Connection::Connected => "● connected".into(),
        Connection::Reconnecting { attempt } => format!("● reconnecting (attempt {attempt})"),
    }
}

/// What the run is doing, in a word or two.
pub fn phase_label(app: &App) -> String {
    match app.job.phase {
        Phase::Connecting => "connecting".into(),
        Phase::Submitting => "submitting".into(),
        Phase::Queued => "queued".into(),
        Phase::Running if app.user_cancelled() => "cancelling".into(),
        Phase::Running => "running".into(),
        Phase::Finished(outcome) => outcome_label(outcome).into(),
    }
}

pub fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Success => "done",
        Outcome::Error => "failed",
        Outcome::Interrupted => "interrupted",
        Outcome::Rejected => "rejected",
        Outcome::Lost => "lost",
        Outcome::Timeout => "timed out",
    }
}

/// Queue position while waiting; the server's queue length otherwise.
fn queue_label(app: &App) -> Option<String> {
    match app.job.phase {
        Phase::Queued => Some(match (app.job.queue_position, app.job.queue_remaining) {
            (Some(0), _) => "next".into(),
            (Some(ahead), _) => format!("{ahead} ahead"),
            (None, Some(remaining)) => format!("queue {remaining}"),
            (None, None) => "waiting".into(),
        }),
        Phase::Running => app
            .job
            .queue_remaining
            .map(|remaining| format!("queue {remaining}")),
        _ => None,
    }
}

/// Time since start; frozen once the run ends (the view stays, the clock should not run on).
pub fn elapsed(app: &App) -> Duration {
    let end = app.job.finished_at.unwrap_or(app.now);
    end.saturating_duration_since(app.started)
}
