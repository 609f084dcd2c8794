//! The two progress rows: the whole graph, and the node that is running now.

use super::{format, header, theme};
use crate::app::App;
use crate::job::{NodeState, Outcome, Phase};
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Width of the row's left label column.
const LABEL_WIDTH: u16 = 6;
/// The narrowest bar worth drawing.
const MIN_BAR: u16 = 12;

/// A bar of `width` cells, `ratio` of it filled; never panics on odd ratios (NaN, > 1).
pub fn bar(width: u16, ratio: f64, style: Style) -> Line<'static> {
    let ratio = if ratio.is_finite() {
        ratio.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let filled = (f64::from(width) * ratio).round() as usize;
    let empty = usize::from(width).saturating_sub(filled);
    Line::from(vec![
        Span::styled("━".repeat(filled), style),
        Span::styled("─".repeat(empty), theme::dim()),
    ])
}

/// `label │ bar │ text`, with the text given the room it needs first.
fn gauge_row(
    frame: &mut Frame<'_>,
    area: Rect,
    label: &str,
    ratio: Option<f64>,
    style: Style,
    text: Line<'_>,
) {
    let text_width = (text.width() as u16).min(area.width.saturating_sub(LABEL_WIDTH + 8));
    let bar_constraint = if ratio.is_some() {
        Constraint::Min(4)
    } else {
        Constraint::Length(0)
    };
    let [label_area, bar_area, _, text_area] = Layout::horizontal([
        Constraint::Length(LABEL_WIDTH),
        bar_constraint,
        Constraint::Length(u16::from(ratio.is_some())),
        if ratio.is_some() {
            Constraint::Length(text_width)
        } else {
            Constraint::Min(0)
        },
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Span::styled(label, theme::label())),
        label_area,
    );
    if let Some(ratio) = ratio {
        frame.render_widget(Paragraph::new(bar(bar_area.width, ratio, style)), bar_area);
    }
    frame.render_widget(Paragraph::new(text), text_area);
}

/// Nodes done and cached out of the graph.
pub fn render_graph(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let job = app.job();
    let (done, total) = job.graph_counts();
    let cached = job.cached_count();
    let fraction = job.graph_fraction();
    let mut text = vec![Span::raw(format!("{done}/{total} nodes"))];
    if cached > 0 {
        text.push(Span::styled(format!(" · {cached} cached"), theme::dim()));
    }
    text.push(Span::styled(
        format!(" {:>4.0}%", fraction * 100.0),
        theme::title(),
    ));
    if let Some(left) = job.expected_remaining(app.now) {
        // Learned from earlier runs of this shape; rounded up, and never "0:00" while
        // the run goes on.
        let seconds = (left.as_secs_f64().ceil() as u64).max(1);
        text.push(Span::raw(format!(
            "  ETA {}",
            format::clock(std::time::Duration::from_secs(seconds))
        )));
    }
    let style = match job.outcome() {
        Some(outcome) if outcome != Outcome::Success => theme::outcome(outcome),
        _ => theme::graph_gauge(),
    };
    gauge_row(
        frame,
        area,
        "graph",
        Some(fraction),
        style,
        Line::from(text),
    );
}

/// The running node's steps, rate and ETA; before and after the run, what the run is doing.
pub fn render_node(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let job = app.job();
    match job.phase {
        Phase::Connecting | Phase::Submitting => {
            let text = Line::styled("waiting for the server…", theme::dim());
            gauge_row(frame, area, "node", None, theme::base(), text);
        }
        Phase::Queued => {
            let text = match job.queue_position {
                Some(ahead) if ahead > 0 => format!("queued, {ahead} ahead of us"),
                _ => "queued, waiting for the worker".into(),
            };
            gauge_row(
                frame,
                area,
                "node",
                None,
                theme::base(),
                Line::styled(text, theme::warning()),
            );
        }
        Phase::Running => render_running(frame, area, app),
        Phase::Finished(outcome) => {
            let mut spans = vec![Span::styled(
                header::outcome_label(outcome),
                theme::outcome(outcome),
            )];
            if let (Some(start), Some(end)) = (job.started_at, job.finished_at) {
                spans.push(Span::raw(format!(
                    " in {}",
                    format::duration(end.saturating_duration_since(start))
                )));
            }
            let at = job
                .error
                .as_ref()
                .and_then(|e| e.node_id.clone())
                .or_else(|| job.interrupted_node.clone());
            if let Some(node) = at.as_ref().and_then(|id| job.node(id)) {
                spans.push(Span::raw(format!(
                    " at {} (node {})",
                    sanitize(node.name()),
                    sanitize(node.id.as_str())
                )));
            }
            gauge_row(frame, area, "node", None, theme::base(), Line::from(spans));
        }
    }
}

fn render_running(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let job = app.job();
    let running = job
        .nodes
        .iter()
        .filter(|n| n.state == NodeState::Running)
        .max_by_key(|n| n.started);
    let step = job.step.as_ref();
    let node = step
        .and_then(|s| job.node(&s.node))
        .filter(|n| n.state == NodeState::Running)
        .or(running);
    let name = match node {
        Some(node) if node.title.is_some() && node.name() != node.class_type => {
            format!("{} ({})", sanitize(node.name()), sanitize(&node.class_type))
        }
        Some(node) => sanitize(node.name()).into_owned(),
        None => "starting…".into(),
    };
    // Steps of an id outside the graph (a subgraph's inner node) belong to the running node.
    let step = step.filter(|s| node.is_none_or(|n| n.id == s.node) || job.node(&s.node).is_none());
    let Some(step) = step else {
        let mut spans = vec![Span::styled(name, theme::title())];
        if let Some(elapsed) = node.and_then(|n| n.elapsed(app.now)) {
            spans.push(Span::styled(
                format!("  running {}", format::duration(elapsed)),
                theme::dim(),
            ));
        }
        gauge_row(frame, area, "node", None, theme::base(), Line::from(spans));
        return;
    };
    let ratio = if step.max > 0.0 {
        step.value / step.max
    } else {
        0.0
    };
    let short_name = node.map_or_else(|| name.clone(), |n| sanitize(n.name()).into_owned());
    let steps = format!(
        "  {}/{}",
        format::count(step.value),
        format::count(step.max)
    );
    let rate = step
        .rate
        .per_second()
        .map(|r| format!("  {}", format::rate(r)));
    let eta = step
        .rate
        .eta(step.value, step.max)
        // Rounded up: "0:00" while steps remain would read as "done".
        .map(|eta| {
            format!(
                "  ETA {}",
                format::clock(std::time::Duration::from_secs(
                    eta.as_secs_f64().ceil() as u64
                ))
            )
        });
    let line = |name: &str, with_rate: bool| {
        let mut spans = vec![
            Span::styled(name.to_owned(), theme::title()),
            Span::raw(steps.clone()),
        ];
        if let Some(rate) = rate.as_ref().filter(|_| with_rate) {
            spans.push(Span::styled(rate.clone(), theme::dim()));
        }
        if let Some(eta) = &eta {
            spans.push(Span::raw(eta.clone()));
        }
        Line::from(spans)
    };
    // The most detail that leaves the bar some room: the class goes first, then the rate.
    let room = usize::from(area.width.saturating_sub(LABEL_WIDTH + MIN_BAR + 1));
    let text = [
        line(&name, true),
        line(&short_name, true),
        line(&short_name, false),
    ]
    .into_iter()
    .find(|l| l.width() <= room)
    .unwrap_or_else(|| line(&short_name, false));
    gauge_row(frame, area, "node", Some(ratio), theme::node_gauge(), text);
}
