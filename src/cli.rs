//! The command line (clap derive). Parsing only; `launch` gives it meaning.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "comfy-tui",
    version,
    about = "Run ComfyUI workflows from a terminal and watch them live"
)]
pub struct Cli {
    /// Write diagnostic logs to this file (never to the screen).
    #[arg(long, global = true, env = "COMFY_TUI_LOG_FILE", value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Submit a workflow and follow it to the end.
    Run(RunArgs),
    /// Follow a prompt already on the server (queued, running or finished), as run does.
    Attach(AttachArgs),
    /// The cockpit: the server's queue, jobs, memory and log on one screen, with keys.
    Watch(WatchArgs),
    /// List the workflows saved on the server (the web UI's workflow sidebar).
    Workflows(WorkflowsArgs),
    /// Check a workflow against a server's nodes without running it.
    Check(CheckArgs),
    /// Print the API prompt a UI-format workflow converts to (API-format files pass through).
    Convert(ConvertArgs),
    /// List the prompts this machine submitted (the job store), newest first.
    Jobs(JobsArgs),
    /// Show the server's memory, devices and versions (`/system_stats`).
    Stats(ServerArgs),
    /// List the running and pending prompts, everyone's (`/queue`).
    Queue(QueueArgs),
    /// List the most recent finished prompts, newest first (`/history?max_items=N`).
    History(HistoryArgs),
    /// List the model folders, or the files in one (`/models`, `/models/FOLDER`).
    Models(ModelsArgs),
    /// List the node classes, or show one's inputs and outputs (`/object_info`).
    Nodes(NodesArgs),
    /// List the textual-inversion embeddings (`/embeddings`).
    Embeddings(ServerArgs),
    /// Show the server's feature flags (`/features`).
    Features(ServerArgs),
    /// Print the JSON Schema of every `--json` line and object comfy-tui prints.
    Schema,
    /// Run the demo workflow against the built-in simulator.
    Demo(DemoArgs),
    /// Serve the built-in ComfyUI simulator (for trying the client and for tests).
    Sim(crate::sim::SimArgs),
}

