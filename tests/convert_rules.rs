//! The conversion rules on shapes the frontend pairs do not cover: nested subgraphs with
//! promoted widgets, old group nodes, schema-1 files and native reroutes, bypass type
//! matching, `%Node.widget%` and `%date:…%`, dynamic prompts under a seed, big integers,
//! missing classes, and malformed graphs.

use comfy_tui::convert::{ConvertError, ConvertOptions, NaiveDateTime, convert};
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::OnceLock;

fn object_info() -> &'static Value {
    static INFO: OnceLock<Value> = OnceLock::new();
    INFO.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/object_info_full.json");
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
    })
}

fn now() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 2, 3)
        .and_then(|d| d.and_hms_opt(4, 5, 6))
        .expect("date")
}

fn options(seed: u64) -> ConvertOptions {
    ConvertOptions {
        seed: Some(seed),
        now: now(),
    }
}

fn prompt(ui: &Value) -> Map<String, Value> {
    convert(ui, object_info(), &options(1))
        .unwrap_or_else(|e| panic!("converts: {e}"))
        .prompt
}

fn node(id: i64, class: &str, inputs: Value, outputs: Value, widgets: Value) -> Value {
    json!({"id": id, "type": class, "mode": 0, "inputs": inputs, "outputs": outputs,
           "properties": {"Node name for S&R": class}, "widgets_values": widgets})
}

fn image_out(links: Value) -> Value {
    json!([{"name": "IMAGE", "type": "IMAGE", "links": links}])
}

fn image_in(name: &str, link: i64) -> Value {
    json!({"name": name, "type": "IMAGE", "link": link})
}

#[test]
fn nested_subgraph_with_a_promoted_widget_takes_the_outer_value() {
    let noise_def = json!({
        "id": "aaaa", "name": "noise",
        "inputs": [{"name": "image", "type": "IMAGE", "linkIds": [1]},
                   {"name": "strength", "type": "FLOAT", "linkIds": [2]}],
        "outputs": [{"name": "IMAGE", "type": "IMAGE", "linkIds": [3]}],
        "nodes": [node(1, "ImageAddNoise",
            json!([image_in("image", 1),
                   {"name": "seed", "type": "INT", "widget": {"name": "seed"}, "link": null},
                   {"name": "strength", "type": "FLOAT", "widget": {"name": "strength"}, "link": 2}]),
            image_out(json!([3])), json!([5, "fixed", 0.5]))],
        "links": [
            {"id": 1, "origin_id": -10, "origin_slot": 0, "target_id": 1, "target_slot": 0, "type": "IMAGE"},
            {"id": 2, "origin_id": -10, "origin_slot": 1, "target_id": 1, "target_slot": 2, "type": "FLOAT"},
            {"id": 3, "origin_id": 1, "origin_slot": 0, "target_id": -20, "target_slot": 0, "type": "IMAGE"}
        ]
    });
    let outer_def = json!({
        "id": "bbbb", "name": "outer",
        "inputs": [{"name": "image", "type": "IMAGE", "linkIds": [11]},
                   {"name": "amount", "type": "FLOAT", "linkIds": [12]}],
        "outputs": [{"name": "IMAGE", "type": "IMAGE", "linkIds": [13]}],
        "nodes": [node(5, "aaaa",
            json!([image_in("image", 11),
                   {"name": "strength", "type": "FLOAT", "widget": {"name": "strength"}, "link": 12}]),
            image_out(json!([13])), json!([0.1]))],
        "links": [
            {"id": 11, "origin_id": -10, "origin_slot": 0, "target_id": 5, "target_slot": 0, "type": "IMAGE"},
            {"id": 12, "origin_id": -10, "origin_slot": 1, "target_id": 5, "target_slot": 1, "type": "FLOAT"},
            {"id": 13, "origin_id": 5, "origin_slot": 0, "target_id": -20, "target_slot": 0, "type": "IMAGE"}
        ]
    });
    let ui = json!({
        "version": 0.4,
        "nodes": [
            node(1, "EmptyImage", json!([]), image_out(json!([1])), json!([8, 8, 1, 0])),
            node(2, "bbbb", json!([image_in("image", 1)]), image_out(json!([2])), json!([0.42])),
            node(3, "SaveImage", json!([image_in("images", 2)]), json!([]), json!(["out"])),
            node(4, "bbbb", json!([image_in("image", 3)]), image_out(json!([])), json!([]))
        ],
        "links": [[1, 1, 0, 2, 0, "IMAGE"], [2, 2, 0, 3, 0, "IMAGE"], [3, 1, 0, 4, 0, "IMAGE"]],
        "definitions": {"subgraphs": [noise_def, outer_def]}
    });
    let prompt = prompt(&ui);
    let inner = &prompt["2:5:1"];
    assert_eq!(inner["class_type"], "ImageAddNoise");
    assert_eq!(inner["inputs"]["strength"], json!(0.42));
    assert_eq!(inner["inputs"]["seed"], json!(5));
    assert_eq!(inner["inputs"]["image"], json!(["1", 0]));
    assert_eq!(prompt["3"]["inputs"]["images"], json!(["2:5:1", 0]));
    // No value stored: the inner subgraph instance's own promoted value is used.
    assert_eq!(prompt["4:5:1"]["inputs"]["strength"], json!(0.1));
    assert!(!prompt.contains_key("2") && !prompt.contains_key("2:5"));
}

