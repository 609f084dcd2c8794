//! comfy-tui: run ComfyUI workflows from a terminal and watch them live.

pub mod comfy;
pub mod job;
pub mod sim;