#[derive(Debug, Clone, Args)]
pub struct FaceArgs {
    /// Print one JSON object per line instead of the live view.
    #[arg(long, conflicts_with = "plain")]
    pub json: bool,
    /// Print plain lines instead of the live view (the default when stdout is not a terminal).
    #[arg(long)]
    pub plain: bool,
    /// No bell or desktop notification when the run ends.
    #[arg(long)]
    pub no_notify: bool,
    /// The most the live view writes to the terminal, in bytes a second averaged over any
    /// 5 s: step previews are skipped (and drawn smaller) to keep under it, yet refreshed
    /// at least once a second. 0 = unlimited.
    #[arg(long, value_name = "BYTES_PER_SEC", default_value_t = crate::budget::DEFAULT_BYTES_PER_SEC)]
    pub preview_budget: u64,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The workflow: a JSON file in the API or the editor's format, a PNG or WebP picture
    /// ComfyUI saved, `-` for stdin, or `@NAME` for a workflow saved on the server.
    pub workflow: PathBuf,
    /// From a picture, take its editable `workflow` instead of the `prompt` that ran.
    #[arg(long)]
    pub from_workflow: bool,
    /// The ComfyUI server (http or https, with an optional path prefix).
    #[arg(long, env = "COMFYUI_URL", default_value = "http://127.0.0.1:8188")]
    pub server: String,
    /// Where outputs are saved.
    #[arg(long, default_value = "./comfy-out", value_name = "DIR")]
    pub out: PathBuf,
    /// Override an input: NODE.INPUT=VALUE (NODE is an id, a title, or a unique class).
    #[arg(long = "set", value_name = "NODE.INPUT=VALUE")]
    pub sets: Vec<String>,
    /// Set every seed / noise_seed input, per job: `random`, a number, or `increment`
    /// (`increment:N`), counting up per job from the workflow's seed (or from N).
    #[arg(long, value_name = "random|N|increment[:N]")]
    pub seed: Option<String>,
    /// Run N jobs of the workflow (each sweep combination N times).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub count: usize,
    /// Sweep one input over values: NODE.INPUT=v1,v2,… with ranges a..b or a..b:step
    /// (ends included). Repeated, the jobs are every combination.
    #[arg(long = "sweep", value_name = "NODE.INPUT=VALUES")]
    pub sweeps: Vec<String>,
    /// How saved files are named, e.g. '{job}_{seed}_{filename}' (fields: job, prompt,
    /// seed, node, filename, stem, ext).
    #[arg(long = "name", value_name = "PATTERN")]
    pub name: Option<String>,
    /// Put the jobs at the front of the server's queue.
    #[arg(long)]
    pub front: bool,
    /// Upload a local file as an input: NODE[.INPUT]=PATH (a folder or a glob makes one
    /// job per file; repeatable).
    #[arg(long = "input", value_name = "NODE[.INPUT]=PATH")]
    pub inputs: Vec<String>,
    /// Upload a local mask onto the node's picture: NODE[.INPUT]=PATH (`/upload/mask`).
    #[arg(long = "mask", value_name = "NODE[.INPUT]=PATH")]
    pub masks: Vec<String>,
    /// Give up (and cancel the prompt) after this long, e.g. `90s`, `10m`.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Option<std::time::Duration>,
    /// Do not download outputs; only report them.
    #[arg(long)]
    pub no_download: bool,
    /// The client id to register the WebSocket under (default: a fresh one).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// An extra header for every request, e.g. 'Authorization: Bearer …' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// How long to keep trying to reach the server before giving up, e.g. `30s`.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s", value_name = "DURATION")]
    pub connect_timeout: std::time::Duration,
    /// Latent preview method to ask for (auto, latent2rgb, taesd, none, default).
    #[arg(long, value_name = "METHOD")]
    pub preview_method: Option<String>,
    /// Submit without first checking the prompt against the server's `/object_info`
    /// (the graph's own structure is still checked).
    #[arg(long)]
    pub no_check: bool,
    #[command(flatten)]
    pub face: FaceArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WorkflowsArgs {
    /// The ComfyUI server (http or https, with an optional path prefix).
    #[arg(long, env = "COMFYUI_URL", default_value = "http://127.0.0.1:8188")]
    pub server: String,
    /// An extra header for every request, e.g. 'Authorization: Bearer …' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The workflow, in any form `run` takes (the editor's format is converted first).
    pub workflow: PathBuf,
    /// The ComfyUI server whose `/object_info` the workflow is checked against.
    #[arg(long, env = "COMFYUI_URL", default_value = "http://127.0.0.1:8188")]
    pub server: String,
    /// Check against a saved `/object_info` answer instead of asking a server.
    #[arg(long, value_name = "FILE")]
    pub object_info: Option<PathBuf>,
    /// An extra header for every request, e.g. 'Authorization: Bearer …' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Print one JSON object: `{"ok", "problems", "warnings"}`.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct JobsArgs {
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Show at most this many jobs.
    #[arg(short = 'n', long = "limit", default_value_t = 20, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub limit: usize,
}

#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// The prompt id (default: the newest prompt of this machine that may still run).
    pub prompt_id: Option<String>,
    /// The ComfyUI server (http or https, with an optional path prefix).
    #[arg(long, env = "COMFYUI_URL", default_value = "http://127.0.0.1:8188")]
    pub server: String,
    /// Where outputs are saved.
    #[arg(long, default_value = "./comfy-out", value_name = "DIR")]
    pub out: PathBuf,
    /// Give up (and cancel the prompt) after this long, e.g. `90s`, `10m`.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: Option<std::time::Duration>,
    /// Do not download outputs; only report them.
    #[arg(long)]
    pub no_download: bool,
    /// An extra header for every request, e.g. 'Authorization: Bearer …' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// How long to keep trying to reach the server before giving up, e.g. `30s`.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s", value_name = "DURATION")]
    pub connect_timeout: std::time::Duration,
    #[command(flatten)]
    pub face: FaceArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// The ComfyUI server (http or https, with an optional path prefix).
    #[arg(long, env = "COMFYUI_URL", default_value = "http://127.0.0.1:8188")]
    pub server: String,
    /// Where `s` saves a job's outputs (and the live view of Enter saves them).
    #[arg(long, default_value = "./comfy-out", value_name = "DIR")]
    pub out: PathBuf,
    /// An extra header for every request, e.g. 'Authorization: Bearer …' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// How long to keep trying to reach the server before giving up, e.g. `30s`.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s", value_name = "DURATION")]
    pub connect_timeout: std::time::Duration,
    /// The live view's picture budget (as `run --preview-budget`).
    #[arg(long, value_name = "BYTES_PER_SEC", default_value_t = crate::budget::DEFAULT_BYTES_PER_SEC)]
    pub preview_budget: u64,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Where outputs are saved.
    #[arg(long, default_value = "./comfy-out", value_name = "DIR")]
    pub out: PathBuf,
    /// Time between sampler steps in the simulator, in milliseconds.
    #[arg(long, default_value_t = 120, value_name = "MS")]
    pub step_ms: u64,
    #[command(flatten)]
    pub face: FaceArgs,
}

