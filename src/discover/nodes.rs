//! `comfy-tui nodes [CLASS | --search TEXT]`: the node classes, or one class's inputs
//! (types, defaults, ranges, options) and outputs.

use serde_json::{Value, json};

use super::table::{self, Align, Table};
use super::{Failure, Shown};
use crate::cli::NodesArgs;
use crate::comfy::node_info::{InputInfo, NodeInfo};

/// A combo shows this many choices in the table; JSON has them all.
const SHOWN_OPTIONS: usize = 8;

pub async fn run(args: NodesArgs) -> i32 {
    super::run_with(&args.server, |client| async move {
        let server = client.server().as_str().to_owned();
        if let Some(class) = args.class {
            let found = client.node_infos(Some(&class)).await?;
            if let Some(node) = found.into_iter().find(|n| n.class == class) {
                return Ok(show_node(&server, &node));
            }
            // Only on a miss is the whole (large) catalogue fetched, for suggestions.
            let all = client.node_infos(None).await.unwrap_or_default();
            let close = super::closest(&class, all.iter().map(|n| n.class.as_str()));
            let hint = if close.is_empty() {
                "list them with: comfy-tui nodes --search TEXT".to_owned()
            } else {
                format!("did you mean {}?", close.join(", "))
            };
            return Err(Failure::Usage(format!(
                "no node class `{class}` on {server} ({hint})"
            )));
        }
        let mut nodes = client.node_infos(None).await?;
        if let Some(needle) = &args.search {
            nodes.retain(|n| n.matches(needle));
        }
        Ok(show_list(&server, &nodes, args.search.as_deref()))
    })
    .await
}

/// `{"server", "nodes": [{"class", "display_name", "category", "python_module",
/// "output_node"}]}`, sorted by class.
pub fn show_list(server: &str, nodes: &[NodeInfo], search: Option<&str>) -> Shown {
    let json = json!({
        "server": server,
        "nodes": nodes.iter().map(|n| json!({
            "class": n.class,
            "display_name": n.display_name,
            "category": n.category,
            "python_module": n.python_module,
            "output_node": n.output_node,
        })).collect::<Vec<Value>>(),
    });
    let text = if nodes.is_empty() {
        match search {
            Some(needle) => format!(
                "no node class matches `{}`\n",
                crate::text::sanitize(needle)
            ),
            None => "the server lists no node classes\n".to_owned(),
        }
    } else {
        let mut table = Table::new(&[
            ("CLASS", Align::Left),
            ("CATEGORY", Align::Left),
            ("DISPLAY NAME", Align::Left),
        ]);
        for n in nodes {
            table.row([
                n.class.as_str(),
                n.category.as_str(),
                n.display_name.as_str(),
            ]);
        }
        let mut text = table.render();
        text.push_str(&format!(
            "{} class(es); show one with: comfy-tui nodes CLASS\n",
            nodes.len()
        ));
        text
    };
    Shown { json, table: text }
}

/// `{"server", "node": {"class", "display_name", "category", "description",
/// "python_module", "output_node", "deprecated", "experimental", "inputs": [{"name",
/// "section", "type", "options"?, "default"?, "min"?, "max"?, "step"?, "tooltip"?}],
/// "outputs": [{"type", "name", "is_list", "tooltip"?}]}}`.
pub fn show_node(server: &str, node: &NodeInfo) -> Shown {
    let json = json!({"server": server, "node": node});
    let mut flags = Vec::new();
    if node.output_node {
        flags.push("output node");
    }
    if node.deprecated {
        flags.push("deprecated");
    }
    if node.experimental {
        flags.push("experimental");
    }
    let mut text = table::pairs(&[
        ("class", node.class.clone()),
        ("name", node.display_name.clone()),
        ("category", table::or_dash(Some(node.category.clone()))),
        ("module", table::or_dash(Some(node.python_module.clone()))),
        ("flags", table::or_dash(Some(flags.join(", ")))),
        ("about", table::or_dash(Some(node.description.clone()))),
    ]);
    text.push('\n');
    if node.inputs.is_empty() {
        text.push_str("no inputs\n");
    } else {
        let mut inputs = Table::new(&[
            ("INPUT", Align::Left),
            ("SECTION", Align::Left),
            ("TYPE", Align::Left),
            ("DEFAULT", Align::Left),
            ("RANGE", Align::Left),
            ("OPTIONS", Align::Left),
        ]);
        for input in &node.inputs {
            inputs.row([
                input.name.clone(),
                input.section.as_str().to_owned(),
                input.kind.clone(),
                input.default.as_ref().map(scalar).unwrap_or_default(),
                range(input),
                options(input),
            ]);
        }
        text.push_str(&inputs.render());
    }
    text.push('\n');
    if node.outputs.is_empty() {
        text.push_str("no outputs\n");
    } else {
        let mut outputs = Table::new(&[
            ("OUTPUT", Align::Right),
            ("NAME", Align::Left),
            ("TYPE", Align::Left),
            ("LIST", Align::Left),
        ]);
        for (i, output) in node.outputs.iter().enumerate() {
            outputs.row([
                i.to_string(),
                output.name.clone(),
                output.kind.clone(),
                if output.is_list { "list" } else { "" }.to_owned(),
            ]);
        }
        text.push_str(&outputs.render());
    }
    Shown { json, table: text }
}

