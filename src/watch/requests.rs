//! Carrying out what the cockpit asks of a server: interrupt, delete, move to the front,
//! free memory, re-run, save outputs. Each answers with a sentence for the user.

use crate::app::effect::{Answer, Request};
use crate::comfy::{ComfyClient, PromptId};
use crate::text::sanitize;
use std::path::Path;

/// The most of a picture the cockpit reads to show it.
const PICTURE_LIMIT: usize = 32 * 1024 * 1024;

/// One output picture, whole, when the server serves it and it is not too large to show.
pub async fn picture(client: &ComfyClient, file: &crate::comfy::FileRef) -> Option<bytes::Bytes> {
    use futures_util::StreamExt;
    let response = client.view(file).await.ok()?;
    if response
        .content_length()
        .is_some_and(|n| n > PICTURE_LIMIT as u64)
    {
        return None;
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.ok()?);
        if body.len() > PICTURE_LIMIT {
            return None;
        }
    }
    Some(bytes::Bytes::from(body))
}

pub async fn carry_out(
    client: &ComfyClient,
    out_dir: &Path,
    request: Request,
) -> Result<Answer, String> {
    let said = |message: String| Answer {
        message,
        submitted: None,
    };
    match request {
        Request::Interrupt(id) => {
            client.interrupt(&id).await.map_err(|e| e.to_string())?;
            Ok(said(format!(
                "asked the server to stop prompt {}",
                id.short()
            )))
        }
        Request::Delete(ids) => {
            client
                .delete_from_queue(&ids)
                .await
                .map_err(|e| e.to_string())?;
            Ok(said(match ids.as_slice() {
                [one] => format!("removed prompt {} from the queue", one.short()),
                many => format!("removed {} prompts from the queue", many.len()),
            }))
        }
        Request::Front(record) => {
            // ComfyUI cannot reorder its queue: the prompt goes, and comes back in front.
            client
                .delete_from_queue(std::slice::from_ref(&record.prompt_id))
                .await
                .map_err(|e| e.to_string())?;
            let new_id = PromptId::random();
            let submitted = client.resubmit(&record, &new_id, true).await.map_err(|e| {
                format!(
                    "prompt {} was removed but could not be submitted again: {e}",
                    record.prompt_id.short()
                )
            })?;
            Ok(Answer {
                message: format!(
                    "moved prompt {} to the front as {}",
                    record.prompt_id.short(),
                    submitted.prompt_id
                ),
                submitted: Some(submitted.prompt_id),
            })
        }
        Request::Free => {
            client.free(true, true).await.map_err(|e| e.to_string())?;
            Ok(said(
                "asked the server to unload its models and free memory".into(),
            ))
        }
        Request::Rerun(record) => {
            let new_id = PromptId::random();
            let submitted = client
                .resubmit(&record, &new_id, false)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Answer {
                message: format!(
                    "submitted prompt {} again as {}",
                    record.prompt_id.short(),
                    submitted.prompt_id
                ),
                submitted: Some(submitted.prompt_id),
            })
        }
        Request::Save(item) => {
            crate::output::prepare_dir(out_dir).map_err(|e| e.to_string())?;
            let mut saved = 0usize;
            let mut failed = Vec::new();
            for (_, file) in item.entry.files() {
                match crate::output::download(client, file, out_dir, |_, _| {}).await {
                    Ok(_) => saved += 1,
                    Err(e) => failed.push(format!("{}: {e}", sanitize(&file.filename))),
                }
            }
            let place = crate::path_text::display(out_dir);
            match (saved, failed.as_slice()) {
                (0, []) => Ok(said(format!(
                    "prompt {} has no files to save",
                    item.prompt_id.short()
                ))),
                (_, []) => Ok(said(format!("saved {saved} file(s) into {place}"))),
                _ => Err(format!(
                    "saved {saved} file(s) into {place}; not saved: {}",
                    failed.join("; ")
                )),
            }
        }
    }
}
