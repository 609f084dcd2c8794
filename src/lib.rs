//! comfy-tui: run ComfyUI workflows from a terminal and watch them live.

pub mod app;
pub mod cli;
pub mod comfy;
pub mod demo;
pub mod discover;
pub mod exit;
pub mod headless;
pub mod job;
pub mod launch;
pub mod logging;
pub mod output;
pub mod path_text;
pub mod runtime;
pub mod signals;
pub mod sim;
pub mod source;
pub mod terminal;
pub mod text;
pub mod tui;
pub mod ui;
pub mod workflows;
