//! Simulator settings: pacing, directories, and the fault knobs tests turn at run time.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// How a simulator instance behaves. `Default` gives a well-behaved server.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Time between two reported steps of a node with a `steps` input (default 50 ms;
    /// ProbeSteps' own `step_seconds` is ignored in favour of this). Zero sends steps as
    /// fast as the sockets take them.
    pub step_delay: Duration,
    /// Where `SaveImage` writes (`type=output`); `None` = a private temp dir that lives
    /// as long as the instance (and its restarts).
    pub output_dir: Option<PathBuf>,
    /// Faults active from the start; change them later through [`SimHandle::faults`](super::SimHandle::faults).
    pub faults: Faults,
    /// The server's own preview method (ComfyUI's `--preview-method`): when true, sampler
    /// previews are sent unless a prompt asks for `extra_data.preview_method = "none"`.
    /// Default false, like a stock server (`none`).
    pub previews_by_default: bool,
    /// Other clients' prompts queued at start: this many long prompts (ProbeSteps of
    /// `sim::OTHER_CLIENT_STEPS` steps), each under a client id of its own. The first
    /// runs at once (unless `paused`), so prompts submitted later wait behind them.
    pub other_clients: usize,
    /// Start with the worker held: prompts are queued and answered for, but none starts
    /// until [`SimHandle::resume`](super::SimHandle::resume). With `other_clients` this
    /// gives a long pending queue with nothing running.
    pub paused: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            step_delay: Duration::from_millis(50),
            output_dir: None,
            faults: Faults::default(),
            previews_by_default: false,
            other_clients: 0,
            paused: false,
        }
    }
}

/// Which node a [`FailNode`] fault hits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeMatch {
    /// The node with this id in the submitted prompt.
    Id(String),
    /// Every node of this class (`class_type`).
    Class(String),
}

impl NodeMatch {
    pub(crate) fn matches(&self, node_id: &str, class_type: &str) -> bool {
        match self {
            NodeMatch::Id(id) => id == node_id,
            NodeMatch::Class(class) => class == class_type,
        }
    }
}

/// Make a node fail with an `execution_error` when it reaches step `at_step` (1-based).
/// Nodes without steps have a single step, so any `at_step` fails them as they start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailNode {
    pub target: NodeMatch,
    pub at_step: u64,
}

/// Fault knobs. `Default` = no faults.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// A node that fails at step N.
    pub fail_node: Option<FailNode>,
    /// Drop a WebSocket connection (no close frame, the TCP connection just ends) once
    /// it has been sent this many frames (counting the initial `status`). One-shot: the
    /// knob clears itself when it fires, so the client's reconnect is not dropped again.
    pub drop_ws_after_frames: Option<u64>,
    /// Refuse request bodies larger than this with 413, as aiohttp does past
    /// `client_max_size` (ComfyUI's default is 100 MiB).
    pub max_body_bytes: Option<u64>,
    /// Delay `GET /object_info` alone by this much (a large catalogue is slow to build).
    pub object_info_delay: Option<Duration>,
    /// Delay every HTTP response (not the WebSocket upgrade) by this much.
    pub http_delay: Option<Duration>,
    /// Accept TCP connections and read requests but never answer them, and send no
    /// WebSocket frames, until switched off again (held requests and frames then go out).
    pub stop_answering: bool,
    /// Throttle `/view` bodies to about this many bytes per second.
    pub view_bytes_per_sec: Option<u64>,
    /// `/view` announces the full `Content-Length` but sends only this many bytes, then
    /// closes the connection.
    pub view_truncate_at: Option<u64>,
    /// Inject, right after the first `executing` of each run, an invalid-JSON text frame,
    /// a JSON frame of unknown `type`, a binary frame of unknown event type and a truncated
    /// binary frame, addressed like the run's other messages.
    pub malformed_frames: bool,
    /// When non-empty, `SaveImage` reports these file names (one entry each) in `executed`
    /// and history instead of the real ones, and `/view` serves image bytes for exactly
    /// these names (bypassing its path checks). See [`Faults::sample_hostile_filenames`].
    pub hostile_filenames: Vec<String>,
    /// Every `execution_error` carries terminal escape sequences (`ESC ]0;owned BEL`,
    /// `ESC [2J`) in its message and traceback. It does not cause an error by itself:
    /// combine it with `fail_node` or ProbeSteps' `fail_at_step` input.
    pub escape_in_errors: bool,
    /// Reproduce the real server's stale-close hazard (`ws_same_client_id_twice`): when
    /// an older socket closes it unregisters the client id even if a newer socket took it
    /// over. Default off: a closing socket only unregisters itself.
    pub stale_close_unregisters: bool,
    /// Send one text frame of this many bytes (a JSON message of an unknown type padded
    /// out) to the prompt's client right after a node's first step, as a hostile server
    /// might. One-shot: the knob clears itself when it fires.
    pub huge_text_frame: Option<u64>,
    /// Refuse every `/upload/image` and `/upload/mask` with this HTTP status and an
    /// empty body, as ComfyUI refuses a bad upload (400) or a proxy a large one (413).
    pub upload_status: Option<u16>,
}

