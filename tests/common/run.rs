//! Running the headless face in-process against a server, for whole-run tests.

#![allow(dead_code)]

use super::sim::within;
use clap::Parser;
use comfy_tui::cli::{Cli, Command, RunArgs};
use comfy_tui::headless::Format;
use comfy_tui::launch::{self, Face, Prepared};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A small txt2img graph the simulator runs in a few milliseconds: 2 saved images and
/// 2 previews.
pub fn txt2img(steps: u64) -> Value {
    json!({
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15-demo.safetensors"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}, "_meta": {"title": "Positive"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}, "_meta": {"title": "Negative"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 2}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 1, "steps": steps, "cfg": 8, "sampler_name": "euler", "scheduler": "normal", "denoise": 1,
            "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]},
            "_meta": {"title": "Sampler"}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "t", "images": ["8", 0]}},
        "10": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}}
    })
}

/// The smallest sampling graph with a saved image: a sampler of `steps` steps on a
/// `size`² latent of `batch` images.
pub fn sampler_graph(steps: u64, size: u64, batch: u64) -> Value {
    json!({
        "1": {"class_type": "EmptyLatentImage", "inputs": {"width": size, "height": size, "batch_size": batch}},
        "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15-demo.safetensors"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "x", "clip": ["2", 1]}},
        "4": {"class_type": "KSampler", "inputs": {
            "seed": 7, "steps": steps, "cfg": 8, "sampler_name": "euler", "scheduler": "normal", "denoise": 1,
            "model": ["2", 0], "positive": ["3", 0], "negative": ["3", 0], "latent_image": ["1", 0]}},
        "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0], "vae": ["2", 2]}},
        "6": {"class_type": "SaveImage", "inputs": {"filename_prefix": "t", "images": ["5", 0]}}
    })
}

pub struct Run {
    pub code: i32,
    /// Everything the face printed.
    pub text: String,
    pub out: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Run {
    /// The JSON lines (for `Format::Json` runs), each checked against the schema.
    pub fn lines(&self) -> Vec<Value> {
        self.text.lines().map(super::schema::parse).collect()
    }

    pub fn events(&self, name: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["event"] == name)
            .collect()
    }

    pub fn done(&self) -> Value {
        self.lines().pop().expect("a done line")
    }
}

/// The arguments of `comfy-tui run WORKFLOW --server S --out O` in `format`, parsed as
/// the binary parses them (so every other option has its default).
pub fn args(workflow: &Path, server: &str, out: &Path, format: Format) -> RunArgs {
    let mut argv: Vec<std::ffi::OsString> = vec![
        "comfy-tui".into(),
        "run".into(),
        workflow.into(),
        "--server".into(),
        server.into(),
        "--out".into(),
        out.into(),
        "--no-notify".into(),
    ];
    argv.push(match format {
        Format::Json => "--json".into(),
        Format::Plain => "--plain".into(),
    });
    match Cli::try_parse_from(argv).expect("valid arguments").command {
        Command::Run(args) => args,
        _ => unreachable!("a run command"),
    }
}

/// Runs `workflow` against `server`; `tweak` adjusts the arguments, `prepare` the checked
/// run (e.g. its liveness timings) before it starts.
pub async fn run_with(
    server: &str,
    workflow: &Value,
    format: Format,
    tweak: impl FnOnce(&mut RunArgs),
    prepare: impl FnOnce(&mut Prepared),
) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("workflow.json");
    std::fs::write(&file, workflow.to_string()).expect("write workflow");
    let out = dir.path().join("out");
    let mut run_args = args(&file, server, &out, format);
    tweak(&mut run_args);
    let face = Face::Headless(format);
    let (code, bytes) = match launch::prepare(&run_args, face) {
        Ok(mut prepared) => {
            // Runs are recorded in the tests' own folder, never in the user's store.
            prepared.context.state = Some(comfy_tui::state::StateDir::at(
                std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("state"),
            ));
            prepare(&mut prepared);
            let (runtime, app) = launch::assemble(prepared, false);
            let mut buffer = Vec::new();
            let code = within(comfy_tui::headless::run(runtime, app, format, &mut buffer)).await;
            (code, buffer)
        }
        Err(e) => (comfy_tui::exit::USAGE, e.0.into_bytes()),
    };
    let text = String::from_utf8(bytes).expect("utf-8 output");
    Run {
        code,
        text,
        out,
        dir,
    }
}

pub async fn run_json(server: &str, workflow: &Value, tweak: impl FnOnce(&mut RunArgs)) -> Run {
    run_with(server, workflow, Format::Json, tweak, |_| {}).await
}

/// Files in `dir` whose names start with a dot (temporary files).
pub fn hidden_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}
