//! The `/` filter: which rows a query keeps.

use super::rows::{JobRow, Owner, RowState};

/// Whether `row` matches `query`, case-insensitively. Each word of the query must be found
/// in the prompt id, the owner (`mine` or the client id) or the state (`running`,
/// `pending`, the shown outcome `done` / `failed` / `interrupted`, or the server's own
/// `success` / `error`), so `mine pend` keeps my pending prompts. An empty query keeps all.
pub fn matches(row: &JobRow, query: &str) -> bool {
    let owner = match &row.owner {
        Owner::Mine => "mine".to_owned(),
        Owner::Client(id) => id.as_str().to_lowercase(),
        Owner::Unknown => String::new(),
    };
    let server_word = match row.state {
        RowState::Finished(finished) => finished.as_str(),
        RowState::Running | RowState::Pending { .. } => "",
    };
    let id = row.prompt_id.as_str().to_lowercase();
    query.split_whitespace().all(|word| {
        let word = word.to_lowercase();
        [id.as_str(), owner.as_str(), row.state.word(), server_word]
            .iter()
            .any(|field| field.contains(&word))
    })
}

/// The rows `query` keeps, in their order: what the table shows and the selection moves over.
pub fn apply(rows: &[JobRow], query: &str) -> Vec<JobRow> {
    rows.iter()
        .filter(|row| matches(row, query))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comfy::listing::Finished;

    fn row(id: &str, owner: Owner, state: RowState) -> JobRow {
        JobRow {
            prompt_id: id.into(),
            owner,
            nodes: 1,
            state,
            progress: None,
            created_ms: None,
            started_ms: None,
            ended_ms: None,
            outputs: 0,
        }
    }

    #[test]
    fn id_owner_and_state_match_case_insensitively() {
        let mine = row("AF66ea32-x", Owner::Mine, RowState::Running);
        let theirs = row(
            "556212cd",
            Owner::Client("Qdel-46B4".into()),
            RowState::Pending { position: 1 },
        );
        let failed = row(
            "c5813cad",
            Owner::Unknown,
            RowState::Finished(Finished::Error),
        );
        assert!(matches(&mine, "af66"));
        assert!(matches(&mine, "AF66EA"));
        assert!(matches(&mine, "MINE"));
        assert!(matches(&mine, "run"));
        assert!(!matches(&mine, "pending"));
        assert!(matches(&theirs, "qdel-46b4"));
        assert!(matches(&theirs, "pend"));
        assert!(!matches(&theirs, "mine"));
        assert!(matches(&failed, "failed"));
        assert!(matches(&failed, "error"), "the server's word works too");
        assert!(!matches(&failed, "unknown"), "no owner is no word");
    }

    #[test]
    fn every_word_must_match_and_empty_keeps_all() {
        let rows = [
            row("a1", Owner::Mine, RowState::Pending { position: 1 }),
            row(
                "a2",
                Owner::Client("bob".into()),
                RowState::Pending { position: 2 },
            ),
            row("a3", Owner::Mine, RowState::Finished(Finished::Success)),
        ];
        let kept = |q: &str| -> Vec<String> {
            apply(&rows, q).into_iter().map(|r| r.prompt_id.0).collect()
        };
        assert_eq!(kept("mine pend"), ["a1"]);
        assert_eq!(kept("  "), ["a1", "a2", "a3"]);
        assert_eq!(kept(""), ["a1", "a2", "a3"]);
        assert_eq!(kept("success"), ["a3"]);
        assert!(kept("zzz").is_empty());
    }
}
