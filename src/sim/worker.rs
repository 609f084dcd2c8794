//! The prompt worker: runs queued prompts one at a time, node by node, sending the
//! messages a real ComfyUI sends, in the same order, and writing the history entry.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::ws::Message;
use serde_json::{Map, Value, json};

use super::cache::{self, Entry};
use super::catalog;
use super::config::Faults;
use super::hub::{self, text};
use super::nodes::{self, Arg, Args, Pace, SimValue};
use super::outputs;
use super::progress::Progress;
use super::schedule::Plan;
use super::state::{Core, QueueItem, Running, lock, now_ms};
use super::validate::link_source;

/// Run prompts forever (the task is aborted when the instance shuts down).
pub async fn run(core: Arc<Core>) {
    loop {
        let item = core.next_item().await;
        // ComfyUI announces the queue again when the worker takes a prompt.
        core.broadcast_status().await;
        execute(&core, &item).await;
    }
}

/// Why a run stopped early: the data of its `execution_error` / `execution_interrupted`.
enum Stop {
    Error(Value),
    Interrupted(Value),
}

struct Run<'a> {
    core: &'a Core,
    item: &'a QueueItem,
    cid: Option<String>,
    /// `prompt_id` as a JSON string literal, for hand-built frames.
    pid_json: String,
    progress: Progress,
    /// `[event, data]` pairs for the history `status.messages`.
    messages: Vec<Value>,
    executed: Vec<String>,
    ui: Map<String, Value>,
    meta: Map<String, Value>,
    values: HashMap<String, Vec<SimValue>>,
    malformed_sent: bool,
}

async fn execute(core: &Core, item: &QueueItem) {
    let pid = item.prompt_id.clone();
    let cid = item.client_id();
    tracing::debug!(prompt_id = %pid, client_id = ?cid, "sim: prompt starts");
    let started = std::time::Instant::now();
    core.clear_interrupt();
    core.load_models();
    core.set_running(Some(Running {
        prompt_id: pid.clone(),
        client_id: cid.clone(),
        node: None,
    }));
    let mut run = Run {
        core,
        item,
        cid: cid.clone(),
        pid_json: Value::from(pid.as_str()).to_string(),
        progress: Progress::new(&pid),
        messages: Vec::new(),
        executed: Vec::new(),
        ui: Map::new(),
        meta: Map::new(),
        values: HashMap::new(),
        malformed_sent: false,
    };
    run.lifecycle(
        "execution_start",
        json!({"prompt_id": pid, "timestamp": now_ms()}),
    )
    .await;

    let sigs = cache::signatures(&item.prompt, &|class, inputs| {
        change_marker(core, class, inputs)
    });
    let cached: Vec<String> = {
        let mut c = lock(&core.cache);
        let keep: HashSet<&String> = sigs.values().collect();
        c.retain(&keep);
        item.prompt
            .keys()
            .filter(|id| sigs.get(*id).is_some_and(|s| c.get(s).is_some()))
            .cloned()
            .collect()
    };
    run.lifecycle(
        "execution_cached",
        json!({"nodes": cached, "prompt_id": pid, "timestamp": now_ms()}),
    )
    .await;

    let success = match run.graph(&sigs, &cached).await {
        Ok(()) => {
            run.lifecycle(
                "execution_success",
                json!({"prompt_id": pid, "timestamp": now_ms()}),
            )
            .await;
            true
        }
        Err(Stop::Error(data)) => {
            let message = data["exception_message"].as_str().unwrap_or_default();
            core.log(&format!("!!! Exception during processing !!! {message}"))
                .await;
            run.messages.push(json!(["execution_error", data]));
            run.to_client(text("execution_error", data)).await;
            false
        }
        Err(Stop::Interrupted(data)) => {
            core.log("Processing interrupted\n").await;
            run.messages.push(json!(["execution_interrupted", data]));
            // The one terminal message ComfyUI broadcasts for prompts without client id.
            run.to_client_or_all(text("execution_interrupted", data))
                .await;
            false
        }
    };

    let entry = json!({
        "prompt": item.to_json(),
        "outputs": run.ui,
        "status": {
            "status_str": if success { "success" } else { "error" },
            "completed": success,
            "messages": run.messages,
        },
        "meta": run.meta,
    });
    tracing::debug!(prompt_id = %pid, success, "sim: prompt done");
    core.task_done(&pid, entry);
    core.set_running(None);
    core.broadcast_status().await;
    if let Some(cid) = &cid {
        core.hub
            .send_to(
                cid,
                text("executing", json!({"node": null, "prompt_id": pid})),
            )
            .await;
    }
    core.log(&format!(
        "Prompt executed in {:.2} seconds\n",
        started.elapsed().as_secs_f64()
    ))
    .await;
    core.apply_pending_free();
}

