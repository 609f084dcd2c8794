//! The built-in ComfyUI simulator used by the demo, the tests and the benchmarks.
//!
//! An axum server that answers like a real ComfyUI 0.3.64 (same routes, also under
//! `/api`, same WebSocket messages in the same order, same error shapes), runs prompts
//! with generated images instead of a GPU, and has fault knobs for tests.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use comfy_tui::sim::{self, SimConfig};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let sim = sim::start(listener, SimConfig::default()).await?;
//! println!("{}", sim.url());
//! sim.faults().set_stop_answering(true);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

mod cache;
mod catalog;
mod cli;
mod config;
mod files;
mod heap;
mod http;
mod hub;
pub mod images;
mod logs;
mod memory;
mod nodes;
mod observe;
mod outputs;
mod progress;
mod pyconv;
mod schedule;
mod state;
mod upload;
mod userdata;
mod validate;
mod view;
mod worker;
mod ws;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use catalog::{FAKE_CHECKPOINTS, FAKE_EMBEDDINGS, FAKE_LORAS};
pub use cli::{SimArgs, run_cli};
pub use config::{FailNode, FaultHandle, Faults, NodeMatch, SimConfig};
pub use observe::OTHER_CLIENT_STEPS;
pub use state::CapturedRequest;

use files::Dirs;
use state::Core;

/// How long [`SimHandle::shutdown`] waits for open connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A running simulator. Dropping it stops it too (without waiting for connections to
/// close); [`shutdown`](Self::shutdown) waits until the port is free.
pub struct SimHandle {
    addr: SocketAddr,
    core: Arc<Core>,
    config: SimConfig,
    shutdown_tx: watch::Sender<bool>,
    server: JoinHandle<()>,
    worker: JoinHandle<()>,
}

/// Start a simulator on `listener`; it serves in background tasks.
pub async fn start(listener: TcpListener, config: SimConfig) -> std::io::Result<SimHandle> {
    let dirs = Arc::new(Dirs::new(config.output_dir.clone())?);
    start_with_dirs(listener, config, dirs).await
}

async fn start_with_dirs(
    listener: TcpListener,
    config: SimConfig,
    dirs: Arc<Dirs>,
) -> std::io::Result<SimHandle> {
    let addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let faults = FaultHandle::new(config.faults.clone());
    let core = Arc::new(Core::new(config.clone(), faults, dirs, shutdown_rx.clone()));
    let app = http::router(core.clone());
    let mut stop = shutdown_rx;
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        if let Err(e) = serve.await {
            tracing::warn!("simulator server ended: {e}");
        }
    });
    // Queued before the worker starts, so that the first of them is the first to run (or,
    // with the worker held, all of them stay pending).
    core.queue_other_clients(config.other_clients, observe::OTHER_CLIENT_STEPS)
        .await;
    let worker = tokio::spawn(worker::run(core.clone()));
    Ok(SimHandle {
        addr,
        core,
        config,
        shutdown_tx,
        server,
        worker,
    })
}

/// Bind a listener with `SO_REUSEADDR`, so a restarted simulator can take the port of
/// the previous one at once (connections of the old instance may linger in TIME_WAIT).
/// This is what [`SimHandle::restart`] and [`run_cli`] use; a test that wants to manage
/// the restart itself does `let addr = sim.addr(); sim.shutdown().await;
/// let l = sim::bind_reusable(addr)?; let sim = sim::start(l, config).await?;`.
pub fn bind_reusable(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        // Everything long-running watches this flag, so a test that panics (or forgets
        // to shut down) does not leave a server behind.
        let _ = self.shutdown_tx.send(true);
        self.worker.abort();
    }
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/ws` (add `?clientId=...`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Every HTTP request received so far (WebSocket upgrades included), in order.
    pub fn requests(&self) -> Vec<CapturedRequest> {
        self.core.requests()
    }

    pub fn clear_requests(&self) {
        self.core.clear_requests();
    }

    /// The fault knobs of this instance, changeable while it runs.
    pub fn faults(&self) -> FaultHandle {
        self.core.faults.clone()
    }

    /// Where `SaveImage` writes (`type=output`).
    pub fn output_dir(&self) -> &Path {
        &self.core.dirs.output
    }

    /// Where uploads go (`type=input`).
    pub fn input_dir(&self) -> &Path {
        &self.core.dirs.input
    }

    /// The user directory `/userdata` serves (`workflows/…` are the saved workflows).
    pub fn user_dir(&self) -> &Path {
        &self.core.dirs.user
    }

    /// Where `PreviewImage` writes (`type=temp`).
    pub fn temp_dir(&self) -> &Path {
        &self.core.dirs.temp
    }

    /// Queue `n` more long prompts from other clients (see [`SimConfig::other_clients`]);
    /// their prompt ids, in queue order. While the worker is held they all stay pending.
    pub async fn queue_other_clients(&self, n: usize) -> Vec<String> {
        self.core
            .queue_other_clients(n, observe::OTHER_CLIENT_STEPS)
            .await
    }

    /// Like [`queue_other_clients`](Self::queue_other_clients), with `steps` steps per
    /// prompt: short ones finish, so that a test can see them run in order and land in
    /// the history.
    pub async fn queue_other_clients_with_steps(&self, n: usize, steps: u64) -> Vec<String> {
        self.core.queue_other_clients(n, steps).await
    }

    /// Hold the worker: the prompt running now (if any) goes on to its end, then nothing
    /// starts until [`resume`](Self::resume); `/queue` lists every queued prompt as
    /// pending, and deletes, `/interrupt` and `/free` answer as usual.
    pub fn pause(&self) {
        self.core.set_paused(true);
    }

    /// Release the worker: queued prompts run again, in queue order.
    pub fn resume(&self) {
        self.core.set_paused(false);
    }

    /// Whether the worker is held ([`pause`](Self::pause), [`SimConfig::paused`]).
    pub fn is_paused(&self) -> bool {
        self.core.paused()
    }

    /// Whether the simulated models are loaded (a prompt ran and no `/free` unloaded them).
    pub fn models_loaded(&self) -> bool {
        state::lock(&self.core.memory).models_loaded
    }

    /// Append a chunk (`"text\n"`) to the server log, as a node printing would.
    pub async fn log(&self, text: &str) {
        self.core.log(text).await;
    }

    /// Number of WebSocket clients currently registered.
    pub fn ws_clients(&self) -> usize {
        self.core.hub.client_count()
    }

    /// Stop serving: WebSockets are closed, held requests end, the port is released.
    pub async fn shutdown(self) {
        self.stop().await;
    }

    async fn stop(&self) {
        let _ = self.shutdown_tx.send(true);
        self.worker.abort();
        let abort = self.server.abort_handle();
        // Everything long-running watches the shutdown flag; the timeout only guards
        // against a connection that ignores it.
        if tokio::time::timeout(SHUTDOWN_GRACE, async {
            while !self.server.is_finished() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .is_err()
        {
            abort.abort();
        }
    }

    /// Shut down and start a fresh instance on the same address (via
    /// [`bind_reusable`]): empty queue, history and cache, faults reset to the
    /// configuration's, the worker held or not as the configuration says, the temp
    /// directory wiped, output and input files kept — like a real server restart.
    pub async fn restart(self) -> std::io::Result<SimHandle> {
        self.stop().await;
        let dirs = self.core.dirs.clone();
        dirs.wipe_temp()?;
        let listener = bind_reusable(self.addr)?;
        start_with_dirs(listener, self.config.clone(), dirs).await
    }
}
