//! Diagnostic logs go to a file, never to the screen (it belongs to the TUI).

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;

/// Starts logging to `path`; `None` (and no logging) when the file cannot be opened.
/// Keep the guard alive until exit so buffered lines are written.
pub fn init(path: &Path) -> Option<WorkerGuard> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("COMFY_TUI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
