//! A check report as lines for people: one per finding, naming the node, its title,
//! class and input, with the suggestions. Every piece is sanitised (names can come
//! from the server).

use super::{CheckReport, Problem};
use crate::text::sanitize;

/// `node 4 "Load Checkpoint" (CheckpointLoaderSimple), input ckpt_name: … (did you mean …?)`
pub fn line(problem: &Problem) -> String {
    let mut out = String::new();
    if let Some(node) = &problem.node {
        out.push_str(&format!("node {}", sanitize(node)));
        if let Some(title) = &problem.title {
            out.push_str(&format!(" \"{}\"", sanitize(title)));
        }
        if let Some(class) = &problem.class_type {
            out.push_str(&format!(" ({})", sanitize(class)));
        }
        if let Some(input) = &problem.input {
            out.push_str(&format!(", input {}", sanitize(input)));
        }
        out.push_str(": ");
    }
    out.push_str(&sanitize(&problem.message));
    if !problem.suggestions.is_empty() {
        let list: Vec<String> = problem
            .suggestions
            .iter()
            .map(|s| sanitize(s).into_owned())
            .collect();
        out.push_str(&format!(" (did you mean: {}?)", list.join(", ")));
    }
    out
}

/// `the check … found 2 problems:`
pub fn problems_heading(report: &CheckReport) -> String {
    let n = report.problems.len();
    format!(
        "the prompt has {n} problem{}:",
        if n == 1 { "" } else { "s" }
    )
}

/// The heading and every problem on one line, separated by `; ` (for a reason field
/// or a one-line error message).
pub fn problems_inline(report: &CheckReport) -> String {
    let lines: Vec<String> = report.problems.iter().map(line).collect();
    format!("{} {}", problems_heading(report), lines.join("; "))
}

/// One `warning: …` line per warning.
pub fn warnings(report: &CheckReport) -> Vec<String> {
    report
        .warnings
        .iter()
        .map(|w| format!("warning: {}", line(w)))
        .collect()
}
