//! `comfy-tui attach`: follow a prompt that is already on the server (queued, running or
//! finished), as `run` follows its own, after a dropped SSH session or from another
//! terminal. ComfyUI sends a prompt's events only to the socket registered under its
//! client id, so the socket opens under that id, taken from `/queue` or `/history`.

use crate::cli::AttachArgs;
use crate::comfy::listing::PromptRecord;
use crate::comfy::{ClientId, ComfyClient, PromptId, Workflow};
use crate::launch::{self, Attach, Face, Prepared, UsageError};
use crate::runtime::{Liveness, RunContext};
use serde_json::Value;

/// Where the prompt was found.
enum Found {
    Queued(PromptRecord),
    Finished(PromptRecord),
}

pub async fn run(args: AttachArgs) -> i32 {
    let face = Face::choose(&args.face);
    match prepare(&args, face).await {
        Ok(prepared) => launch::start(prepared, face, &args.face).await,
        Err((error, code)) => launch::report_unsent(&error, code, face),
    }
}

async fn prepare(args: &AttachArgs, face: Face) -> Result<Prepared, (UsageError, i32)> {
    let usage = |e: String| (UsageError(e), crate::exit::USAGE);
    let (server, headers) =
        launch::connection_for(&args.server, &args.headers).map_err(|e| (e, crate::exit::USAGE))?;
    let client =
        ComfyClient::new(server.clone(), headers.clone()).map_err(|e| usage(e.to_string()))?;
    let state = crate::state::StateDir::locate();
    let prompt_id = match &args.prompt_id {
        Some(id) => PromptId::from(id.trim()),
        None => last_running(state.as_ref(), server.as_str()).ok_or_else(|| {
            usage(format!(
                "no prompt of this machine is known to be running on {}; give its id (`comfy-tui jobs` lists them)",
                server.as_str()
            ))
        })?,
    };
    let unreachable =
        |e: crate::comfy::http::HttpError| (UsageError(e.to_string()), crate::exit::UNREACHABLE);
    let found = match find_in_queue(&client, &prompt_id)
        .await
        .map_err(unreachable)?
    {
        Some(record) => Found::Queued(record),
        None => match client.history_item(&prompt_id).await.map_err(unreachable)? {
            Some(record) => Found::Finished(record),
            None => {
                return Err(usage(format!(
                    "prompt {prompt_id} is neither in the queue nor in the history of {}",
                    server.as_str()
                )));
            }
        },
    };
    let record = match &found {
        Found::Queued(r) | Found::Finished(r) => r,
    };
    let client_id = record.client_id().unwrap_or_else(ClientId::random);
    if matches!(found, Found::Queued(_)) {
        // Told plainly: the server knows one socket per client id.
        eprintln!(
            "comfy-tui: following prompt {prompt_id} under its client id {}: a live watcher with that id stops hearing its events",
            crate::text::sanitize(client_id.as_str())
        );
    }
    let workflow = Workflow::from_value(Value::Object(record.prompt.clone()), prompt_id.as_str())
        .map_err(|e| usage(e.to_string()))?;
    let created_out = if args.no_download {
        None
    } else {
        crate::output::prepare_dir(&args.out).map_err(|e| usage(e.to_string()))?
    };
    let number = record.number.as_f64().unwrap_or(0.0);
    let context = RunContext {
        client,
        server,
        headers,
        client_id,
        jobs: vec![crate::runtime::JobPrompt {
            prompt_id: prompt_id.clone(),
            prompt: workflow.nodes().clone(),
            seed: None,
        }],
        front: false,
        names: None,
        preview_method: (face == Face::Tui).then(|| "auto".to_owned()),
        out_dir: std::path::absolute(&args.out).unwrap_or_else(|_| args.out.clone()),
        liveness: Liveness {
            connect_within: args.connect_timeout,
            ..Liveness::default()
        },
        state,
        workflow: None,
    };
    Ok(Prepared {
        shape: crate::state::shape::ShapeKey::of(workflow.nodes()),
        origin: format!("attach {prompt_id}"),
        jobs: vec![crate::launch::PreparedJob {
            seeds: workflow.seeds(),
            workflow,
            swept: Vec::new(),
        }],
        context,
        timeout: args.timeout,
        download: !args.no_download,
        created_out,
        picks: Vec::new(),
        attach: Some(Attach { number }),
    })
}

/// The newest prompt of this machine on `server` that may still be running.
fn last_running(state: Option<&crate::state::StateDir>, server: &str) -> Option<PromptId> {
    let records = state?.jobs().list().ok()?;
    records
        .into_iter()
        .find(|r| r.server == server && r.may_be_running())
        .map(|r| PromptId::from(r.prompt_id.as_str()))
}

async fn find_in_queue(
    client: &ComfyClient,
    id: &PromptId,
) -> Result<Option<PromptRecord>, crate::comfy::http::HttpError> {
    let listing = client.queue_listing().await?;
    Ok(listing
        .running
        .into_iter()
        .chain(listing.pending)
        .find(|r| &r.prompt_id == id))
}
