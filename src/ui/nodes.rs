//! The node list: every node of the graph in execution order, its state and its time.

use super::scroll::{self, View};
use super::{format, theme};
use crate::app::{App, Pane};
use crate::job::{NodeRun, NodeState};
use crate::text::sanitize;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};

/// Inner width from which the class column is shown next to the title.
const CLASS_COLUMN_MIN_WIDTH: u16 = 64;

/// The node list's view in `area`: the user's scroll, clamped; while following, the
/// rows around the running node (or the last one that ran), so that it never runs off
/// screen.
pub fn view(app: &App, area: Rect) -> View {
    let visible = usize::from(Block::bordered().inner(area).height);
    let total = app.job().nodes.len();
    let max_first = total.saturating_sub(visible);
    let first = if app.ui.nodes.follow {
        follow_row(app, visible).min(max_first)
    } else {
        app.ui.nodes.offset.min(max_first)
    };
    View {
        area,
        first,
        visible,
        total,
    }
}

/// The first row that keeps the node in focus in view, with a third of the pane after it.
fn follow_row(app: &App, visible: usize) -> usize {
    let focus = app
        .job()
        .nodes
        .iter()
        .rposition(|n| matches!(n.state, NodeState::Running | NodeState::Failed))
        .or_else(|| {
            app.job()
                .nodes
                .iter()
                .rposition(|n| matches!(n.state, NodeState::Done | NodeState::Interrupted))
        });
    match focus {
        Some(i) if i >= visible => (i + 1 + visible / 3).saturating_sub(visible),
        _ => 0,
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let job = app.job();
    let (done, total) = job.graph_counts();
    let block = Block::bordered()
        .border_style(theme::border())
        .title(Line::from(vec![
            Span::styled(" Nodes ", theme::title()),
            Span::styled(format!("{done}/{total} "), theme::dim()),
        ]));
    let inner = block.inner(area);
    let view = view(app, area);
    let (first, visible) = (view.first, view.visible);
    let wide = inner.width >= CLASS_COLUMN_MIN_WIDTH;
    let rows: Vec<Row<'_>> = job
        .nodes
        .iter()
        .skip(first)
        .take(visible)
        .map(|node| row(node, app, wide))
        .collect();
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(id_width(app)),
        Constraint::Fill(3),
    ];
    if wide {
        widths.push(Constraint::Fill(2));
    }
    widths.extend([Constraint::Length(7), Constraint::Length(7)]);
    let mut title = block.border_style(theme::pane_border(scroll::marked(app, Pane::Nodes)));
    if job.nodes.len() > visible && visible > 0 {
        let (from, to, of) = view.position();
        let mode = if app.ui.nodes.follow {
            "following"
        } else {
            "f: follow"
        };
        title = title.title_bottom(
            Line::styled(format!(" {from}-{to} of {of} · {mode} "), theme::dim()).right_aligned(),
        );
    }
    if job.nodes.is_empty() {
        frame.render_widget(title, area);
        return;
    }
    frame.render_widget(
        Table::new(rows, widths).column_spacing(1).block(title),
        area,
    );
}

fn id_width(app: &App) -> u16 {
    let widest = app
        .job()
        .nodes
        .iter()
        .map(|n| sanitize(n.id.as_str()).chars().count())
        .max()
        .unwrap_or(1);
    widest.clamp(1, 8) as u16
}

fn row<'a>(node: &'a NodeRun, app: &App, wide: bool) -> Row<'a> {
    let state_style = theme::node_state(node.state);
    let time = match node.state {
        NodeState::Running => node.elapsed(app.now),
        _ => node.duration(),
    }
    .map(format::duration)
    .unwrap_or_default();
    let state = match node.state {
        NodeState::Running if node.max > 0.0 => format!("{:>3.0}%", node.fraction() * 100.0),
        state => state.label().to_owned(),
    };
    let mut cells = vec![
        Cell::from(Span::styled(theme::node_mark(node.state), state_style)),
        Cell::from(Span::styled(
            sanitize(node.id.as_str()).into_owned(),
            theme::dim(),
        )),
        Cell::from(sanitize(node.name()).into_owned()),
    ];
    if wide {
        let class = if node.title.is_some() && node.name() != node.class_type {
            sanitize(&node.class_type).into_owned()
        } else {
            String::new()
        };
        cells.push(Cell::from(Span::styled(class, theme::dim())));
    }
    cells.push(Cell::from(Span::styled(state, state_style)));
    cells.push(Cell::from(Line::from(time).right_aligned()));
    let row = Row::new(cells);
    if node.state == NodeState::Running {
        row.style(theme::highlight())
    } else {
        row
    }
}
