//! The shared state of one simulator instance: queue, history, cache, sockets, captures.

use std::cmp::Ordering as CmpOrdering;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ws::Message;
use serde_json::{Map, Number, Value, json};
use tokio::sync::{Notify, watch};

use super::cache::Cache;
use super::config::{FaultHandle, SimConfig};
use super::files::Dirs;
use super::heap;
use super::hub::{self, Hub};
use super::logs::LogState;
use super::observe::MemoryState;

/// ComfyUI keeps at most this many history entries.
const MAX_HISTORY: usize = 10_000;

/// One HTTP request as the simulator received it.
#[derive(Clone, Debug, PartialEq)]
pub struct CapturedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The body when it parsed as JSON.
    pub body: Option<Value>,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
}

/// A queued prompt: `[number, prompt_id, prompt, extra_data, outputs_to_execute]`.
#[derive(Clone, Debug)]
pub struct QueueItem {
    pub number: Number,
    pub prompt_id: String,
    pub prompt: Map<String, Value>,
    pub extra_data: Map<String, Value>,
    pub outputs: Vec<String>,
}

impl QueueItem {
    pub fn to_json(&self) -> Value {
        json!([
            self.number,
            self.prompt_id,
            self.prompt,
            self.extra_data,
            self.outputs
        ])
    }

    pub fn client_id(&self) -> Option<String> {
        self.extra_data
            .get("client_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// ComfyUI's heap compares `(number, prompt_id, ...)` tuples.
    fn run_order(a: &Self, b: &Self) -> CmpOrdering {
        let number = |i: &Self| i.number.as_f64().unwrap_or(0.0);
        number(a)
            .total_cmp(&number(b))
            .then_with(|| a.prompt_id.cmp(&b.prompt_id))
    }
}

#[derive(Default)]
pub struct Queue {
    /// A heap array in ComfyUI's order (`sim::heap`); `/queue` lists it as it stands.
    pending: Vec<QueueItem>,
    pub running: Option<QueueItem>,
    /// The server's prompt counter (0, 1, 2, ... per server run).
    pub counter: i64,
    /// The worker is held: nothing new starts (see [`SimConfig::paused`]). Kept under the
    /// queue's lock so that no prompt can be taken between a check and a pause.
    paused: bool,
}

impl Queue {
    pub fn remaining(&self) -> usize {
        self.pending.len() + usize::from(self.running.is_some())
    }

    /// Pending prompts in the heap-array order the real server sends (not run order).
    pub fn pending(&self) -> &[QueueItem] {
        &self.pending
    }

    fn push(&mut self, item: QueueItem) {
        heap::push(&mut self.pending, item, QueueItem::run_order);
    }

    /// Take the next prompt: lowest `(number, prompt_id)` first, like ComfyUI's heap.
    fn pop_next(&mut self) -> Option<QueueItem> {
        heap::pop(&mut self.pending, QueueItem::run_order)
    }

    /// Remove one pending prompt as ComfyUI does (out of the array, then re-heapify);
    /// whether it was there.
    fn remove(&mut self, prompt_id: &str) -> bool {
        let Some(pos) = self.pending.iter().position(|i| i.prompt_id == prompt_id) else {
            return false;
        };
        self.pending.remove(pos);
        heap::heapify(&mut self.pending, QueueItem::run_order);
        true
    }
}

/// What is running right now (for the reconnect `executing` message and `/interrupt`).
#[derive(Clone, Debug, Default)]
pub struct Running {
    pub prompt_id: String,
    pub client_id: Option<String>,
    pub node: Option<String>,
}

pub struct Core {
    pub config: SimConfig,
    pub faults: FaultHandle,
    pub dirs: Arc<Dirs>,
    pub hub: Hub,
    queue: Mutex<Queue>,
    queue_notify: Notify,
    history: Mutex<Map<String, Value>>,
    interrupt: AtomicBool,
    interrupt_notify: Notify,
    running: Mutex<Option<Running>>,
    pub cache: Mutex<Cache>,
    requests: Mutex<Vec<CapturedRequest>>,
    /// Bytes `/view` serves for the hostile file names.
    pub hostile_bytes: Mutex<Vec<u8>>,
    pub shutdown: watch::Receiver<bool>,
    /// The server log: backlog and subscriptions (`sim::observe` delivers it).
    pub logs: Mutex<LogState>,
    /// Loaded models and a `/free` waiting for the running prompt to end.
    pub memory: Mutex<MemoryState>,
    /// Steps run since start (the reported working memory moves with it).
    pub steps: AtomicU64,
}

/// Lock a mutex whose data stays consistent even if a holder panicked (every critical
/// section here is a short, self-contained update).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Core {
    pub fn new(
        config: SimConfig,
        faults: FaultHandle,
        dirs: Arc<Dirs>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let queue = Queue {
            paused: config.paused,
            ..Queue::default()
        };
        Self {
            config,
            faults,
            dirs,
            hub: Hub::default(),
            queue: Mutex::new(queue),
            queue_notify: Notify::new(),
            history: Mutex::new(Map::new()),
            interrupt: AtomicBool::new(false),
            interrupt_notify: Notify::new(),
            running: Mutex::new(None),
            cache: Mutex::new(Cache::default()),
            requests: Mutex::new(Vec::new()),
            hostile_bytes: Mutex::new(Vec::new()),
            shutdown,
            logs: Mutex::new(LogState::with_startup()),
            memory: Mutex::new(MemoryState::default()),
            steps: AtomicU64::new(0),
        }
    }

    // ---- queue -------------------------------------------------------------------

    pub fn queue(&self) -> MutexGuard<'_, Queue> {
        lock(&self.queue)
    }