#[test]
fn an_old_group_node_expands_with_index_ids_and_its_widget_values() {
    let inner = |class: &str, inputs: Value, widgets: Value| {
        json!({"id": -1, "type": class, "mode": 0, "inputs": inputs, "outputs": [], "properties": {},
               "widgets_values": widgets})
    };
    let socket = |name: &str, kind: &str| json!({"name": name, "type": kind, "link": null});
    let ui = json!({
        "version": 0.4,
        "nodes": [
            {"id": 10, "type": "workflow>sampler", "mode": 0,
             "inputs": [{"name": "latent_image", "type": "LATENT", "link": 100}],
             "outputs": [],
             "widgets_values": ["model.safetensors", "a red fox", "blurry", 42, "fixed", 17, 6.5,
                                "dpmpp_2m", "karras", 0.87, "fox"]},
            node(20, "EmptyLatentImage", json!([]),
                 json!([{"name": "LATENT", "type": "LATENT", "links": [100]}]), json!([512, 512, 1]))
        ],
        "links": [[100, 20, 0, 10, 0, "LATENT"]],
        "extra": {"groupNodes": {"sampler": {
            "nodes": [
                inner("CheckpointLoaderSimple", json!([]), json!(["other.safetensors"])),
                inner("CLIPTextEncode", json!([socket("clip", "CLIP")]), json!(["x"])),
                inner("CLIPTextEncode", json!([socket("clip", "CLIP")]), json!(["y"])),
                inner("KSampler", json!([socket("model", "MODEL"), socket("positive", "CONDITIONING"),
                    socket("negative", "CONDITIONING"), socket("latent_image", "LATENT")]),
                    json!([1, "fixed", 20, 8, "euler", "normal", 1])),
                inner("VAEDecode", json!([socket("samples", "LATENT"), socket("vae", "VAE")]), json!([])),
                inner("SaveImage", json!([socket("images", "IMAGE")]), json!(["ComfyUI"]))
            ],
            "links": [
                [0, 1, 1, 0, 4, "CLIP"], [0, 1, 2, 0, 4, "CLIP"], [0, 0, 3, 0, 4, "MODEL"],
                [1, 0, 3, 1, 6, "CONDITIONING"], [2, 0, 3, 2, 7, "CONDITIONING"],
                [3, 0, 4, 0, 3, "LATENT"], [0, 2, 4, 1, 4, "VAE"], [4, 0, 5, 0, 8, "IMAGE"]
            ],
            "external": []
        }}}
    });
    let prompt = prompt(&ui);
    let mut ids: Vec<&String> = prompt.keys().collect();
    ids.sort();
    assert_eq!(ids, ["10:0", "10:1", "10:2", "10:3", "10:4", "10:5", "20"]);
    assert_eq!(prompt["10:0"]["inputs"]["ckpt_name"], "model.safetensors");
    assert_eq!(
        prompt["10:1"]["inputs"],
        json!({"text": "a red fox", "clip": ["10:0", 1]})
    );
    assert_eq!(prompt["10:2"]["inputs"]["text"], "blurry");
    assert_eq!(
        prompt["10:3"]["inputs"],
        json!({"seed": 42, "steps": 17, "cfg": 6.5, "sampler_name": "dpmpp_2m",
               "scheduler": "karras", "denoise": 0.87, "model": ["10:0", 0],
               "positive": ["10:1", 0], "negative": ["10:2", 0], "latent_image": ["20", 0]})
    );
    assert_eq!(
        prompt["10:4"]["inputs"],
        json!({"samples": ["10:3", 0], "vae": ["10:0", 2]})
    );
    assert_eq!(
        prompt["10:5"]["inputs"],
        json!({"filename_prefix": "fox", "images": ["10:4", 0]})
    );
}

