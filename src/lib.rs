//! comfy-tui: run ComfyUI workflows from a terminal and watch them live.

pub mod app;
pub mod comfy;
pub mod exit;
pub mod job;
pub mod sim;
pub mod terminal;
pub mod text;
pub mod tui;
pub mod ui;
