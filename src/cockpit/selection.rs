//! Which job row is selected and which row the table shows first. The selection follows
//! a prompt, not a position, so that rows coming and going on a refresh do not move it.

use crate::comfy::ids::PromptId;

use super::rows::JobRow;

/// How a key, the wheel or a click moves the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    Up(usize),
    Down(usize),
    PageUp,
    PageDown,
    Top,
    Bottom,
}

/// The selected row (by prompt id, with its index in the rows last seen) and the first
/// row shown. `height` everywhere is the number of rows the table's body shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    id: Option<PromptId>,
    index: Option<usize>,
    offset: usize,
}

impl Selection {
    /// The selected row's index in the rows last given.
    pub fn selected(&self) -> Option<usize> {
        self.index
    }

    pub fn selected_id(&self) -> Option<&PromptId> {
        self.id.as_ref()
    }

    /// The first row shown.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// After the rows changed (a refresh, another filter). The selected prompt stays
    /// selected wherever it moved. When it has gone (deleted, filtered out, fallen out of
    /// the history window) the row that took its place is selected, so that deleting
    /// pending jobs one after another needs no key in between; the first row when nothing
    /// was selected.
    pub fn refresh(&mut self, rows: &[JobRow], height: usize) {
        let found = self
            .id
            .as_ref()
            .and_then(|id| rows.iter().position(|row| &row.prompt_id == id));
        let index = match (found, self.index) {
            (Some(i), _) => Some(i),
            (None, Some(i)) => Some(i.min(rows.len().saturating_sub(1))),
            (None, None) => Some(0),
        };
        self.set(index.filter(|_| !rows.is_empty()), rows, height);
    }

    /// Moves the selection; the view follows so that it stays on screen.
    pub fn apply(&mut self, motion: Motion, rows: &[JobRow], height: usize) {
        if rows.is_empty() {
            self.set(None, rows, height);
            return;
        }
        let last = rows.len() - 1;
        let page = height.saturating_sub(1).max(1);
        let current = self.index.unwrap_or(0).min(last);
        let wanted = match motion {
            Motion::Up(n) => current.saturating_sub(n),
            Motion::Down(n) => current.saturating_add(n),
            Motion::PageUp => current.saturating_sub(page),
            Motion::PageDown => current.saturating_add(page),
            Motion::Top => 0,
            Motion::Bottom => last,
        };
        self.set(Some(wanted.min(last)), rows, height);
    }

    /// The row shown at `y`, the line of the table's body counted from its first (0);
    /// `None` below the last row.
    pub fn row_at(&self, y: usize, len: usize) -> Option<usize> {
        let index = self.offset.checked_add(y)?;
        (index < len).then_some(index)
    }

    /// Selects the row under a click on body line `y`; false when no row is there.
    pub fn click(&mut self, y: usize, rows: &[JobRow], height: usize) -> bool {
        match self.row_at(y, rows.len()) {
            Some(index) => {
                self.set(Some(index), rows, height);
                true
            }
            None => false,
        }
    }

    fn set(&mut self, index: Option<usize>, rows: &[JobRow], height: usize) {
        self.index = index;
        self.id = index
            .and_then(|i| rows.get(i))
            .map(|row| row.prompt_id.clone());
        self.offset = keep_in_view(self.offset, index, height, rows.len());
    }
}