/// A schema-1 file: links as objects, native reroutes at the top and on links.
#[test]
fn schema_1_with_native_reroutes_links_through() {
    let ui = json!({
        "version": 1,
        "state": {"lastNodeId": 3, "lastLinkId": 2, "lastRerouteId": 2},
        "nodes": [
            node(1, "EmptyImage", json!([]), image_out(json!([1])), json!([8, 8, 1, 0])),
            node(2, "ImageInvert", json!([image_in("image", 1)]), image_out(json!([2])), json!([])),
            node(3, "SaveImage", json!([image_in("images", 2)]), json!([]), json!(["s1"]))
        ],
        "links": [
            {"id": 1, "origin_id": 1, "origin_slot": 0, "target_id": 2, "target_slot": 0, "type": "IMAGE", "parentId": 2},
            {"id": 2, "origin_id": 2, "origin_slot": 0, "target_id": 3, "target_slot": 0, "type": "IMAGE"}
        ],
        "reroutes": [{"id": 1, "pos": [10, 10], "linkIds": [1]}, {"id": 2, "parentId": 1, "pos": [20, 20], "linkIds": [1]}],
        "floatingLinks": [{"id": 9, "origin_id": 1, "origin_slot": 0, "target_id": -1, "target_slot": -1, "type": "IMAGE", "parentId": 1}]
    });
    let prompt = prompt(&ui);
    assert_eq!(prompt["2"]["inputs"]["image"], json!(["1", 0]));
    assert_eq!(prompt["3"]["inputs"]["images"], json!(["2", 0]));

    let mut old = ui.clone();
    old["version"] = json!(0.4);
    old["links"] = json!([[1, 1, 0, 2, 0, "IMAGE"], [2, 2, 0, 3, 0, "IMAGE"]]);
    old["extra"] = json!({"reroutes": [{"id": 1, "pos": [10, 10]}], "linkExtensions": [{"id": 1, "parentId": 1}]});
    assert_eq!(self::prompt(&old), prompt);
}

#[test]
fn a_subgraph_that_contains_itself_is_refused() {
    let looped = json!({
        "id": "dddd", "name": "loop", "inputs": [], "outputs": [],
        "nodes": [{"id": 1, "type": "dddd", "mode": 0}], "links": []
    });
    let ui = json!({
        "nodes": [{"id": 1, "type": "dddd", "mode": 0}],
        "links": [],
        "definitions": {"subgraphs": [looped]}
    });
    let error = convert(&ui, object_info(), &options(1)).expect_err("refused");
    assert!(error.to_string().contains("contain itself"), "{error}");
}