/// Where the server is and how to print; shared by the discovery commands.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// The ComfyUI server (http or https, with an optional path prefix).
    #[arg(long, env = "COMFYUI_URL", default_value = "http://127.0.0.1:8188")]
    pub server: String,
    /// An extra header for every request, e.g. 'Authorization: Bearer …' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct QueueArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// A client id whose prompts count as mine (repeatable; `run --client-id` sets one).
    #[arg(long = "client-id", value_name = "ID")]
    pub client_ids: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// How many of the newest entries to show.
    #[arg(short = 'n', long = "max-items", default_value_t = 20, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_items: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ModelsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// A model folder (`checkpoints`, `loras`, ...): list its files.
    pub folder: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct NodesArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// A node class (e.g. KSampler): show its inputs and outputs.
    #[arg(conflicts_with = "search")]
    pub class: Option<String>,
    /// List only the classes whose name, display name or category contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ConvertArgs {
    /// The workflow (the editor's UI format, or the API format); `-` reads stdin.
    pub workflow: PathBuf,
    /// The ComfyUI server whose /object_info the conversion follows.
    #[arg(long, env = "COMFYUI_URL", default_value = "http://127.0.0.1:8188")]
    pub server: String,
    /// Convert against this saved /object_info instead of asking a server.
    #[arg(long, value_name = "FILE")]
    pub object_info: Option<PathBuf>,
    /// Write the prompt here instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Seed for the dynamic-prompt picks (`{a|b}`), so a conversion can be repeated.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// An extra header for every request, e.g. 'Authorization: Bearer …' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preview_budget_defaults_to_32_kib_and_zero_means_unlimited() {
        let face = |cli: Cli| match cli.command {
            Command::Run(args) => args.face,
            Command::Demo(args) => args.face,
            _ => unreachable!("not a view"),
        };
        let run = Cli::parse_from(["comfy-tui", "run", "wf.json"]);
        assert_eq!(face(run).preview_budget, 32 * 1024);
        let run = Cli::parse_from(["comfy-tui", "run", "wf.json", "--preview-budget", "0"]);
        assert_eq!(face(run).preview_budget, 0);
        let demo = Cli::parse_from(["comfy-tui", "demo", "--preview-budget", "8000"]);
        assert_eq!(face(demo).preview_budget, 8000);
        assert!(
            Cli::try_parse_from(["comfy-tui", "run", "wf.json", "--preview-budget", "-1"]).is_err()
        );
    }
}