impl Faults {
    /// File names a hostile server might report: traversal, absolute paths, separators,
    /// a Windows drive path, a NUL byte, a reserved device name and a 300-char name.
    pub fn sample_hostile_filenames() -> Vec<String> {
        vec![
            "../../x.png".to_owned(),
            "/etc/x.png".to_owned(),
            "a/b.png".to_owned(),
            "C:\\x.png".to_owned(),
            "x\u{0}y.png".to_owned(),
            "con".to_owned(),
            format!("{}.png", "n".repeat(296)),
        ]
    }

    /// The escape sequences `escape_in_errors` puts into error messages.
    pub const ESCAPES: &'static str = "\u{1b}]0;owned\u{7}\u{1b}[2J";
}

/// A cloneable handle to change the fault knobs of a running simulator.
#[derive(Clone, Debug)]
pub struct FaultHandle {
    tx: Arc<watch::Sender<Faults>>,
}

impl FaultHandle {
    pub(crate) fn new(faults: Faults) -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(faults)),
        }
    }

    /// A snapshot of the current knobs.
    pub fn get(&self) -> Faults {
        self.tx.borrow().clone()
    }

    /// Replace all knobs.
    pub fn set(&self, faults: Faults) {
        self.tx.send_replace(faults);
    }

    /// Change some knobs in place, e.g. `h.update(|f| f.stop_answering = true)`.
    pub fn update(&self, change: impl FnOnce(&mut Faults)) {
        self.tx.send_modify(change);
    }

    pub fn set_stop_answering(&self, on: bool) {
        self.update(|f| f.stop_answering = on);
    }

    pub fn set_fail_node(&self, fail: Option<FailNode>) {
        self.update(|f| f.fail_node = fail);
    }

    pub fn set_drop_ws_after_frames(&self, frames: Option<u64>) {
        self.update(|f| f.drop_ws_after_frames = frames);
    }

    pub fn set_http_delay(&self, delay: Option<Duration>) {
        self.update(|f| f.http_delay = delay);
    }

    /// Clear the one-shot drop knob if it still holds `frames` (a racing update wins).
    pub(crate) fn consume_drop(&self, frames: u64) {
        self.tx.send_if_modified(|f| {
            if f.drop_ws_after_frames == Some(frames) {
                f.drop_ws_after_frames = None;
                true
            } else {
                false
            }
        });
    }

    /// Take the one-shot huge text frame knob, if set.
    pub(crate) fn take_huge_text_frame(&self) -> Option<u64> {
        let mut taken = None;
        self.tx.send_if_modified(|f| {
            taken = f.huge_text_frame.take();
            taken.is_some()
        });
        taken
    }

    /// Wait until `stop_answering` is off (returns at once when it already is).
    pub(crate) async fn wait_answering(&self) {
        let mut rx = self.tx.subscribe();
        // An error means the sender is gone, i.e. the instance is being torn down.
        let _ = rx.wait_for(|f| !f.stop_answering).await;
    }
}