/// A JSON value as a person reads it: strings bare, the rest as JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `0 … 100 step 0.1`, or one end when only one is given.
fn range(input: &InputInfo) -> String {
    let mut text = match (&input.min, &input.max) {
        (Some(min), Some(max)) => format!("{} … {}", scalar(min), scalar(max)),
        (Some(min), None) => format!("≥ {}", scalar(min)),
        (None, Some(max)) => format!("≤ {}", scalar(max)),
        (None, None) => String::new(),
    };
    if let Some(step) = &input.step {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("step {}", scalar(step)));
    }
    text
}

fn options(input: &InputInfo) -> String {
    let mut shown: Vec<String> = input
        .options
        .iter()
        .take(SHOWN_OPTIONS)
        .map(scalar)
        .collect();
    if input.options.len() > SHOWN_OPTIONS {
        shown.push(format!("… (+{} more)", input.options.len() - SHOWN_OPTIONS));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> NodeInfo {
        NodeInfo::from_value(
            "Probe",
            &json!({
                "input": {"required": {
                    "steps": ["INT", {"default": 20, "min": 1, "max": 100}],
                    "cfg": ["FLOAT", {"default": 8.0, "step": 0.5}],
                    "pick": [["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], {}],
                    "image": ["IMAGE"]
                }},
                "output": ["LATENT"], "output_name": ["latent"], "output_is_list": [false],
                "display_name": "Probe \u{1b}[31mNode", "category": "testing", "output_node": true
            }),
        )
    }

    #[test]
    fn one_class_shows_inputs_then_outputs() {
        let shown = show_node("http://h/", &node());
        let text = &shown.table;
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("name      Probe Node\n"), "{text}");
        assert!(text.contains("flags     output node\n"), "{text}");
        let line = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(line("steps"), "steps required INT 20 1 … 100");
        assert_eq!(line("cfg"), "cfg required FLOAT 8.0 step 0.5");
        assert_eq!(
            line("pick"),
            "pick required COMBO a, b, c, d, e, f, g, h, … (+2 more)"
        );
        let inputs_at = text.find("INPUT").unwrap_or(usize::MAX);
        let outputs_at = text.find("OUTPUT").unwrap_or(0);
        assert!(inputs_at < outputs_at, "inputs come first: {text}");
        assert!(text.trim_end().ends_with("0  latent  LATENT"), "{text}");
        assert_eq!(
            shown.json["node"]["inputs"][2]["options"]
                .as_array()
                .map(Vec::len),
            Some(10)
        );
        assert_eq!(shown.json["node"]["inputs"][0]["max"], 100);
    }

    #[test]
    fn the_list_and_an_empty_search() {
        let shown = show_list("http://h/", &[node()], None);
        assert!(
            shown
                .table
                .starts_with("CLASS  CATEGORY  DISPLAY NAME\nProbe  testing   Probe Node\n"),
            "{}",
            shown.table
        );
        assert_eq!(shown.json["nodes"][0]["class"], "Probe");
        let none = show_list("http://h/", &[], Some("zzz"));
        assert_eq!(none.table, "no node class matches `zzz`\n");
    }
}
