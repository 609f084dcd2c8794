//! Stable exit codes, documented in the README; scripts depend on them.

use crate::job::Outcome;

pub const SUCCESS: i32 = 0;
/// The server ran the prompt and a node failed.
pub const EXECUTION_ERROR: i32 = 1;
/// Bad arguments or local input; nothing was sent to the server.
pub const USAGE: i32 = 2;
/// The server refused the prompt (validation errors).
pub const REJECTED: i32 = 3;
/// The server could not be reached, the connection was lost for good, or time ran out.
pub const UNREACHABLE: i32 = 4;
/// comfy-tui left before the prompt ended (a hang-up, "leave it running", an unconfirmed
/// cancel): the prompt may still be running on the server.
pub const DETACHED: i32 = 5;
/// Cancelled by the user.
pub const CANCELLED: i32 = 130;

pub fn for_outcome(outcome: Outcome) -> i32 {
    match outcome {
        Outcome::Success => SUCCESS,
        Outcome::Error => EXECUTION_ERROR,
        Outcome::Rejected => REJECTED,
        Outcome::Lost | Outcome::Timeout => UNREACHABLE,
        Outcome::Interrupted => CANCELLED,
    }
}
