//! The only place that awaits: it owns the event channel, runs the socket task, the
//! ticker and the liveness probe, and carries out the app's effects as tasks whose
//! results come back as events.

use crate::app::{Effect, Event, JobEvent, JobKey, ServerEvent, ServerKey, Stamped};
use crate::comfy::http::{ComfyClient, HttpError, SubmitRequest};
use crate::comfy::ws::WsConnection;
use crate::comfy::{ClientId, PromptId, ServerUrl};
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

/// Depth of the event channel. When the app falls behind (a flood of progress), the
/// socket task waits here instead of growing memory: the backlog stays bounded.
pub const EVENT_CHANNEL_DEPTH: usize = 1024;
/// Downloads that may run at once.
const PARALLEL_DOWNLOADS: usize = 4;
/// Progress of one download goes to the app at most this often.
pub const DOWNLOAD_PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Timing of the liveness checks. ComfyUI never pings and a silent model load of a minute
/// is normal, so silence alone proves nothing: an HTTP probe tells a healthy server from a
/// dead one, and our own pings catch a half-open socket.
#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    /// After this much silence, probe the server over HTTP (and ping the socket).
    pub probe_after: Duration,
    /// A server with no sign of life (no frame, no pong, no probe answer) for this long
    /// is dead.
    pub dead_after: Duration,
    /// Longest wait for one probe.
    pub probe_timeout: Duration,
    /// Before the first connection: how long to keep trying before the server counts
    /// as unreachable (`--connect-timeout`).
    pub connect_within: Duration,
}

/// How long the first connection may take by default.
pub const CONNECT_WITHIN: Duration = Duration::from_secs(10);

impl Default for Liveness {
    fn default() -> Self {
        Self {
            probe_after: Duration::from_secs(5),
            dead_after: Duration::from_secs(20),
            probe_timeout: Duration::from_secs(4),
            connect_within: CONNECT_WITHIN,
        }
    }
}

/// Everything needed to carry out one run: its server (the session's `ServerKey::FIRST`,
/// whose socket this runtime opens) and the prompt of its job.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub client: ComfyClient,
    pub server: ServerUrl,
    pub headers: HeaderMap,
    pub client_id: ClientId,
    /// Each job's prompt, by its `JobKey`.
    pub jobs: Vec<JobPrompt>,
    /// Jobs go ahead of everything pending (`--front`).
    pub front: bool,
    /// How saved files are named (`--name`); none: the server's names, made safe.
    pub names: Option<crate::batch::NamePattern>,
    pub preview_method: Option<String>,
    pub out_dir: PathBuf,
    pub liveness: Liveness,
    /// Where the job store and the learned durations live (none: nothing is kept).
    pub state: Option<crate::state::StateDir>,
    /// The editor's graph the prompt was converted from, sent along with it.
    pub workflow: Option<Value>,
}

/// One job's prompt as it is submitted.
#[derive(Debug, Clone)]
pub struct JobPrompt {
    pub prompt_id: PromptId,
    pub prompt: Map<String, Value>,
    /// The seed it was given (for `--name`'s `{seed}`).
    pub seed: Option<u64>,
}

impl RunContext {
    /// The name a job's output is saved under.
    fn local_name(
        &self,
        job: JobKey,
        node: &crate::comfy::NodeId,
        file: &crate::comfy::FileRef,
    ) -> String {
        let plain = crate::output::local_name(file);
        match (&self.names, self.jobs.get(job.0)) {
            (Some(pattern), Some(prompt)) => {
                crate::output::safe_name(&pattern.render(crate::batch::name::NameParts {
                    job: job.0,
                    prompt: prompt.prompt_id.short(),
                    seed: prompt.seed,
                    node: node.as_str(),
                    filename: &plain,
                }))
            }
            _ => plain,
        }
    }
}

pub type EventSender = mpsc::Sender<Stamped>;

pub struct Runtime {
    ctx: Arc<RunContext>,
    tx: EventSender,
    rx: mpsc::Receiver<Stamped>,
    downloads: Arc<Semaphore>,
    background: Vec<JoinHandle<()>>,
    writes: Arc<Writes>,
    state_queue: Option<std::sync::mpsc::Sender<StateWrite>>,
    /// Cancels go to the server one after the other, in the order asked: a batch's
    /// pending jobs are deleted before its running one is interrupted, or the server
    /// would start the next of ours in between.
    cancel_lane: Option<mpsc::UnboundedSender<Effect>>,
}

type StateWrite =
    Box<dyn FnOnce(&crate::state::StateDir) -> Result<(), crate::state::StateError> + Send>;

