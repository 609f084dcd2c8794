//! `comfy-tui embeddings`: the textual-inversion embeddings a prompt can name.

use serde_json::json;

use super::{Failure, Shown};
use crate::cli::ServerArgs;
use crate::text::sanitize;

pub async fn run(args: ServerArgs) -> i32 {
    super::run_with(&args, |client| async move {
        let names = client.embeddings().await?;
        Ok::<_, Failure>(show(client.server().as_str(), &names))
    })
    .await
}

/// `{"server", "embeddings": [...]}`; the text lists one name a line.
pub fn show(server: &str, names: &[String]) -> Shown {
    let table = if names.is_empty() {
        format!("no embeddings on {}\n", sanitize(server))
    } else {
        let mut text: String = names.iter().map(|n| format!("{}\n", sanitize(n))).collect();
        text.push_str(&format!(
            "{} embedding(s); use one in a prompt as embedding:NAME\n",
            names.len()
        ));
        text
    };
    Shown {
        json: json!({"server": server, "embeddings": names}),
        table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_none() {
        let shown = show("http://h/", &["a".into(), "b\u{7}".into()]);
        assert!(
            shown.table.starts_with("a\nb\n2 embedding(s)"),
            "{}",
            shown.table
        );
        assert_eq!(shown.json["embeddings"][1], "b\u{7}");
        assert_eq!(show("http://h/", &[]).table, "no embeddings on http://h/\n");
    }
}
