//! The cockpit (`comfy-tui watch`) as pure data: the job rows of one server, the `/`
//! filter over them and the selection. No I/O and no clock: times are passed in.

pub mod filter;
pub mod rows;
pub mod selection;

pub use rows::{JobRow, Owner, RowState, rows};
pub use selection::{Motion, Selection};
