//! comfy-tui: run ComfyUI workflows from a terminal and watch them live.

pub mod app;
pub mod comfy;
pub mod exit;
pub mod job;
pub mod sim;
pub mod text;
pub mod output;
pub mod runtime;
pub mod headless;
pub mod signals;
pub mod cli;
pub mod launch;
pub mod logging;
