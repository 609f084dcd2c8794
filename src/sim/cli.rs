//! `comfy-tui sim`: command-line flags and the serve-until-Ctrl-C loop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::config::{FailNode, Faults, NodeMatch, SimConfig};

/// Run a ComfyUI simulator (no GPU needed) for demos and tests.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8188")]
    pub listen: SocketAddr,
    /// Milliseconds between two sampler steps.
    #[arg(long, default_value_t = 50)]
    pub step_delay_ms: u64,
    /// Directory for saved images (default: a temp dir removed on exit).
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// Send sampler previews unless a prompt asks for preview_method "none"
    /// (like a server started with --preview-method auto).
    #[arg(long)]
    pub previews: bool,
    /// Queue this many long prompts from other clients at start (a busy shared server).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub other_clients: usize,
    /// Hold the worker: prompts are queued but none starts (a long pending queue with
    /// nothing running, e.g. with --other-clients 50).
    #[arg(long)]
    pub paused: bool,
    /// Fault: make this node fail (a node id, or a class name such as KSampler).
    #[arg(long, value_name = "ID|CLASS")]
    pub fail_node: Option<String>,
    /// Fault: the step at which --fail-node fails.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub fail_at_step: u64,
    /// Fault: drop a WebSocket after it was sent N frames (once).
    #[arg(long, value_name = "N")]
    pub drop_ws_after: Option<u64>,
    /// Fault: delay every HTTP response by this many milliseconds.
    #[arg(long, value_name = "MS")]
    pub http_delay_ms: Option<u64>,
    /// Refuse request bodies over this many bytes with 413 (ComfyUI's default: 100 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_body_bytes: Option<u64>,
    /// Fault: accept connections but never answer.
    #[arg(long)]
    pub stop_answering: bool,
    /// Fault: throttle /view to this many bytes per second.
    #[arg(long, value_name = "BYTES")]
    pub view_bytes_per_sec: Option<u64>,
    /// Fault: /view sends only this many bytes of each file, then closes.
    #[arg(long, value_name = "BYTES")]
    pub view_truncate_at: Option<u64>,
    /// Fault: inject malformed and unknown frames into every run.
    #[arg(long)]
    pub malformed_frames: bool,
    /// Fault: SaveImage reports hostile file names (../../x.png, /etc/x.png, ...).
    #[arg(long)]
    pub hostile_filenames: bool,
    /// Fault: error messages carry terminal escape sequences.
    #[arg(long)]
    pub escape_in_errors: bool,
    /// Fault: send one text frame of this many bytes after a node's first step (once).
    #[arg(long, value_name = "BYTES")]
    pub huge_text_frame: Option<u64>,
    /// Fault: refuse every upload with this HTTP status (e.g. 400 or 413).
    #[arg(long, value_name = "STATUS")]
    pub upload_status: Option<u16>,
}

impl SimArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> SimConfig {
        let fail_node = self.fail_node.as_ref().map(|n| FailNode {
            // Node ids are what the frontend makes ("12", "5:3"); anything with a letter
            // first is taken as a class name.
            target: if n.starts_with(|c: char| c.is_ascii_alphabetic()) {
                NodeMatch::Class(n.clone())
            } else {
                NodeMatch::Id(n.clone())
            },
            at_step: self.fail_at_step.max(1),
        });
        SimConfig {
            step_delay: Duration::from_millis(self.step_delay_ms),
            output_dir: self.output_dir.clone(),
            previews_by_default: self.previews,
            other_clients: self.other_clients,
            paused: self.paused,
            faults: Faults {
                fail_node,
                drop_ws_after_frames: self.drop_ws_after,
                http_delay: self.http_delay_ms.map(Duration::from_millis),
                max_body_bytes: self.max_body_bytes,
                object_info_delay: None,
                stop_answering: self.stop_answering,
                view_bytes_per_sec: self.view_bytes_per_sec,
                view_truncate_at: self.view_truncate_at,
                malformed_frames: self.malformed_frames,
                hostile_filenames: if self.hostile_filenames {
                    Faults::sample_hostile_filenames()
                } else {
                    Vec::new()
                },
                escape_in_errors: self.escape_in_errors,
                stale_close_unregisters: false,
                huge_text_frame: self.huge_text_frame,
                upload_status: self.upload_status,
            },
        }
    }
}

/// Serve until Ctrl-C, printing the URL first.
pub async fn run_cli(args: SimArgs) -> anyhow::Result<()> {
    let listener = super::bind_reusable(args.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let sim = super::start(listener, args.config()).await?;
    println!("ComfyUI simulator listening on {}", sim.url());
    println!("output directory: {}", sim.output_dir().display());
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    #[test]
    fn flags_map_to_config() {
        let cli = Cli::parse_from([
            "x",
            "--fail-node",
            "KSampler",
            "--fail-at-step",
            "3",
            "--step-delay-ms",
            "0",
            "--hostile-filenames",
            "--huge-text-frame",
            "209715200",
            "--other-clients",
            "3",
            "--paused",
        ]);
        let c = cli.sim.config();
        assert_eq!(c.step_delay, Duration::ZERO);
        assert_eq!(c.other_clients, 3);
        assert!(c.paused);
        assert_eq!(
            c.faults.fail_node,
            Some(FailNode {
                target: NodeMatch::Class("KSampler".into()),
                at_step: 3
            })
        );
        assert_eq!(c.faults.hostile_filenames.len(), 7);
        assert_eq!(c.faults.huge_text_frame, Some(200 << 20));
        let cli = Cli::parse_from(["x", "--fail-node", "12"]);
        assert!(!cli.sim.config().paused);
        assert_eq!(
            cli.sim.config().faults.fail_node.map(|f| f.target),
            Some(NodeMatch::Id("12".into()))
        );
        assert_eq!(cli.sim.listen.to_string(), "127.0.0.1:8188");
    }
}