    pub fn queue_remaining(&self) -> usize {
        self.queue().remaining()
    }

    /// The `status` message (with `sid` only for the first message of a connection).
    pub fn status_message(&self, sid: Option<&str>) -> Message {
        let status = json!({"exec_info": {"queue_remaining": self.queue_remaining()}});
        match sid {
            Some(sid) => hub::text("status", json!({"status": status, "sid": sid})),
            None => hub::text("status", json!({"status": status})),
        }
    }

    pub async fn broadcast_status(&self) {
        self.hub.broadcast(self.status_message(None)).await;
    }

    /// Queue a prompt and announce it.
    pub async fn enqueue(&self, item: QueueItem) {
        self.queue().push(item);
        // Announce before waking the worker, so this `status` always precedes the
        // worker's own (as on the real server, where both come from one event loop).
        self.broadcast_status().await;
        self.queue_notify.notify_one();
    }

    /// Wait until the worker is not held and a prompt waits, then mark it running.
    pub async fn next_item(&self) -> QueueItem {
        loop {
            {
                let mut q = self.queue();
                if !q.paused
                    && let Some(item) = q.pop_next()
                {
                    q.running = Some(item.clone());
                    return item;
                }
            }
            // A wake-up sent between the unlock and here is kept as a permit.
            self.queue_notify.notified().await;
        }
    }

    /// Hold or release the worker. A prompt already running goes on to its end; while
    /// held, nothing else starts and every queued prompt stays pending.
    pub fn set_paused(&self, paused: bool) {
        self.queue().paused = paused;
        if !paused {
            self.queue_notify.notify_one();
        }
    }

    pub fn paused(&self) -> bool {
        self.queue().paused
    }

    /// Remove pending prompts by id, with ComfyUI's status broadcasts (deleting the last
    /// pending item wipes the queue, which announces itself once more).
    pub async fn delete_pending(&self, ids: &[String]) {
        for id in ids {
            let broadcasts = {
                let mut q = self.queue();
                match q.remove(id) {
                    true if q.pending.is_empty() => 2,
                    true => 1,
                    false => 0,
                }
            };
            for _ in 0..broadcasts {
                self.broadcast_status().await;
            }
        }
    }

    pub async fn clear_pending(&self) {
        self.queue().pending.clear();
        self.broadcast_status().await;
    }

    // ---- history -----------------------------------------------------------------

    /// Finish the running prompt: store its history entry, then it no longer counts.
    pub fn task_done(&self, prompt_id: &str, entry: Value) {
        let mut q = self.queue();
        q.running = None;
        let mut h = lock(&self.history);
        h.insert(prompt_id.to_owned(), entry);
        while h.len() > MAX_HISTORY {
            if let Some(first) = h.keys().next().cloned() {
                h.shift_remove(&first);
            }
        }
    }

    /// `GET /history` semantics: `max_items` alone gives the newest N; `offset` skips
    /// the N oldest.
    pub fn history(&self, max_items: Option<usize>, offset: Option<i64>) -> Map<String, Value> {
        let h = lock(&self.history);
        let mut offset = offset.unwrap_or(-1);
        if let (true, Some(m)) = (offset < 0, max_items) {
            offset = h.len() as i64 - m as i64;
        }
        let mut out = Map::new();
        for (i, (k, v)) in h.iter().enumerate() {
            if i as i64 >= offset {
                out.insert(k.clone(), v.clone());
                if max_items.is_some_and(|m| out.len() >= m) {
                    break;
                }
            }
        }
        out
    }

    pub fn history_entry(&self, prompt_id: &str) -> Option<Value> {
        lock(&self.history).get(prompt_id).cloned()
    }

    pub fn edit_history(&self, clear: bool, delete: &[String]) {
        let mut h = lock(&self.history);
        if clear {
            h.clear();
        }
        for id in delete {
            h.shift_remove(id);
        }
    }

    // ---- running prompt and interrupts ---------------------------------------------

    pub fn set_running(&self, running: Option<Running>) {
        *lock(&self.running) = running;
    }

    pub fn set_running_node(&self, node: Option<&str>) {
        if let Some(r) = lock(&self.running).as_mut() {
            r.node = node.map(str::to_owned);
        }
    }

    pub fn running(&self) -> Option<Running> {
        lock(&self.running).clone()
    }

    /// `POST /interrupt`: global, or only when `prompt_id` is the running prompt.
    pub fn interrupt(&self, prompt_id: Option<&str>) {
        let hit = match prompt_id {
            None => true,
            Some(id) => self.running().is_some_and(|r| r.prompt_id == id),
        };
        if hit {
            self.interrupt.store(true, Ordering::SeqCst);
            self.interrupt_notify.notify_waiters();
        }
    }

    pub fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::SeqCst)
    }

    /// ComfyUI clears the flag when it is consumed and when a prompt starts.
    pub fn clear_interrupt(&self) {
        self.interrupt.store(false, Ordering::SeqCst);
    }

    /// Sleep `d`, waking early on an interrupt; true if interrupted.
    pub async fn sleep_interruptible(&self, d: std::time::Duration) -> bool {
        let notified = self.interrupt_notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.interrupted() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => self.interrupted(),
            _ = notified => true,
        }
    }

    // ---- captured requests ---------------------------------------------------------

    pub fn capture(&self, req: CapturedRequest) {
        lock(&self.requests).push(req);
    }

    pub fn requests(&self) -> Vec<CapturedRequest> {
        lock(&self.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.requests).clear();
    }

    /// Resolves when the instance shuts down.
    pub async fn shutting_down(&self) {
        let mut rx = self.shutdown.clone();
        let _ = rx.wait_for(|s| *s).await;
    }
}
