//! The top line: server, connection, where the run is, the prompt id and the elapsed time.

use super::{format, theme};
use crate::app::{App, Connection};
use crate::job::{Outcome, Phase};
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::time::Duration;

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    // Items in order of importance: the least important go first when the line is short.
    let phase = Span::styled(phase_label(app), theme::phase(app.job().phase));
    let connection = Span::styled(
        connection_label(app.server().connection),
        theme::connection(app.server().connection),
    );
    let server = Span::raw(sanitize(server_label(&app.server().label)).into_owned());
    let name = Span::styled("comfy-tui", theme::title());
    let queue = queue_label(app).map(Span::raw);
    let prompt = vec![
        Span::styled("prompt ", theme::label()),
        Span::raw(sanitize(app.job().prompt_id.short()).into_owned()),
        Span::raw("  "),
    ];
    let clock = Span::styled(format::clock(elapsed(app)), theme::title());
    // The seed in use, so that a good picture can be made again.
    let seed = match app.focused().spec.seeds.as_slice() {
        [] => None,
        [one] => Some(format!("seed {}  ", one.value)),
        many => Some(format!("{} seeds  ", many.len())),
    }
    .map(|text| Span::styled(text, theme::label()));

    let width = usize::from(area.width);
    let mut show_name = true;
    let mut show_prompt = true;
    let mut show_server = true;
    let mut show_seed = seed.is_some();
    let sep_width = 3;
    let seed_width = seed.as_ref().map_or(0, |s| s.width());
    let fits = |name: bool, prompt: bool, server: bool, seed: bool| {
        let mut total = phase.width() + sep_width + connection.width() + clock.width() + 1;
        if seed {
            total += seed_width;
        }
        total += queue.as_ref().map_or(0, |q| q.width() + sep_width);
        if name {
            total += 9 + sep_width;
        }
        if server {
            total += server_width(app) + sep_width;
        }
        if prompt {
            total += 17;
        }
        total <= width
    };
    if !fits(show_name, show_prompt, show_server, show_seed) {
        show_seed = false;
    }
    if !fits(show_name, show_prompt, show_server, show_seed) {
        show_name = false;
    }
    if !fits(show_name, show_prompt, show_server, show_seed) {
        show_prompt = false;
    }
    if !fits(show_name, show_prompt, show_server, show_seed) {
        show_server = false;
    }

    let sep = || Span::styled(" │ ", theme::border());
    let mut left = Vec::new();
    for (shown, span) in [
        (show_name, name),
        (show_server, server),
        (true, connection),
        (true, phase),
    ] {
        if shown {
            if !left.is_empty() {
                left.push(sep());
            }
            left.push(span);
        }
    }
    if let Some(queue) = queue {
        left.push(sep());
        left.push(queue);
    }
    let mut right = Vec::new();
    if let Some(seed) = seed.filter(|_| show_seed) {
        right.push(seed);
    }
    if show_prompt {
        right.extend(prompt);
    }
    right.push(clock);
    let right_width: usize = right.iter().map(|s| s.width()).sum();
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width as u16)])
            .areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)), left_area);
    frame.render_widget(
        Paragraph::new(Line::from(right)).alignment(Alignment::Right),
        right_area,
    );
}

fn server_width(app: &App) -> usize {
    Span::raw(sanitize(server_label(&app.server().label))).width()
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
    match app.job().phase {
        Phase::Connecting => "connecting".into(),
        Phase::Submitting => "submitting".into(),
        Phase::Queued => "queued".into(),
        Phase::Running if app.focused().user_cancelled() => "cancelling".into(),
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
    match app.job().phase {
        Phase::Queued => Some(
            match (app.job().queue_position, app.job().queue_remaining) {
                (Some(0), _) => "next".into(),
                (Some(ahead), _) => format!("{ahead} ahead"),
                (None, Some(remaining)) => format!("queue {remaining}"),
                (None, None) => "waiting".into(),
            },
        ),
        Phase::Running => app
            .job()
            .queue_remaining
            .map(|remaining| format!("queue {remaining}")),
        _ => None,
    }
}

/// Time since start; frozen once the run ends (the view stays, the clock should not run on).
pub fn elapsed(app: &App) -> Duration {
    let end = app.job().finished_at.unwrap_or(app.now);
    end.saturating_duration_since(app.started)
}