/// State-file writes still going on: the process must not exit under them.
#[derive(Default)]
struct Writes {
    pending: std::sync::Mutex<usize>,
    done: std::sync::Condvar,
}

/// The longest the way out waits for state writes (each gives up on a stuck lock
/// sooner than this).
const WRITES_WAIT: Duration = Duration::from_secs(5);

impl Writes {
    fn begin(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            *pending += 1;
        }
    }

    fn end(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            *pending = pending.saturating_sub(1);
        }
        self.done.notify_all();
    }

    /// Blocks until no write is left, or `limit` has passed.
    fn wait(&self, limit: Duration) {
        let Ok(pending) = self.pending.lock() else {
            return;
        };
        let _ = self.done.wait_timeout_while(pending, limit, |p| *p > 0);
    }
}

async fn send(tx: &EventSender, event: Event) -> bool {
    tx.send(Stamped::new(Instant::now(), event)).await.is_ok()
}

impl Runtime {
    pub fn new(ctx: RunContext) -> Self {
        let (tx, rx) = mpsc::channel(EVENT_CHANNEL_DEPTH);
        Self {
            ctx: Arc::new(ctx),
            tx,
            rx,
            downloads: Arc::new(Semaphore::new(PARALLEL_DOWNLOADS)),
            background: Vec::new(),
            writes: Arc::default(),
            state_queue: None,
            cancel_lane: None,
        }
    }

    pub fn context(&self) -> &RunContext {
        &self.ctx
    }

    /// For the faces' own sources (terminal reader, signals, preview decoder).
    pub fn sender(&self) -> EventSender {
        self.tx.clone()
    }

