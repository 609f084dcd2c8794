//! `comfy-tui watch`: the cockpit for a whole server. Its queue (everyone's), what runs,
//! what finished, its memory and its log on one screen, with keys to follow, interrupt,
//! delete, reorder, free, re-run and save. The state and its update are pure
//! (`state`, `update`, `view`); this module is the loop around them.

pub mod keymap;
pub mod requests;
pub mod state;
pub mod update;
pub mod view;

#[cfg(test)]
mod tests;

use crate::app::{Effect, Event, Stamped};
use crate::cli::{AttachArgs, FaceArgs, WatchArgs};
use crate::comfy::{ClientId, ComfyClient, PromptId, ServerUrl};
use crate::runtime::{Liveness, RunContext, Runtime};
use crate::session::Server;
use crate::terminal::Guard;
use crate::ui::preview::{DecodeJob, Decoded, PreviewState, Source, Target};
use state::{Cockpit, Notice};
use std::collections::HashSet;
use std::time::Duration;
use tokio::time::Instant;

/// How many finished prompts the table lists (`/history?max_items=N`, never the whole
/// history).
pub const HISTORY_ITEMS: usize = 50;
/// At most one frame in this time.
const FRAME: Duration = Duration::from_millis(33);

pub async fn run(args: WatchArgs) -> i32 {
    use std::io::IsTerminal;
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    if !std::io::stdout().is_terminal() || dumb {
        eprintln!(
            "comfy-tui: watch needs a terminal; scripts get the same from `comfy-tui queue --json` and `comfy-tui history --json`"
        );
        return crate::exit::USAGE;
    }
    let (server, headers) = match crate::launch::connection_for(&args.server, &args.headers) {
        Ok(connection) => connection,
        Err(e) => {
            eprintln!("comfy-tui: {}", crate::text::sanitize(&e.0));
            return crate::exit::USAGE;
        }
    };
    let client = match ComfyClient::new(server.clone(), headers.clone()) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("comfy-tui: {}", crate::text::sanitize(&e.to_string()));
            return crate::exit::USAGE;
        }
    };
    let mine = mine_on(&server);
    let client_id = ClientId::random();
    let context = RunContext {
        client,
        server: server.clone(),
        headers,
        client_id: client_id.clone(),
        // The cockpit submits nothing of its own; requests carry their own prompts.
        jobs: Vec::new(),
        front: false,
        names: None,
        preview_method: None,
        out_dir: std::path::absolute(&args.out).unwrap_or_else(|_| args.out.clone()),
        liveness: Liveness {
            connect_within: args.connect_timeout,
            ..Liveness::default()
        },
        state: None,
        workflow: None,
    };
    let wall_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let cockpit = Cockpit::new(
        Server::new(server.as_str().to_owned(), client_id),
        mine,
        std::time::Instant::now(),
        wall_ms,
    );
    match drive(Runtime::new(context), cockpit, &args).await {
        Ok((code, fatal)) => {
            if let Some(reason) = fatal {
                eprintln!("comfy-tui: {}", crate::text::sanitize(&reason));
            }
            code
        }
        Err(e) => {
            eprintln!("comfy-tui: {e:#}");
            crate::exit::USAGE
        }
    }
}

/// The prompts this machine's job store has for the server.
fn mine_on(server: &ServerUrl) -> HashSet<PromptId> {
    crate::state::StateDir::locate()
        .and_then(|dir| dir.jobs().list().ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.server == server.as_str())
        .map(|r| PromptId::from(r.prompt_id.as_str()))
        .collect()
}

