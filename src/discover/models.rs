//! `comfy-tui models [FOLDER]`: the model folders with their file counts, or the files
//! of one folder exactly as loader nodes expect them.

use futures_util::future::join_all;
use serde_json::{Value, json};

use super::table::{Align, Table};
use super::{Failure, Shown};
use crate::cli::ModelsArgs;
use crate::comfy::http::ComfyClient;
use crate::text::sanitize;

/// A folder and how many files it lists (`None` when that listing failed).
#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    pub name: String,
    pub files: Option<usize>,
}

pub async fn run(args: ModelsArgs) -> i32 {
    super::run_with(&args.server, |client| async move {
        let server = client.server().as_str().to_owned();
        match args.folder {
            Some(folder) => {
                let files = files(&client, &folder).await?;
                Ok(show_files(&server, &folder, &files))
            }
            None => Ok(show_folders(&server, &folders(&client).await?)),
        }
    })
    .await
}

/// `/models`, then every folder's listing at once (one small request each).
async fn folders(client: &ComfyClient) -> Result<Vec<Folder>, Failure> {
    let names = client.model_folders().await?;
    let counts = join_all(names.iter().map(|name| client.models(name))).await;
    Ok(names
        .into_iter()
        .zip(counts)
        .map(|(name, count)| Folder {
            name,
            files: count.ok().flatten().map(|files| files.len()),
        })
        .collect())
}

async fn files(client: &ComfyClient, folder: &str) -> Result<Vec<String>, Failure> {
    if let Some(files) = client.models(folder).await? {
        return Ok(files);
    }
    let known = client.model_folders().await.unwrap_or_default();
    let close = super::closest(folder, known.iter().map(String::as_str));
    let hint = if close.is_empty() {
        format!("its folders are: {}", known.join(", "))
    } else {
        format!("did you mean {}?", close.join(", "))
    };
    Err(Failure::Usage(format!(
        "no model folder `{folder}` on {} ({hint})",
        client.server().as_str()
    )))
}

/// `{"server", "folders": [{"name", "files"}]}`; `files` is `null` when unknown.
pub fn show_folders(server: &str, folders: &[Folder]) -> Shown {
    let json = json!({
        "server": server,
        "folders": folders.iter().map(|f| json!({"name": f.name, "files": f.files})).collect::<Vec<Value>>(),
    });
    let mut table = Table::new(&[("FOLDER", Align::Left), ("FILES", Align::Right)]);
    for f in folders {
        table.row([
            f.name.clone(),
            f.files.map_or_else(|| "-".to_owned(), |n| n.to_string()),
        ]);
    }
    let text = if folders.is_empty() {
        format!("{} lists no model folders\n", sanitize(server))
    } else {
        let mut text = table.render();
        text.push_str("list one with: comfy-tui models FOLDER\n");
        text
    };
    Shown { json, table: text }
}

/// `{"server", "folder", "models": [...]}`: the names as the server spells them.
pub fn show_files(server: &str, folder: &str, files: &[String]) -> Shown {
    let json = json!({"server": server, "folder": folder, "models": files});
    let text = if files.is_empty() {
        format!(
            "no models in {} on {}\n",
            sanitize(folder),
            sanitize(server)
        )
    } else {
        let mut text: String = files.iter().map(|f| format!("{}\n", sanitize(f))).collect();
        text.push_str(&format!(
            "{} file(s) in {}\n",
            files.len(),
            sanitize(folder)
        ));
        text
    };
    Shown { json, table: text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_files_show() {
        let shown = show_folders(
            "http://h/",
            &[
                Folder {
                    name: "checkpoints".into(),
                    files: Some(3),
                },
                Folder {
                    name: "x".into(),
                    files: None,
                },
            ],
        );
        assert!(
            shown
                .table
                .starts_with("FOLDER       FILES\ncheckpoints      3\nx                -\n"),
            "{}",
            shown.table
        );
        assert_eq!(shown.json["folders"][1]["files"], Value::Null);
        let shown = show_files(
            "http://h/",
            "loras",
            &["a\u{1b}]0;x\u{7}.safetensors".into()],
        );
        assert_eq!(shown.table, "a.safetensors\n1 file(s) in loras\n");
        assert_eq!(
            shown.json["models"][0], "a\u{1b}]0;x\u{7}.safetensors",
            "JSON is exact"
        );
        assert!(
            show_files("http://h/", "vae", &[])
                .table
                .starts_with("no models in vae")
        );
    }
}
