//! The cockpit's jobs table: one row per prompt (id, whose, nodes, state with progress or
//! queue position, age or run time, outputs), the selected row highlighted, scrolled so
//! that it stays in view.

use std::time::Duration;

use super::CockpitView;
use crate::cockpit::selection::keep_in_view;
use crate::cockpit::{JobRow, Owner, RowState};
use crate::text::sanitize;
use crate::ui::format::truncate;
use crate::ui::{gauges, theme};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};

const ID: u16 = 8;
const NODES: u16 = 5;
const TIME: u16 = 6;
const OUT: u16 = 3;
/// `■ interrupted`, the longest state word with its mark.
const STATE_MIN: u16 = 13;
const WHOSE_MIN: u16 = 6;
const WHOSE_MAX: u16 = 20;
/// Six columns, five gaps of one cell.
const GAPS: u16 = 5;

/// The rows' lines inside the border, under the header.
pub fn body(area: Rect) -> Rect {
    let inner = area.inner(Margin::new(1, 1));
    Rect {
        y: inner.y.saturating_add(1),
        height: inner.height.saturating_sub(1),
        ..inner
    }
}

/// `3s`, `2m05s`, `1h02m`, `2d03h`: whole units, two of them at most.
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// The widths of the two flexible columns (whose, state) in `inner` cells: the state gets
/// room for a progress bar first, whoever's id what is left, within its bounds.
fn flexible(inner: u16) -> (u16, u16) {
    let rest = inner.saturating_sub(ID + NODES + TIME + OUT + GAPS);
    let whose = rest.saturating_sub(24).clamp(WHOSE_MIN, WHOSE_MAX);
    (whose, rest.saturating_sub(whose).max(STATE_MIN))
}

fn owner_cell(owner: &Owner, width: u16) -> Span<'static> {
    match owner {
        Owner::Mine => Span::styled("mine", theme::mine()),
        Owner::Client(id) => Span::raw(truncate(&sanitize(id.as_str()), usize::from(width))),
        Owner::Unknown => Span::styled("—", theme::dim()),
    }
}

/// `▶ running ━━━━──── 45%`, `· pending #2`, `✓ done`: the bar only when it has room.
pub fn state_cell(row: &JobRow, width: u16) -> Line<'static> {
    let style = theme::job_state(row.state);
    let mut spans = vec![Span::styled(
        format!("{} {}", theme::job_mark(row.state), row.state.word()),
        style,
    )];
    match (row.state, row.progress) {
        (RowState::Running, Some(progress)) => {
            let progress = if progress.is_finite() {
                progress.clamp(0.0, 1.0)
            } else {
                0.0
            };
            // Unpadded: the bar gives up a cell at 10% and 100% rather than the text
            // showing a double space the rest of the time.
            let percent = format!("{:.0}%", progress * 100.0);
            let used = spans[0].width() + 1 + percent.len() + 1;
            let bar = usize::from(width).saturating_sub(used);
            if bar >= 3 {
                spans.push(Span::raw(" "));
                let bar = gauges::bar(bar as u16, progress, theme::node_gauge());
                spans.extend(bar.spans);
            }
            spans.push(Span::raw(format!(" {percent}")));
        }
        (RowState::Pending { position }, _) => {
            spans.push(Span::styled(format!(" #{position}"), theme::dim()));
        }
        _ => {}
    }
    Line::from(spans)
}

fn row<'a>(row: &JobRow, now_ms: u64, whose: u16, state: u16) -> Row<'a> {
    let time = row
        .age_or_duration(now_ms)
        .map(age)
        .unwrap_or_else(|| "—".into());
    let outputs = match row.state {
        RowState::Finished(_) => row.outputs.to_string(),
        // Nothing is known of outputs before the history has the prompt.
        RowState::Running | RowState::Pending { .. } => String::new(),
    };
    Row::new([
        Cell::from(sanitize(row.prompt_id.short()).into_owned()),
        Cell::from(owner_cell(&row.owner, whose)),
        Cell::from(Line::from(row.nodes.to_string()).alignment(Alignment::Right)),
        Cell::from(state_cell(row, state)),
        Cell::from(Line::from(time).alignment(Alignment::Right)),
        Cell::from(Line::from(outputs).alignment(Alignment::Right)),
    ])
}