    /// Starts the socket task and the once-a-second ticker.
    pub fn start(&mut self) {
        let ctx = Arc::clone(&self.ctx);
        let tx = self.tx.clone();
        self.background
            .push(tokio::spawn(async move { socket_task(ctx, tx).await }));
        let tx = self.tx.clone();
        self.background.push(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(1));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                if !send(&tx, Event::Tick).await {
                    break;
                }
            }
        }));
    }

    /// Waits for one event, then takes every event already waiting.
    pub async fn next_batch(&mut self) -> Vec<Stamped> {
        let mut batch = Vec::new();
        if let Some(first) = self.rx.recv().await {
            batch.push(first);
        }
        while batch.len() < EVENT_CHANNEL_DEPTH {
            match self.rx.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        batch
    }

    /// Carries out effects. Returns the exit code when one of them is `Exit`.
    pub fn perform(&mut self, effects: Vec<Effect>) -> Option<i32> {
        let mut exit = None;
        for effect in effects {
            match effect {
                Effect::Exit(code) => exit = exit.or(Some(code)),
                Effect::RecordJob(record) => {
                    self.write_state(move |dir| dir.jobs().record(&record))
                }
                Effect::RecordDurations(sample) => {
                    self.write_state(move |dir| dir.durations().record(&sample));
                }
                cancel @ (Effect::Interrupt(..) | Effect::DeleteFromQueue(..)) => {
                    self.cancel_in_order(cancel);
                }
                effect => self.spawn_effect(effect),
            }
        }
        exit
    }

    /// Writes to the state directory off the loop, in the order asked (a run's end must
    /// not be overtaken by its start), on one blocking thread started at the first write.
    /// A failure costs only the record: it is logged, and the run goes on.
    fn write_state(
        &mut self,
        write: impl FnOnce(&crate::state::StateDir) -> Result<(), crate::state::StateError>
        + Send
        + 'static,
    ) {
        let Some(dir) = self.ctx.state.clone() else {
            return;
        };
        let queue = self.state_queue.get_or_insert_with(|| {
            let (tx, rx) = std::sync::mpsc::channel::<StateWrite>();
            let writes = Arc::clone(&self.writes);
            tokio::task::spawn_blocking(move || {
                for write in rx {
                    if let Err(e) = write(&dir) {
                        tracing::warn!("not recorded: {e}");
                    }
                    writes.end();
                }
            });
            tx
        });
        self.writes.begin();
        if queue.send(Box::new(write)).is_err() {
            self.writes.end();
        }
    }

    fn cancel_in_order(&mut self, effect: Effect) {
        let lane = self.cancel_lane.get_or_insert_with(|| {
            let (lane, mut cancels) = mpsc::unbounded_channel::<Effect>();
            let (ctx, tx) = (Arc::clone(&self.ctx), self.tx.clone());
            self.background.push(tokio::spawn(async move {
                while let Some(cancel) = cancels.recv().await {
                    let event = match cancel {
                        Effect::Interrupt(job, id) => {
                            cancel_result(job, ctx.client.interrupt(&id).await)
                        }
                        Effect::DeleteFromQueue(job, id) => {
                            cancel_result(job, ctx.client.delete_from_queue(&[id]).await)
                        }
                        _ => continue,
                    };
                    if !send(&tx, event).await {
                        break;
                    }
                }
            }));
            lane
        });
        let _ = lane.send(effect);
    }

    fn spawn_effect(&self, effect: Effect) {
        let ctx = Arc::clone(&self.ctx);
        let tx = self.tx.clone();
        let downloads = Arc::clone(&self.downloads);
        // Taken before the task runs: what an answer can know of starts here.
        let asked = Instant::now();
        tokio::spawn(async move {
            let event = match effect {
                Effect::Submit(job) => submit(&ctx, job).await,
                Effect::Download { job, node, file } => {
                    let _permit = downloads.acquire_owned().await;
                    let mut last: Option<Instant> = None;
                    let progress = |bytes, total| {
                        let now = Instant::now();
                        if last.is_none_or(|t| now.duration_since(t) >= DOWNLOAD_PROGRESS_EVERY) {
                            last = Some(now);
                            // Progress is only news: when the channel is full it is dropped.
                            let event = Event::Job(
                                job,
                                JobEvent::DownloadProgress {
                                    file: file.clone(),
                                    bytes,
                                    total,
                                },
                            );
                            let _ = tx.try_send(Stamped::new(now, event));
                        }
                    };
                    let name = ctx.local_name(job, &node, &file);
                    match crate::output::download_as(
                        &ctx.client,
                        &file,
                        &ctx.out_dir,
                        &name,
                        progress,
                    )
                    .await
                    {
                        Ok((path, bytes)) => Event::Job(
                            job,
                            JobEvent::Saved {
                                node,
                                file,
                                path,
                                bytes,
                            },
                        ),
                        Err(e) => Event::Job(
                            job,
                            JobEvent::SaveFailed {
                                node,
                                file,
                                reason: e.to_string(),
                            },
                        ),
                    }
                }
                Effect::SaveImage {
                    job,
                    node,
                    file,
                    image,
                } => {
                    let (dir, name) = (ctx.out_dir.clone(), ctx.local_name(job, &node, &file));
                    let saved = tokio::task::spawn_blocking(move || {
                        crate::output::save_bytes(&image, &dir, &name)
                    })
                    .await;
                    match saved {
                        Ok(Ok((path, bytes))) => Event::Job(
                            job,
                            JobEvent::Saved {
                                node,
                                file,
                                path,
                                bytes,
                            },
                        ),
                        Ok(Err(e)) => Event::Job(
                            job,
                            JobEvent::SaveFailed {
                                node,
                                file,
                                reason: e.to_string(),
                            },
                        ),
                        Err(e) => Event::Job(
                            job,
                            JobEvent::SaveFailed {
                                node,
                                file,
                                reason: e.to_string(),
                            },
                        ),
                    }
                }
                Effect::FetchHistory(job, id) => match ctx.client.history(&id).await {
                    Ok(entry) => Event::Job(job, JobEvent::History(entry)),
                    Err(e) => Event::Job(
                        job,
                        JobEvent::HistoryFailed {
                            reason: e.to_string(),
                        },
                    ),
                },
                Effect::PollQueue(server) => match ctx.client.queue().await {
                    Ok(mut snapshot) => {
                        snapshot.asked = Some(asked);
                        Event::Server(server, ServerEvent::Queue(snapshot))
                    }
                    // A failed poll changes nothing; liveness decides about the server.
                    Err(_) => return,
                },
                // Carried out in order by the cancel lane.
                Effect::Interrupt(..) | Effect::DeleteFromQueue(..) => return,
                Effect::SubscribeLogs(server) => {
                    if ctx
                        .client
                        .subscribe_logs(&ctx.client_id, true)
                        .await
                        .is_err()
                    {
                        // An old server without the log stream: the pane stays empty.
                        return;
                    }
                    match ctx.client.logs_raw().await {
                        Ok(logs) => Event::Server(
                            server,
                            ServerEvent::Log(
                                logs.entries
                                    .iter()
                                    .flat_map(|e| e.m.lines())
                                    .map(str::to_owned)
                                    .collect(),
                            ),
                        ),
                        Err(_) => return,
                    }
                }
                Effect::Refresh(server) => {
                    let listing = tokio::try_join!(
                        ctx.client.queue_listing(),
                        ctx.client.recent_history(crate::watch::HISTORY_ITEMS)
                    );
                    match listing {
                        Ok((queue, history)) => {
                            Event::Server(server, ServerEvent::Listing { queue, history })
                        }
                        Err(e) => Event::Server(
                            server,
                            ServerEvent::ListingFailed {
                                reason: e.to_string(),
                            },
                        ),
                    }
                }
                Effect::PollStats(server) => match ctx.client.stats().await {
                    Ok(stats) => Event::Server(server, ServerEvent::Stats(stats)),
                    // The strip keeps the last figures; the socket tells of a dead server.
                    Err(_) => return,
                },
                Effect::FetchPicture(server, file) => {
                    match crate::watch::requests::picture(&ctx.client, &file).await {
                        Some(bytes) => Event::Server(server, ServerEvent::Picture { file, bytes }),
                        None => return,
                    }
                }
                Effect::Manage(server, request) => {
                    let kind = request.kind();
                    let outcome =
                        crate::watch::requests::carry_out(&ctx.client, &ctx.out_dir, request).await;
                    Event::Server(
                        server,
                        ServerEvent::Managed {
                            request: kind,
                            outcome,
                        },
                    )
                }
                Effect::Exit(_)
                | Effect::Follow(..)
                | Effect::Suspend
                | Effect::RecordJob(_)
                | Effect::RecordDurations(_) => return,
            };
            send(&tx, event).await;
        });
    }

    /// Stops the background tasks (the socket closes with them), and lets the state
    /// writes finish: the process exits right after, and a record cut short is lost.
    pub fn shutdown(&mut self) {
        for task in self.background.drain(..) {
            task.abort();
        }
        // The writer thread ends once its queue is closed and empty.
        self.state_queue = None;
        self.writes.wait(WRITES_WAIT);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn cancel_result(job: JobKey, result: Result<(), HttpError>) -> Event {
    match result {
        Ok(()) => Event::Job(job, JobEvent::CancelSent),
        Err(e) => Event::Job(
            job,
            JobEvent::CancelFailed {
                reason: e.to_string(),
            },
        ),
    }
}

async fn submit(ctx: &RunContext, job: JobKey) -> Event {
    let Some(prompt) = ctx.jobs.get(job.0) else {
        return Event::Job(
            job,
            JobEvent::SubmitFailed {
                reason: "no such job".into(),
                maybe_sent: false,
            },
        );
    };
    let request = SubmitRequest {
        prompt: &prompt.prompt,
        client_id: &ctx.client_id,
        prompt_id: &prompt.prompt_id,
        preview_method: ctx.preview_method.as_deref(),
        workflow: ctx.workflow.as_ref(),
        front: ctx.front,
    };
    match ctx.client.submit(&request).await {
        Ok(submitted) => Event::Job(job, JobEvent::Submitted(submitted)),
        Err(HttpError::Rejected(rejection)) => Event::Job(job, JobEvent::Rejected(rejection)),
        Err(e) => {
            // A 200 whose body could not be read still queued the prompt.
            let maybe_sent = matches!(
                e,
                HttpError::Unreachable {
                    maybe_sent: true,
                    ..
                } | HttpError::Decode { .. }
            );
            Event::Job(
                job,
                JobEvent::SubmitFailed {
                    reason: e.to_string(),
                    maybe_sent,
                },
            )
        }
    }
}

/// Backoff before reconnect attempt `attempt` (1-based): doubling from 250 ms, capped
/// at 3 s, with jitter so that many clients do not return in step.
pub fn backoff(attempt: u32) -> Duration {
    let base = 250u64.saturating_mul(1 << attempt.saturating_sub(1).min(4));
    let capped = base.min(3000);
    let jitter = rand::random_range(0..=capped / 4);
    Duration::from_millis(capped - capped / 8 + jitter)
}

/// Keeps the socket open for the whole run: connects, forwards every item, reconnects
/// with the same client id when it drops, and decides when the server is gone.
async fn socket_task(ctx: Arc<RunContext>, tx: EventSender) {
    let mut connected_once = false;
    let mut attempt: u32 = 0;
    let mut last_alive = Instant::now();
    // Before the first success, every attempt shares one budget, so that a server that
    // accepts but never answers is reported in time, with what is wrong with it.
    // The last part of the budget is kept for finding out what is wrong.
    let diagnosis = (ctx.liveness.connect_within / 5).min(Duration::from_secs(2));
    let first_deadline = Instant::now() + ctx.liveness.connect_within - diagnosis;
    let mut last_error = String::from("the WebSocket handshake got no answer");
    loop {
        let connect = WsConnection::connect(&ctx.server, &ctx.client_id, &ctx.headers);
        let limit = if connected_once {
            ctx.liveness.dead_after
        } else {
            first_deadline.saturating_duration_since(Instant::now())
        };
        match tokio::time::timeout(limit, connect).await {
            Ok(Ok(mut socket)) => {
                attempt = 0;
                last_alive = Instant::now();
                if !send(
                    &tx,
                    Event::Server(
                        ServerKey::FIRST,
                        ServerEvent::Connected {
                            reconnect: connected_once,
                        },
                    ),
                )
                .await
                {
                    return;
                }
                connected_once = true;
                let reason = match follow(&ctx, &tx, &mut socket, &mut last_alive).await {
                    Follow::ReceiverGone => return,
                    Follow::Dead(reason) => {
                        send(
                            &tx,
                            Event::Server(ServerKey::FIRST, ServerEvent::Silent { reason }),
                        )
                        .await;
                        return;
                    }
                    Follow::Dropped(reason) => reason,
                };
                // Close fully before reconnecting: a stale socket torn down later
                // would deregister the new one on the server.
                let _ = tokio::time::timeout(Duration::from_secs(2), socket.close()).await;
                attempt += 1;
                if !send(
                    &tx,
                    Event::Server(
                        ServerKey::FIRST,
                        ServerEvent::Disconnected { reason, attempt },
                    ),
                )
                .await
                {
                    return;
                }
            }
            Ok(Err(error)) => {
                attempt += 1;
                last_error = error.to_string();
                if connected_once {
                    if !send(
                        &tx,
                        Event::Server(
                            ServerKey::FIRST,
                            ServerEvent::Disconnected {
                                reason: error.to_string(),
                                attempt,
                            },
                        ),
                    )
                    .await
                    {
                        return;
                    }
                    if probe(&ctx).await {
                        last_alive = Instant::now();
                    }
                }
            }
            Err(_) => {
                attempt += 1;
                last_error = format!(
                    "no answer within {} s (--connect-timeout waits longer)",
                    ctx.liveness.connect_within.as_secs_f64()
                );
            }
        }
        if !connected_once {
            let pause = backoff(attempt);
            if Instant::now() + pause >= first_deadline {
                let reason = crate::comfy::diagnose::explain(
                    &ctx.client,
                    &ctx.server,
                    &last_error,
                    diagnosis,
                )
                .await;
                send(
                    &tx,
                    Event::Server(ServerKey::FIRST, ServerEvent::Unreachable { reason }),
                )
                .await;
                return;
            }
            tokio::time::sleep(pause).await;
            continue;
        }
        if last_alive.elapsed() >= ctx.liveness.dead_after {
            send(
                &tx,
                Event::Server(
                    ServerKey::FIRST,
                    ServerEvent::Silent {
                        reason: format!("no answer for {} s", last_alive.elapsed().as_secs()),
                    },
                ),
            )
            .await;
            return;
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
}

enum Follow {
    ReceiverGone,
    Dropped(String),
    Dead(String),
}

/// `GET /prompt` answered in time.
async fn probe(ctx: &RunContext) -> bool {
    matches!(
        tokio::time::timeout(ctx.liveness.probe_timeout, ctx.client.queue_remaining()).await,
        Ok(Ok(_))
    )
}

/// Forwards items until the socket drops or the server is judged dead.
async fn follow(
    ctx: &RunContext,
    tx: &EventSender,
    socket: &mut WsConnection,
    last_alive: &mut Instant,
) -> Follow {
    let mut check = tokio::time::interval(ctx.liveness.probe_after);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    check.tick().await;
    loop {
        tokio::select! {
            item = socket.next() => {
                let item = match item {
                    None => return Follow::Dropped("the server closed the connection".into()),
                    Some(Err(error)) => return Follow::Dropped(error.to_string()),
                    Some(Ok(item)) => item,
                };
                *last_alive = Instant::now();
                if !send(tx, Event::Server(ServerKey::FIRST, ServerEvent::Ws(item))).await {
                    return Follow::ReceiverGone;
                }
            }
            _ = check.tick() => {
                if socket.last_seen().elapsed() < ctx.liveness.probe_after {
                    continue;
                }
                // Quiet: is the server alive, and is this socket still its peer?
                let _ = socket.ping().await;
                if probe(ctx).await {
                    *last_alive = Instant::now();
                }
                if last_alive.elapsed() >= ctx.liveness.dead_after {
                    return Follow::Dead(format!(
                        "no answer for {} s",
                        last_alive.elapsed().as_secs()
                    ));
                }
                // Not even a pong for this long while the server answers HTTP: the socket
                // is likely half-open, so replace it.
                if socket.last_seen().elapsed() >= ctx.liveness.dead_after {
                    return Follow::Dropped("the connection went silent".into());
                }
            }
        }
    }
}