#[test]
fn a_bypassed_node_passes_the_input_whose_type_matches_the_consumer() {
    let ui = json!({
        "nodes": [
            node(1, "EmptyImage", json!([]), image_out(json!([1])), json!([8, 8, 1, 0])),
            node(2, "SolidMask", json!([]), json!([{"name": "MASK", "type": "MASK", "links": [2]}]), json!([1.0, 8, 8])),
            {"id": 3, "type": "JoinImageWithAlpha", "mode": 4,
             "inputs": [image_in("image", 1), {"name": "alpha", "type": "MASK", "link": 2}],
             "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [3, 4]}]},
            node(4, "MaskToImage", json!([{"name": "mask", "type": "MASK", "link": 3}]), image_out(json!([])), json!([])),
            node(5, "PreviewImage", json!([image_in("images", 4)]), json!([]), json!([]))
        ],
        "links": [[1, 1, 0, 3, 0, "IMAGE"], [2, 2, 0, 3, 1, "MASK"], [3, 3, 0, 4, 0, "MASK"], [4, 3, 0, 5, 0, "IMAGE"]]
    });
    let prompt = prompt(&ui);
    assert!(!prompt.contains_key("3"));
    assert_eq!(
        prompt["4"]["inputs"]["mask"],
        json!(["2", 0]),
        "MASK finds the alpha input"
    );
    assert_eq!(
        prompt["5"]["inputs"]["images"],
        json!(["1", 0]),
        "IMAGE keeps slot 0"
    );
}

fn save_graph(prefix: &str) -> Value {
    json!({
        "nodes": [
            {"id": 1, "type": "EmptyImage", "mode": 0, "title": "Canvas", "inputs": [],
             "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
             "widgets_values": [640, 480, 1, 0]},
            {"id": 2, "type": "SaveImage", "mode": 0, "title": "Final",
             "inputs": [image_in("images", 1)], "outputs": [], "properties": {},
             "widgets_values": [prefix]}
        ],
        "links": [[1, 1, 0, 2, 0, "IMAGE"]]
    })
}

#[test]
fn save_prefixes_expand_dates_and_node_widgets() {
    let prompt = prompt(&save_graph(
        "%date:yyyy-MM-dd%/%EmptyImage.width%_%date:hh-mm-ss%_%width%",
    ));
    assert_eq!(
        prompt["2"]["inputs"]["filename_prefix"],
        "2026-02-03/640_04-05-06_%width%"
    );
    let by_title = self::prompt(&save_graph("%Canvas.height%-%Final.filename_prefix%"));
    assert_eq!(
        by_title["2"]["inputs"]["filename_prefix"], "480-%Canvas.height%-%Final.filename_prefix%",
        "titles are found; a widget's value is its stored text, not expanded again"
    );
}

#[test]
fn dynamic_prompts_follow_the_seed_and_are_reported() {
    let ui = json!({
        "nodes": [
            node(1, "CheckpointLoaderSimple", json!([]),
                 json!([{"name": "MODEL", "type": "MODEL", "links": []}, {"name": "CLIP", "type": "CLIP", "links": [1]}]),
                 json!(["m.safetensors"])),
            node(2, "CLIPTextEncode", json!([{"name": "clip", "type": "CLIP", "link": 1}]),
                 json!([{"name": "CONDITIONING", "type": "CONDITIONING", "links": []}]),
                 json!(["a {red|green|blue|gold|pink|grey} {cat|dog|owl|fox} // comment"]))
        ],
        "links": [[1, 1, 1, 2, 0, "CLIP"]]
    });
    let first = convert(&ui, object_info(), &options(7)).expect("converts");
    let again = convert(&ui, object_info(), &options(7)).expect("converts");
    assert_eq!(first, again, "the same seed gives the same picks");
    assert_eq!(first.picks.len(), 1);
    let pick = &first.picks[0];
    assert_eq!((pick.node.as_str(), pick.input.as_str()), ("2", "text"));
    assert_eq!(first.prompt["2"]["inputs"]["text"], json!(pick.result));
    let words: Vec<&str> = pick.result.split_whitespace().collect();
    assert_eq!(words.len(), 3, "{}", pick.result);
    let results: std::collections::HashSet<String> = (0..40)
        .map(|seed| {
            convert(&ui, object_info(), &options(seed))
                .expect("ok")
                .picks[0]
                .result
                .clone()
        })
        .collect();
    assert!(results.len() > 5, "seeds pick differently: {results:?}");
}

#[test]
fn integers_above_2_to_the_53_are_kept_exactly() {
    let text = r#"{"nodes": [
        {"id": 1, "type": "EmptyImage", "mode": 0, "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
         "widgets_values": [8, 8, 1, 0]},
        {"id": 2, "type": "ImageAddNoise", "mode": 0,
         "inputs": [{"name": "image", "type": "IMAGE", "link": 1},
                    {"name": "seed", "type": "INT", "widget": {"name": "seed"}, "link": 2}],
         "outputs": [], "widgets_values": [9007199254740993, "fixed", 0.5]},
        {"id": 3, "type": "ImageAddNoise", "mode": 0,
         "inputs": [{"name": "image", "type": "IMAGE", "link": 3}],
         "outputs": [], "widgets_values": [9007199254740993, "fixed", 0.5]},
        {"id": 4, "type": "PrimitiveNode", "mode": 0,
         "outputs": [{"name": "INT", "type": "INT", "links": [2], "widget": {"name": "seed"}}],
         "widgets_values": [18446744073709551615, "fixed"]}
    ], "links": [[1, 1, 0, 2, 0, "IMAGE"], [2, 4, 0, 2, 1, "INT"], [3, 1, 0, 3, 0, "IMAGE"]]}"#;
    let ui: Value = serde_json::from_str(text).expect("json");
    let prompt = Value::Object(prompt(&ui));
    let out = serde_json::to_string(&prompt).expect("text");
    assert!(out.contains(r#""seed":18446744073709551615"#), "{out}");
    assert!(out.contains(r#""seed":9007199254740993"#), "{out}");
}

#[test]
fn every_missing_class_is_listed_with_ids_and_titles() {
    let sub = json!({
        "id": "cccc", "name": "holder", "inputs": [], "outputs": [],
        "nodes": [{"id": 3, "type": "SecretSauce", "mode": 0, "title": "inner sauce"}], "links": []
    });
    let ui = json!({
        "nodes": [
            {"id": 1, "type": "FancyLoader", "mode": 0, "title": "My loader"},
            {"id": 2, "type": "FancyLoader", "mode": 0},
            {"id": 5, "type": "OnlyMuted", "mode": 2},
            {"id": 10, "type": "cccc", "mode": 0}
        ],
        "links": [],
        "definitions": {"subgraphs": [sub]}
    });
    let Err(ConvertError::MissingClasses(missing)) = convert(&ui, object_info(), &options(1))
    else {
        panic!("missing classes are refused");
    };
    let listed: Vec<(&str, &str, &str)> = missing
        .iter()
        .map(|m| (m.id.as_str(), m.title.as_str(), m.class_type.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            ("1", "My loader", "FancyLoader"),
            ("2", "FancyLoader", "FancyLoader"),
            ("10:3", "inner sauce", "SecretSauce")
        ]
    );
    let message = ConvertError::MissingClasses(missing).to_string();
    assert!(
        message.contains("FancyLoader: node 1 \"My loader\", node 2"),
        "{message}"
    );
    assert!(message.contains("custom node"), "{message}");
}

#[test]
fn malformed_graphs_name_the_node_or_link() {
    let dangling = json!({
        "nodes": [node(2, "SaveImage", json!([image_in("images", 9)]), json!([]), json!(["x"]))],
        "links": []
    });
    let error = convert(&dangling, object_info(), &options(1)).expect_err("dangling link");
    assert!(error.to_string().contains("link 9"), "{error}");

    let from_nowhere = json!({
        "nodes": [node(2, "SaveImage", json!([image_in("images", 1)]), json!([]), json!(["x"]))],
        "links": [[1, 7, 0, 2, 0, "IMAGE"]]
    });
    let error = convert(&from_nowhere, object_info(), &options(1)).expect_err("missing origin");
    assert!(error.to_string().contains("node 7"), "{error}");

    let cycle = json!({
        "nodes": [
            {"id": 1, "type": "Reroute", "mode": 0, "inputs": [{"name": "", "type": "*", "link": 2}],
             "outputs": [{"name": "", "type": "IMAGE", "links": [1]}]},
            {"id": 2, "type": "Reroute", "mode": 0, "inputs": [{"name": "", "type": "*", "link": 1}],
             "outputs": [{"name": "", "type": "IMAGE", "links": [2, 3]}]},
            node(3, "SaveImage", json!([image_in("images", 3)]), json!([]), json!(["x"]))
        ],
        "links": [[1, 1, 0, 2, 0, "IMAGE"], [2, 2, 0, 1, 0, "IMAGE"], [3, 2, 0, 3, 0, "IMAGE"]]
    });
    let error = convert(&cycle, object_info(), &options(1)).expect_err("cycle");
    assert!(matches!(error, ConvertError::Cycle { .. }), "{error}");

    let no_type = json!({"nodes": [{"id": 4}], "links": []});
    let error = convert(&no_type, object_info(), &options(1)).expect_err("no type");
    assert!(error.to_string().contains("node 4"), "{error}");
}

#[test]
fn control_values_stored_as_booleans_take_their_place() {
    let ui = json!({
        "nodes": [
            node(1, "EmptyImage", json!([]), image_out(json!([1])), json!([8, 8, 1, 0])),
            node(2, "ImageAddNoise", json!([image_in("image", 1)]), image_out(json!([])), json!([77, true, 0.3]))
        ],
        "links": [[1, 1, 0, 2, 0, "IMAGE"]]
    });
    assert_eq!(
        prompt(&ui)["2"]["inputs"],
        json!({"seed": 77, "strength": 0.3, "image": ["1", 0]})
    );
}

#[test]
fn floats_keep_every_digit_through_the_conversion() {
    // Values a plain fast float parser rounds to a neighbouring double.
    let text = r#"{"nodes": [
        {"id": 1, "type": "EmptyImage", "mode": 0, "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": [1]}],
         "widgets_values": [8, 8, 1, 0]},
        {"id": 2, "type": "ImageAddNoise", "mode": 0, "inputs": [{"name": "image", "type": "IMAGE", "link": 1}],
         "outputs": [], "widgets_values": [1, "fixed", 0.42409761837248483]},
        {"id": 3, "type": "ImageAddNoise", "mode": 0, "inputs": [{"name": "image", "type": "IMAGE", "link": 2}],
         "outputs": [], "widgets_values": [1, "fixed", 223.60000610351562]}
    ], "links": [[1, 1, 0, 2, 0, "IMAGE"], [2, 1, 0, 3, 0, "IMAGE"]]}"#;
    let ui: Value = serde_json::from_str(text).expect("json");
    let out = serde_json::to_string(&Value::Object(prompt(&ui))).expect("text");
    assert!(out.contains("0.42409761837248483"), "{out}");
    assert!(out.contains("223.60000610351562"), "{out}");
}