/// The loop: drain events, update, carry out effects, draw at most every frame and only
/// when something changed. Enter hands the terminal to the live view of one prompt and
/// takes it back after.
async fn drive(
    mut runtime: Runtime,
    mut cockpit: Cockpit,
    args: &WatchArgs,
) -> anyhow::Result<(i32, Option<String>)> {
    let mut guard = Guard::new()?;
    let mut reader = tokio::spawn(crate::tui::read_terminal(runtime.sender()));
    let signals = crate::signals::spawn(runtime.sender(), true);
    runtime.start();
    resized(&mut cockpit, &mut guard)?;
    let mut last_draw: Option<Instant> = None;
    let picker = crate::terminal::picker(crate::terminal::graphics_likely());
    let mut preview = PreviewState::new(picker);
    let (decoded_tx, mut decoded_rx) = tokio::sync::mpsc::unbounded_channel::<Decoded>();
    let code = 'run: loop {
        let frame_due = last_draw.filter(|_| cockpit.dirty).map(|t| t + FRAME);
        tokio::select! {
            biased;
            Some(decoded) = decoded_rx.recv() => {
                preview.finish(decoded);
                cockpit.dirty = true;
            }
            batch = runtime.next_batch() => {
                if batch.is_empty() {
                    break 'run crate::exit::SUCCESS;
                }
                for stamped in batch {
                    let mut effects = update::update(&mut cockpit, stamped);
                    let follow = effects.iter().find_map(|e| match e {
                        Effect::Follow(_, id) => Some(id.clone()),
                        _ => None,
                    });
                    effects.retain(|e| !matches!(e, Effect::Follow(..)));
                    if let Some(code) = runtime.perform(effects) {
                        break 'run code;
                    }
                    if let Some(id) = follow {
                        reader.abort();
                        drop(guard);
                        let code = crate::attach::run(attach_args(args, &id)).await;
                        guard = Guard::new()?;
                        reader = tokio::spawn(crate::tui::read_terminal(runtime.sender()));
                        cockpit.notice = Some(Notice {
                            text: format!("back from prompt {} (exit code {code})", id.short()),
                            failed: false,
                        });
                        resized(&mut cockpit, &mut guard)?;
                        last_draw = None;
                    }
                }
            }
            () = sleep_until(frame_due), if frame_due.is_some() => {}
        }
        if let Some(job) = picture_job(&cockpit, &mut preview) {
            let tx = decoded_tx.clone();
            tokio::task::spawn_blocking(move || {
                let _ = tx.send(job.run());
            });
        }
        if cockpit.dirty && last_draw.is_none_or(|t| t.elapsed() >= FRAME) {
            last_draw = Some(Instant::now());
            guard
                .terminal()
                .draw(|frame| view::render(frame, &cockpit, &preview))?;
            cockpit.dirty = false;
        }
    };
    reader.abort();
    signals.abort();
    runtime.shutdown();
    drop(guard);
    Ok((code, cockpit.fatal.take()))
}

/// A decode of the selected job's picture at the preview pane's size, when one is due.
fn picture_job(cockpit: &Cockpit, preview: &mut PreviewState) -> Option<DecodeJob> {
    let state::Picture::Have(file, bytes) = &cockpit.picture else {
        return None;
    };
    let (width, height) = cockpit.screen;
    let area = crate::ui::cockpit::layout(
        ratatui::layout::Rect::new(0, 0, width, height),
        cockpit.rows.len(),
    )?
    .preview?;
    let target = Target {
        source: Source::Remote(file.clone()),
        size: area.as_size(),
    };
    preview.job_for_bytes(target, bytes.clone())
}

/// Tells the cockpit the terminal's size (at start and after the live view).
fn resized(cockpit: &mut Cockpit, guard: &mut Guard) -> std::io::Result<()> {
    let size = guard.terminal().size()?;
    update::update(
        cockpit,
        Stamped::new(
            std::time::Instant::now(),
            Event::Resize {
                width: size.width,
                height: size.height,
            },
        ),
    );
    Ok(())
}

/// `attach` for a prompt of the watched server, with the cockpit's connection options.
fn attach_args(args: &WatchArgs, id: &PromptId) -> AttachArgs {
    AttachArgs {
        prompt_id: Some(id.to_string()),
        server: args.server.clone(),
        out: args.out.clone(),
        timeout: None,
        no_download: false,
        headers: args.headers.clone(),
        connect_timeout: args.connect_timeout,
        face: FaceArgs {
            json: false,
            plain: false,
            no_notify: true,
            preview_budget: args.preview_budget,
        },
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
