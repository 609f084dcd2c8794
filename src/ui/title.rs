//! The terminal title (`[42%] KSampler — comfy-tui`) and the words of the completion
//! notification. Plain strings; the terminal layer writes them.

use super::header;
use crate::app::App;
use crate::job::{NodeState, Phase};
use crate::text::sanitize;

pub fn terminal_title(app: &App) -> String {
    let job = app.job();
    let state = match job.phase {
        Phase::Connecting | Phase::Submitting => "[connecting]".to_owned(),
        Phase::Queued => match job.queue_position {
            Some(ahead) if ahead > 0 => format!("[queued {ahead}]"),
            _ => "[queued]".to_owned(),
        },
        Phase::Running => {
            let percent = (job.graph_fraction() * 100.0).floor();
            let running = job
                .nodes
                .iter()
                .filter(|n| n.state == NodeState::Running)
                .max_by_key(|n| n.started);
            match running {
                Some(node) => format!("[{percent:.0}%] {}", sanitize(node.name())),
                None => format!("[{percent:.0}%]"),
            }
        }
        Phase::Finished(outcome) => format!("[{}]", header::outcome_label(outcome)),
    };
    format!("{state} — comfy-tui")
}

/// The body of the desktop notification sent when the run ends.
pub fn notification(app: &App) -> Option<String> {
    let outcome = app.job().outcome()?;
    let mut text = format!("comfy-tui: run {}", header::outcome_label(outcome));
    if !app.focused().saves.saved.is_empty() {
        text.push_str(&format!(", {} saved", app.focused().saves.saved.len()));
    }
    Some(sanitize(&text).into_owned())
}