#[test]
fn group_node_instances_keep_their_own_values_and_converted_widgets_link_from_outside() {
    let group = json!({
        "nodes": [
            {"id": -1, "type": "ImageAddNoise", "mode": 0, "index": 0,
             "inputs": [{"name": "image", "type": "IMAGE", "link": null},
                        {"name": "seed", "type": "INT", "widget": {"name": "seed"}, "link": null}],
             "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": []}],
             "widgets_values": [5, "fixed", 0.5]},
            {"id": -1, "type": "ImageInvert", "mode": 0, "index": 1,
             "inputs": [{"name": "image", "type": "IMAGE", "link": null}],
             "outputs": [{"name": "IMAGE", "type": "IMAGE", "links": []}]}
        ],
        "links": [[0, 0, 1, 0, 1, "IMAGE"]],
        "external": []
    });
    let instance = |id: i64, inputs: Value, outputs: Value, values: Value| {
        json!({"id": id, "type": "workflow>noisy", "mode": 0, "inputs": inputs,
               "outputs": outputs, "widgets_values": values})
    };
    let ui = json!({
        "nodes": [
            node(1, "EmptyImage", json!([]), image_out(json!([1, 5])), json!([8, 8, 1, 0])),
            node(2, "PrimitiveInt", json!([]), json!([{"name": "INT", "type": "INT", "links": [2]}]), json!([31, "fixed"])),
            instance(10, json!([image_in("image", 1), {"name": "seed", "type": "INT", "link": 2}]),
                     image_out(json!([3])), json!([0.7, 123, "fixed"])),
            node(3, "SaveImage", json!([image_in("images", 3)]), json!([]), json!(["g"])),
            instance(11, json!([image_in("image", 5)]), image_out(json!([])), json!([0.2, 456, "fixed"]))
        ],
        "links": [[1, 1, 0, 10, 0, "IMAGE"], [2, 2, 0, 10, 1, "INT"], [3, 10, 0, 3, 0, "IMAGE"],
                  [5, 1, 0, 11, 0, "IMAGE"]],
        "extra": {"groupNodes": {"noisy": group}}
    });
    let prompt = prompt(&ui);
    assert_eq!(
        prompt["10:0"]["inputs"],
        json!({"seed": ["2", 0], "strength": 0.7, "image": ["1", 0]})
    );
    assert_eq!(prompt["10:1"]["inputs"], json!({"image": ["10:0", 0]}));
    assert_eq!(prompt["3"]["inputs"]["images"], json!(["10:1", 0]));
    assert_eq!(
        prompt["11:0"]["inputs"],
        json!({"seed": 456, "strength": 0.2, "image": ["1", 0]})
    );
}