/// The first row to show so that `selected` is in view, moving as little as possible, and
/// never leaving empty lines at the bottom while rows above are hidden. The table uses it
/// too, so a view drawn at a new size before the next key still shows the selection.
pub fn keep_in_view(offset: usize, selected: Option<usize>, height: usize, len: usize) -> usize {
    let mut offset = offset.min(len.saturating_sub(height));
    if let Some(selected) = selected.filter(|_| height > 0) {
        if selected < offset {
            offset = selected;
        } else if selected >= offset + height {
            offset = selected + 1 - height;
        }
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cockpit::rows::{Owner, RowState};

    fn rows(ids: &[&str]) -> Vec<JobRow> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| JobRow {
                prompt_id: (*id).into(),
                owner: Owner::Unknown,
                nodes: 1,
                state: RowState::Pending { position: i + 1 },
                progress: None,
                created_ms: None,
                started_ms: None,
                ended_ms: None,
                outputs: 0,
            })
            .collect()
    }

    fn numbered(n: usize) -> Vec<JobRow> {
        let ids: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
        rows(&ids.iter().map(String::as_str).collect::<Vec<_>>())
    }

    #[test]
    fn the_first_row_is_selected_at_first_and_nothing_when_empty() {
        let mut s = Selection::default();
        s.refresh(&rows(&[]), 5);
        assert_eq!(s.selected(), None);
        s.refresh(&rows(&["a", "b"]), 5);
        assert_eq!(s.selected(), Some(0));
        assert_eq!(s.selected_id(), Some(&"a".into()));
        s.refresh(&rows(&[]), 5);
        assert_eq!((s.selected(), s.selected_id()), (None, None));
    }

    #[test]
    fn the_selected_prompt_is_kept_across_refreshes() {
        let mut s = Selection::default();
        s.refresh(&rows(&["run", "a", "b", "c"]), 10);
        s.apply(Motion::Down(2), &rows(&["run", "a", "b", "c"]), 10);
        assert_eq!(s.selected_id(), Some(&"b".into()));
        // The running one finished and went below; new pending rows came in above.
        s.refresh(&rows(&["a", "x", "y", "b", "c", "run"]), 10);
        assert_eq!(s.selected(), Some(3));
        assert_eq!(s.selected_id(), Some(&"b".into()));
    }

    #[test]
    fn a_gone_prompt_hands_the_selection_to_the_row_in_its_place() {
        let mut s = Selection::default();
        s.refresh(&rows(&["a", "b", "c"]), 10);
        s.apply(Motion::Down(1), &rows(&["a", "b", "c"]), 10);
        s.refresh(&rows(&["a", "c"]), 10);
        assert_eq!(s.selected_id(), Some(&"c".into()));
        // The last one gone: clamped to the new last row.
        s.refresh(&rows(&["a"]), 10);
        assert_eq!(
            (s.selected(), s.selected_id()),
            (Some(0), Some(&"a".into()))
        );
    }

    #[test]
    fn motions_are_clamped() {
        let all = numbered(20);
        let mut s = Selection::default();
        s.refresh(&all, 5);
        s.apply(Motion::Up(3), &all, 5);
        assert_eq!(s.selected(), Some(0));
        s.apply(Motion::PageDown, &all, 5);
        assert_eq!(s.selected(), Some(4), "a page keeps one row of the last");
        s.apply(Motion::Down(100), &all, 5);
        assert_eq!(s.selected(), Some(19));
        s.apply(Motion::PageUp, &all, 5);
        assert_eq!(s.selected(), Some(15));
        s.apply(Motion::Top, &all, 5);
        assert_eq!(s.selected(), Some(0));
        s.apply(Motion::Bottom, &all, 5);
        assert_eq!(s.selected(), Some(19));
        s.apply(Motion::Down(1), &rows(&[]), 5);
        assert_eq!(s.selected(), None);
    }

    #[test]
    fn the_view_scrolls_to_keep_the_selection_shown() {
        let all = numbered(20);
        let mut s = Selection::default();
        s.refresh(&all, 5);
        s.apply(Motion::Down(4), &all, 5);
        assert_eq!(s.offset(), 0, "still on the first page");
        s.apply(Motion::Down(1), &all, 5);
        assert_eq!(s.offset(), 1);
        s.apply(Motion::Bottom, &all, 5);
        assert_eq!(s.offset(), 15);
        s.apply(Motion::Up(2), &all, 5);
        assert_eq!(s.offset(), 15, "moving within the page does not scroll");
        s.apply(Motion::Top, &all, 5);
        assert_eq!(s.offset(), 0);
        // Rows going away shrink the offset: no empty lines under hidden rows.
        s.apply(Motion::Bottom, &all, 5);
        s.refresh(&numbered(8), 5);
        assert_eq!((s.selected(), s.offset()), (Some(7), 3));
        // A taller table shows everything from the top.
        s.refresh(&numbered(8), 10);
        assert_eq!(s.offset(), 0);
    }

    #[test]
    fn clicks_select_the_row_under_them() {
        let all = numbered(20);
        let mut s = Selection::default();
        s.refresh(&all, 5);
        s.apply(Motion::Bottom, &all, 5);
        assert_eq!(s.row_at(0, all.len()), Some(15));
        assert_eq!(s.row_at(5, all.len()), None);
        assert!(s.click(1, &all, 5));
        assert_eq!(s.selected_id(), Some(&"p16".into()));
        let few = numbered(2);
        s.refresh(&few, 5);
        assert!(!s.click(3, &few, 5), "below the last row");
        assert_eq!(s.selected(), Some(1));
    }

    #[test]
    fn keep_in_view_edges() {
        assert_eq!(keep_in_view(10, Some(3), 5, 20), 3);
        assert_eq!(keep_in_view(0, Some(9), 5, 20), 5);
        assert_eq!(keep_in_view(50, None, 5, 20), 15);
        assert_eq!(keep_in_view(4, Some(2), 0, 20), 4);
        assert_eq!(keep_in_view(4, None, 5, 0), 0);
    }
}
