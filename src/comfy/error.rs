//! Errors of the protocol layer, gathered so the edges can map them to exit codes.

pub use super::endpoints::ServerUrlError;
pub use super::http::{HeaderError, HttpError};
pub use super::workflow::WorkflowError;
pub use super::ws::WsError;
