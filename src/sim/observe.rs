//! What a watcher of the whole server sees beyond its own prompt: other clients'
//! prompts in the queue, memory that moves while prompts run, `POST /free` applied when
//! the worker is idle, and the log stream to subscribed sockets.

use std::sync::atomic::Ordering;
use std::time::SystemTime;

use serde_json::{Map, Number, Value, json};

use super::hub;
use super::memory::{self, Load};
use super::state::{Core, QueueItem, lock};

/// Steps of each prompt the `other_clients` knob queues: long enough to stay in the
/// queue for the whole of a test or a demo at any non-zero step delay.
pub const OTHER_CLIENT_STEPS: u64 = 100_000;

/// A `POST /free` request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Free {
    pub unload_models: bool,
    pub free_memory: bool,
}

#[derive(Debug, Default)]
pub struct MemoryState {
    pub models_loaded: bool,
    /// Flags waiting for the running prompt to end, merged like ComfyUI's worker does.
    pending_free: Option<Free>,
}

/// The graph each other client queues: a sampler-like node of `steps` steps and a save.
/// The seed is the prompt's queue number, so no two are the same graph (a repeated one
/// would be served from the cache at once instead of running).
fn other_client_prompt(seed: i64, steps: u64) -> Map<String, Value> {
    let prompt = json!({
        "1": {"class_type": "ProbeSteps", "inputs": {
            "steps": steps, "step_seconds": 0.1, "seed": seed, "width": 64,
            "height": 64, "fail_at_step": 0, "send_previews": false},
            "_meta": {"title": "Probe Steps (another client)"}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "other"},
            "_meta": {"title": "Save Image"}}
    });
    prompt.as_object().cloned().unwrap_or_default()
}

impl Core {
    /// Queues `n` prompts of `steps` steps, each under a client id of its own that has no
    /// socket here (other people's jobs). Returns their prompt ids, in queue order.
    pub async fn queue_other_clients(&self, n: usize, steps: u64) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let number = {
                let mut q = self.queue();
                let number = q.counter;
                q.counter += 1;
                number
            };
            let prompt_id = uuid::Uuid::new_v4().to_string();
            let mut extra_data = Map::new();
            extra_data.insert(
                "client_id".to_owned(),
                json!(uuid::Uuid::new_v4().simple().to_string()),
            );
            self.log("got prompt\n").await;
            self.enqueue(QueueItem {
                number: Number::from(number),
                prompt_id: prompt_id.clone(),
                prompt: other_client_prompt(number, steps),
                extra_data,
                outputs: vec!["2".to_owned()],
            })
            .await;
            ids.push(prompt_id);
        }
        ids
    }

    // ---- memory ----------------------------------------------------------------------

    /// What `/system_stats` reports now.
    pub fn system_stats(&self) -> Value {
        memory::system_stats(Load {
            models_loaded: lock(&self.memory).models_loaded,
            running: self.running().is_some(),
            steps: self.steps.load(Ordering::Relaxed),
        })
    }

    pub fn count_step(&self) {
        self.steps.fetch_add(1, Ordering::Relaxed);
    }

    /// A prompt starts: its loaders bring the models into VRAM (they stay after it).
    pub fn load_models(&self) {
        lock(&self.memory).models_loaded = true;
    }

    /// `POST /free`: applied at once when idle, else right after the running prompt.
    pub fn request_free(&self, free: Free) {
        if self.running().is_none() {
            self.apply_free(free);
            return;
        }
        let mut memory = lock(&self.memory);
        let pending = memory.pending_free.get_or_insert_with(Free::default);
        pending.unload_models |= free.unload_models;
        pending.free_memory |= free.free_memory;
    }

    /// Called by the worker when a prompt ends.
    pub fn apply_pending_free(&self) {
        let pending = lock(&self.memory).pending_free.take();
        if let Some(free) = pending {
            self.apply_free(free);
        }
    }

    fn apply_free(&self, free: Free) {
        // `free_memory` implies unloading and also drops the execution cache.
        if free.unload_models || free.free_memory {
            lock(&self.memory).models_loaded = false;
        }
        if free.free_memory {
            lock(&self.cache).clear();
        }
    }

    // ---- the log stream --------------------------------------------------------------

    /// Appends a chunk to the server log and sends it, as a `logs` message, to every
    /// subscribed client that has a socket (one without is unsubscribed, as ComfyUI does).
    pub async fn log(&self, text: &str) {
        let (message, subscribers) = {
            let mut logs = lock(&self.logs);
            let entry = logs.push(text, SystemTime::now());
            let subscribers = logs.subscribers();
            if subscribers.is_empty() {
                return;
            }
            (
                hub::text("logs", logs.message_data(vec![entry])),
                subscribers,
            )
        };
        for sid in subscribers {
            if self.hub.has(&sid) {
                self.hub.send_to(&sid, message.clone()).await;
            } else {
                lock(&self.logs).set_subscribed(&sid, false);
            }
        }
    }
}
