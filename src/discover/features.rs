//! `comfy-tui features`: the server's feature flags, or the defaults an older server
//! without `/features` implies.

use serde_json::{Value, json};

use super::table::{Align, Table};
use super::{Failure, Shown};
use crate::cli::ServerArgs;
use crate::comfy::system::Features;

pub async fn run(args: ServerArgs) -> i32 {
    super::run_with(&args, |client| async move {
        let features = client.feature_set().await?;
        Ok::<_, Failure>(show(client.server().as_str(), &features))
    })
    .await
}

/// `{"server", "known", "supports_preview_metadata", "max_upload_size", "flags": {...}}`;
/// `known` is false (and `flags` empty) for a server without the route.
pub fn show(server: &str, features: &Features) -> Shown {
    let json = json!({
        "server": server,
        "known": features.known,
        "supports_preview_metadata": features.supports_preview_metadata,
        "max_upload_size": features.max_upload_size,
        "flags": features.flags,
    });
    let mut table = Table::new(&[("FLAG", Align::Left), ("VALUE", Align::Left)]);
    for (name, value) in &features.flags {
        let shown = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        table.row([name.clone(), shown]);
    }
    let mut text = if features.known {
        table.render()
    } else {
        "this server has no /features route (older than 2025-07): no preview metadata\n".to_owned()
    };
    text.push_str(&format!(
        "uploads up to {}\n",
        crate::ui::format::bytes(features.max_upload_size)
    ));
    Shown { json, table: text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_listed_and_old_servers_explained() {
        let f = Features::from_value(Some(&json!({
            "supports_preview_metadata": true, "max_upload_size": 104857600.0,
            "extension": {"manager": {"supports_v4": true}}
        })));
        let shown = show("http://h/", &f);
        assert_eq!(
            shown.table,
            "FLAG                       VALUE\nsupports_preview_metadata  true\nmax_upload_size            104857600.0\nextension                  {\"manager\":{\"supports_v4\":true}}\nuploads up to 100.0 MiB\n"
        );
        assert_eq!(shown.json["max_upload_size"], 104857600);
        let old = show("http://h/", &Features::from_value(None));
        assert!(old.table.starts_with("this server has no /features"));
        assert_eq!(old.json["known"], false);
    }
}