/// Extra cache-key material: `LoadImage` (and `LoadImageMask`) re-runs when its file
/// changes (ComfyUI hashes the file in `IS_CHANGED`; size and mtime are enough here).
fn change_marker(core: &Core, class: &str, inputs: &Map<String, Value>) -> String {
    if !super::catalog::INPUT_FILE_CLASSES.contains(&class) {
        return String::new();
    }
    let name = inputs.get("image").and_then(Value::as_str).unwrap_or("");
    core.dirs
        .annotated_input(name)
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| format!("{}:{:?}", m.len(), m.modified().ok()))
        .unwrap_or_default()
}

impl Run<'_> {
    fn pid(&self) -> &str {
        &self.item.prompt_id
    }

    fn faults(&self) -> Faults {
        self.core.faults.get()
    }

    /// Messages ComfyUI sends only to the prompt's client (dropped without one).
    async fn to_client(&self, msg: Message) {
        if let Some(cid) = &self.cid {
            self.core.hub.send_to(cid, msg).await;
        }
    }

    /// Messages ComfyUI broadcasts when the prompt has no client id.
    async fn to_client_or_all(&self, msg: Message) {
        self.core.hub.send(self.cid.as_deref(), msg).await;
    }

    async fn lifecycle(&mut self, event: &str, data: Value) {
        self.messages.push(json!([event, data]));
        self.to_client(text(event, data)).await;
    }

    async fn send_progress_state(&self) {
        self.to_client_or_all(self.progress.message()).await;
    }

    fn class_of(&self, id: &str) -> String {
        self.item.prompt[id]["class_type"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    async fn graph(
        &mut self,
        sigs: &HashMap<String, String>,
        cached: &[String],
    ) -> Result<(), Stop> {
        let cached_set: HashSet<&String> = cached.iter().collect();
        {
            let c = lock(&self.core.cache);
            for id in cached {
                if let Some(e) = sigs.get(id).and_then(|s| c.get(s)) {
                    self.values.insert(id.clone(), e.outputs.clone());
                }
            }
        }
        let mut plan = Plan::default();
        for o in &self.item.outputs {
            plan.stage(&self.item.prompt, o, &cached_set);
        }
        let mut done = HashSet::new();
        while let Some(id) = plan.pick(&self.item.prompt, &done) {
            let sig = sigs.get(&id).cloned().unwrap_or_default();
            if cached_set.contains(&id) {
                self.replay(&id, &sig).await;
            } else {
                self.node(&id, sig).await?;
            }
            done.insert(id);
        }
        Ok(())
    }

    /// A cached output node: its UI output is sent again, nothing runs.
    async fn replay(&mut self, id: &str, sig: &str) {
        let ui = lock(&self.core.cache).get(sig).and_then(|e| e.ui.clone());
        self.to_client(text(
            "executed",
            json!({"node": id, "display_node": id, "output": ui.clone(), "prompt_id": self.pid()}),
        ))
        .await;
        if let Some(ui) = ui {
            self.record_ui(id, ui);
        }
        self.progress.finish_cached(id);
        self.send_progress_state().await;
    }

    fn record_ui(&mut self, id: &str, ui: Value) {
        self.ui.insert(id.to_owned(), ui);
        self.meta.insert(
            id.to_owned(),
            json!({"node_id": id, "display_node": id, "parent_node": null, "real_node_id": id}),
        );
    }

    fn args(&self, id: &str) -> Args {
        let empty = Map::new();
        let inputs = self.item.prompt[id]
            .get("inputs")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        Args(
            inputs
                .iter()
                .map(|(name, val)| {
                    let arg = match link_source(val) {
                        Some(src) => {
                            let slot = val.get(1).and_then(Value::as_u64).unwrap_or(0) as usize;
                            let v = self
                                .values
                                .get(&src)
                                .and_then(|o| o.get(slot))
                                .cloned()
                                .unwrap_or_else(|| SimValue::Opaque("*".to_owned()));
                            Arg::Link(v)
                        }
                        None => Arg::Lit(match val {
                            Value::Object(o) if o.contains_key("__value__") => {
                                o["__value__"].clone()
                            }
                            v => v.clone(),
                        }),
                    };
                    (name.clone(), arg)
                })
                .collect(),
        )
    }

    async fn node(&mut self, id: &str, sig: String) -> Result<(), Stop> {
        let class = self.class_of(id);
        self.progress.start(id);
        self.send_progress_state().await;
        self.to_client(text(
            "executing",
            json!({"node": id, "display_node": id, "prompt_id": self.pid()}),
        ))
        .await;
        self.core.set_running_node(Some(id));
        let faults = self.faults();
        if faults.malformed_frames && !self.malformed_sent {
            self.malformed_sent = true;
            for f in hub::malformed_frames(self.pid()) {
                self.to_client_or_all(f).await;
            }
        }
        if self.core.interrupted() {
            return Err(self.interrupted(id));
        }

        let args = self.args(id);
        let fail_at = faults
            .fail_node
            .as_ref()
            .filter(|f| f.target.matches(id, &class))
            .map(|f| f.at_step.max(1));
        let own_fail = nodes::own_fail_step(&class, &args);
        let previews =
            nodes::previews_wanted(&self.item.extra_data, self.core.config.previews_by_default);
        let mut last_max = None;
        match nodes::pace(&class, &args, previews) {
            Pace::Instant => {
                if let Some(step) = fail_at {
                    return Err(self.fault_error(id, &class, &args, step, 1));
                }
            }
            Pace::Sleep(d) => {
                if let Some(step) = fail_at {
                    return Err(self.fault_error(id, &class, &args, step, 1));
                }
                if self.core.sleep_interruptible(d).await {
                    return Err(self.interrupted(id));
                }
            }
            Pace::Steps {
                steps,
                previews,
                text_frames,
            } => {
                let id_json = Value::from(id).to_string();
                for i in 1..=steps {
                    self.pace_step(i).await;
                    if self.core.interrupted() {
                        return Err(self.interrupted(id));
                    }
                    if fail_at == Some(i) {
                        return Err(self.fault_error(id, &class, &args, i, steps));
                    }
                    if own_fail == Some(i) {
                        let msg = format!(
                            "ProbeSteps: deliberate failure at step {i} of {steps} (fail_at_step={i})\n"
                        );
                        return Err(self.error(id, &class, &args, msg, "RuntimeError"));
                    }
                    self.progress.step(id, i, steps);
                    self.core.count_step();
                    self.send_progress_state().await;
                    let image = previews.map(|p| {
                        if p.png {
                            (
                                2,
                                crate::sim::images::png(
                                    p.width.min(128),
                                    p.height.min(128),
                                    p.seed ^ i,
                                ),
                            )
                        } else {
                            (
                                1,
                                crate::sim::images::preview_jpeg(
                                    p.width, p.height, p.seed, i, steps,
                                ),
                            )
                        }
                    });
                    self.step_frames(id, &id_json, i, steps, image).await;
                    if i == 1
                        && let Some(size) = self.core.faults.take_huge_text_frame()
                    {
                        self.to_client(hub::huge_text(size)).await;
                    }
                    if text_frames {
                        // Node TEXT frames are broadcast by ComfyUI, client id or not.
                        self.core
                            .hub
                            .broadcast(hub::text_type3(id, &format!("step {i}/{steps}")))
                            .await;
                    }
                }
                last_max = Some(steps);
            }
            Pace::WsImages(spec) => {
                let n = u64::from(spec.batch);
                let id_json = Value::from(id).to_string();
                for i in 0..n {
                    if self.core.interrupted() {
                        return Err(self.interrupted(id));
                    }
                    self.progress.step(id, i, n);
                    self.core.count_step();
                    self.send_progress_state().await;
                    let png = match spec.color {
                        Some(c) => crate::sim::images::solid_png(spec.width, spec.height, c),
                        None => crate::sim::images::png(
                            spec.width,
                            spec.height,
                            spec.seed.wrapping_add(i),
                        ),
                    };
                    self.step_frames(id, &id_json, i, n, Some((2, png))).await;
                }
                last_max = Some(n);
            }
        }

        let outputs = nodes::outputs(&class, id, &args, &self.core.dirs);
        let ui = match outputs::ui_output(self.core, &class, &args, &faults, self.item).await {
            Ok(ui) => ui,
            Err(msg) => return Err(self.error(id, &class, &args, msg, "Exception")),
        };
        lock(&self.core.cache).insert(
            sig,
            Entry {
                outputs: outputs.clone(),
                ui: ui.clone(),
            },
        );
        self.values.insert(id.to_owned(), outputs);
        self.executed.push(id.to_owned());
        if let Some(ui) = ui {
            self.to_client(text(
                "executed",
                json!({"node": id, "display_node": id, "output": ui, "prompt_id": self.pid()}),
            ))
            .await;
            self.record_ui(id, ui);
        }
        self.progress.finish(id, last_max);
        self.send_progress_state().await;
        Ok(())
    }

    /// Wait for the next step: the configured delay, or with no delay an occasional
    /// yield so a flood of steps does not starve the sockets' tasks.
    async fn pace_step(&self, i: u64) {
        let delay = self.core.config.step_delay;
        if delay.is_zero() {
            if i.is_multiple_of(64) {
                tokio::task::yield_now().await;
            }
        } else {
            // An interrupt ends the wait early; the caller checks the flag.
            self.core.sleep_interruptible(delay).await;
        }
    }

    /// One step's `progress` and preview frames, in ComfyUI's order: a type 4 preview
    /// goes before `progress`, a type 1 preview after it.
    async fn step_frames(
        &self,
        id: &str,
        id_json: &str,
        value: u64,
        max: u64,
        image: Option<(u32, Vec<u8>)>,
    ) {
        let progress = format!(
            "{{\"type\":\"progress\",\"data\":{{\"value\":{value},\"max\":{max},\"prompt_id\":{},\"node\":{id_json}}}}}",
            self.pid_json
        );
        let with_metadata = self
            .cid
            .as_deref()
            .is_some_and(|c| self.core.hub.supports_preview_metadata(c));
        match image {
            Some((format, bytes)) if with_metadata => {
                let meta = json!({
                    "node_id": id, "prompt_id": self.pid(), "display_node_id": id,
                    "parent_node_id": null, "real_node_id": id,
                    "image_type": if format == 2 { "image/png" } else { "image/jpeg" },
                });
                self.to_client_or_all(hub::preview_type4(&meta, &bytes))
                    .await;
                self.to_client_or_all(hub::raw_text(progress)).await;
            }
            Some((format, bytes)) => {
                self.to_client_or_all(hub::raw_text(progress)).await;
                self.to_client_or_all(hub::preview_type1(format, &bytes))
                    .await;
            }
            None => self.to_client_or_all(hub::raw_text(progress)).await,
        }
    }

    fn interrupted(&self, id: &str) -> Stop {
        self.core.clear_interrupt();
        Stop::Interrupted(json!({
            "prompt_id": self.pid(), "node_id": id, "node_type": self.class_of(id),
            "executed": self.executed, "timestamp": now_ms(),
        }))
    }

    fn fault_error(&self, id: &str, class: &str, args: &Args, step: u64, of: u64) -> Stop {
        let msg = format!("{class}: simulated failure at step {step} of {of} (sim fault)\n");
        self.error(id, class, args, msg, "RuntimeError")
    }

    fn error(&self, id: &str, class: &str, args: &Args, message: String, exc_type: &str) -> Stop {
        let escapes = self.faults().escape_in_errors;
        let message = if escapes {
            format!("{}{message}{}", Faults::ESCAPES, Faults::ESCAPES)
        } else {
            message
        };
        let mut traceback = vec![
            "  File \"/srv/comfyui/ComfyUI/execution.py\", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n".to_owned(),
            "  File \"/srv/comfyui/ComfyUI/execution.py\", line 277, in process_inputs\n    result = f(**inputs)\n             ^^^^^^^^^^^\n".to_owned(),
            format!("  File \"<comfy-tui sim>/nodes.py\", line 1, in {class}\n    raise {exc_type}(\n"),
        ];
        if escapes {
            traceback.push(format!("  {}\n", Faults::ESCAPES));
        }
        let mut current_inputs = args.current_inputs();
        if catalog::wants_unique_id(class) {
            current_inputs.insert("unique_id".to_owned(), json!([id]));
        }
        let current_outputs: Vec<&String> = self.item.prompt.keys().rev().collect();
        Stop::Error(json!({
            "prompt_id": self.pid(), "node_id": id, "node_type": class,
            "executed": self.executed, "exception_message": message, "exception_type": exc_type,
            "traceback": traceback, "current_inputs": current_inputs,
            "current_outputs": current_outputs, "timestamp": now_ms(),
        }))
    }
}