fn right(text: &'static str) -> Cell<'static> {
    Cell::from(Line::from(text).alignment(Alignment::Right))
}

pub fn render(frame: &mut Frame<'_>, area: Rect, view: &CockpitView<'_>) {
    let rows = view.rows;
    let visible = usize::from(body(area).height);
    let first = keep_in_view(view.offset, view.selected, visible, rows.len());
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme::border())
        .title(Span::styled(
            format!(" Jobs {} ", rows.len()),
            theme::title(),
        ));
    if rows.len() > visible && visible > 0 {
        let last = (first + visible).min(rows.len());
        block = block.title_bottom(
            Line::styled(
                format!(" {}–{last} of {} ", first + 1, rows.len()),
                theme::dim(),
            )
            .alignment(Alignment::Right),
        );
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if rows.is_empty() {
        let words = match view.filter {
            Some(query) if !query.trim().is_empty() => "no job matches the filter",
            _ => "no jobs: the queue and the history are empty",
        };
        frame.render_widget(
            Paragraph::new(Span::styled(words, theme::dim())),
            body(area),
        );
    }
    let (whose, state) = flexible(inner.width);
    let header = Row::new([
        Cell::from("id"),
        Cell::from("whose"),
        right("nodes"),
        Cell::from("state"),
        right("time"),
        right("out"),
    ])
    .style(theme::table_header());
    let lines = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, job)| {
            let line = row(job, view.now_ms, whose, state);
            if Some(i) == view.selected {
                line.style(theme::highlight())
            } else {
                line
            }
        });
    let table = Table::new(
        lines,
        [
            Constraint::Length(ID),
            Constraint::Length(whose),
            Constraint::Length(NODES),
            Constraint::Length(state),
            Constraint::Length(TIME),
            Constraint::Length(OUT),
        ],
    )
    .header(header)
    .column_spacing(1);
    frame.render_widget(table, inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(age(Duration::from_millis(3_400)), "3s");
        assert_eq!(age(Duration::from_secs(125)), "2m05s");
        assert_eq!(age(Duration::from_secs(3_720)), "1h02m");
        assert_eq!(age(Duration::from_secs(2 * 86_400 + 3 * 3_600)), "2d03h");
    }

    #[test]
    fn columns_fill_the_width_and_keep_their_minimums() {
        for inner in [58, 64, 78, 118] {
            let (whose, state) = flexible(inner);
            assert!(whose >= WHOSE_MIN && state >= STATE_MIN);
            assert!(ID + NODES + TIME + OUT + GAPS + whose + state <= inner.max(58));
        }
        assert_eq!(flexible(78), (20, 31));
    }

    #[test]
    fn a_running_state_shows_a_bar_only_with_room() {
        let mut job = JobRow {
            prompt_id: "p".into(),
            owner: Owner::Mine,
            nodes: 1,
            state: RowState::Running,
            progress: Some(0.5),
            created_ms: None,
            started_ms: None,
            ended_ms: None,
            outputs: 0,
        };
        let text =
            |line: Line<'_>| -> String { line.spans.iter().map(|s| s.content.as_ref()).collect() };
        assert_eq!(text(state_cell(&job, 24)), "▶ running ━━━━━───── 50%");
        assert_eq!(text(state_cell(&job, 14)), "▶ running 50%");
        job.progress = Some(f64::NAN);
        assert_eq!(text(state_cell(&job, 14)), "▶ running 0%");
        job.progress = None;
        assert_eq!(text(state_cell(&job, 24)), "▶ running");
    }
}
