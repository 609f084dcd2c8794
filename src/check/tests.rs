use super::*;
use serde_json::json;

/// A few real classes from ComfyUI 0.3.64, plus made-up custom and V3 ones.
fn catalog() -> ObjectInfo {
    let full: Value =
        serde_json::from_str(include_str!("../../tests/fixtures/object_info_full.json"))
            .expect("fixture");
    let mut map = Map::new();
    for name in [
        "KSampler",
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "EmptyLatentImage",
        "VAEDecode",
        "SaveImage",
        "PreviewImage",
        "ImageInvert",
        "LoadImage",
        "LoadImageOutput",
        "PreviewAny",
        "EmptyImage",
        "ImageScale",
    ] {
        map.insert(name.into(), full[name].clone());
    }
    map["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] = json!([
        "model.safetensors",
        "v1-5-pruned-emaonly.safetensors",
        "sd_xl_base_1.0.safetensors"
    ]);
    map.insert(
        "CustomThing".into(),
        json!({
            "input": {"required": {"mode": [["a", "b"]], "level": ["INT", {"min": 0, "max": 3}], "thing": ["ANYTHING"]},
                      "optional": {"lazy_one": ["IMAGE", {"lazy": true}]}},
            "output": ["IMAGE"], "output_name": ["IMAGE"], "output_node": true,
            "python_module": "custom_nodes.pack"
        }),
    );
    map.insert(
        "LazyCore".into(),
        json!({
            "input": {"required": {"a": ["IMAGE", {"lazy": true}], "b": ["IMAGE,MASK"]}},
            "output": ["IMAGE"], "output_node": true, "python_module": "comfy_extras.nodes_x"
        }),
    );
    map.insert(
        "V3Pick".into(),
        json!({
            "input": {"required": {
                "tags": ["COMBO", {"multiselect": true, "options": ["x", "y"]}],
                "mode": ["COMBO", {"options": {"Fast": "fast"}}],
                "flag": ["BOOLEAN", {"default": false}],
                "images": ["IMAGE"]
            }},
            "output": [], "output_node": true, "deprecated": false, "experimental": false,
            "python_module": "comfy_extras.nodes_v3"
        }),
    );
    ObjectInfo::from_map(&map)
}

/// The default SD1.5 graph.
fn txt2img() -> Map<String, Value> {
    json!({
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "model.safetensors"}, "_meta": {"title": "Load Checkpoint"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}, "_meta": {"title": "Positive"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 1, "steps": 20, "cfg": 8, "sampler_name": "euler", "scheduler": "normal", "denoise": 1,
            "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]},
            "_meta": {"title": "Sampler"}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "t", "images": ["8", 0]}}
    })
    .as_object()
    .cloned()
    .expect("object")
}

/// The catalogue with a few checkpoints installed (the recording server had none).
fn installed() -> ObjectInfo {
    catalog()
}

fn kinds(list: &[Problem]) -> Vec<(Option<&str>, Option<&str>, ProblemKind)> {
    list.iter()
        .map(|p| (p.node.as_deref(), p.input.as_deref(), p.kind))
        .collect()
}

fn run(prompt: &Map<String, Value>) -> CheckReport {
    check(prompt, Some(&installed()))
}

fn set(prompt: &mut Map<String, Value>, node: &str, input: &str, value: Value) {
    prompt[node]["inputs"][input] = value;
}

#[test]
fn a_good_prompt_passes_without_warnings() {
    let report = run(&txt2img());
    assert_eq!(report, CheckReport::default());
    assert_eq!(
        report.to_json(),
        json!({"ok": true, "problems": [], "warnings": []})
    );
}

#[test]
fn unknown_class_suggests_close_names_and_asks_about_custom_nodes() {
    let mut p = txt2img();
    p["3"]["class_type"] = json!("KSamplr");
    let report = run(&p);
    assert_eq!(
        kinds(&report.problems),
        [(Some("3"), None, ProblemKind::UnknownClass)]
    );
    let problem = &report.problems[0];
    assert_eq!(problem.suggestions[0], "KSampler");
    assert!(
        problem.message.contains("custom node missing"),
        "{}",
        problem.message
    );
    assert_eq!(problem.title.as_deref(), Some("Sampler"));
    assert_eq!(problem.class_type.as_deref(), Some("KSamplr"));
}

#[test]
fn missing_required_input_points_at_a_misspelling() {
    let mut p = txt2img();
    let inputs = p["3"]["inputs"].as_object_mut().expect("inputs");
    let cfg = inputs.shift_remove("cfg").expect("cfg");
    inputs.insert("cgf".into(), cfg);
    let report = run(&p);
    assert_eq!(
        kinds(&report.problems),
        [(Some("3"), Some("cfg"), ProblemKind::MissingInput)]
    );
    assert_eq!(report.problems[0].suggestions, ["cgf"]);
    // The misspelt name itself is only a warning: the server ignores unknown inputs.
    assert_eq!(
        kinds(&report.warnings),
        [(Some("3"), Some("cgf"), ProblemKind::UnknownInput)]
    );
    assert_eq!(report.warnings[0].suggestions[0], "cfg");
}

#[test]
fn unknown_input_names_are_warnings_with_close_names() {
    let mut p = txt2img();
    set(&mut p, "3", "sampler", json!("euler"));
    let report = run(&p);
    assert!(report.is_ok());
    assert_eq!(
        kinds(&report.warnings),
        [(Some("3"), Some("sampler"), ProblemKind::UnknownInput)]
    );
    assert!(
        report.warnings[0]
            .suggestions
            .contains(&"sampler_name".to_owned())
    );
}

#[test]
fn wrong_value_type_is_refused_as_python_would() {
    let mut p = txt2img();
    set(&mut p, "3", "steps", json!("randomize"));
    set(&mut p, "3", "cfg", json!({"a": 1}));
    let report = run(&p);
    assert_eq!(
        kinds(&report.problems),
        [
            (Some("3"), Some("steps"), ProblemKind::WrongType),
            (Some("3"), Some("cfg"), ProblemKind::WrongType)
        ]
    );
    assert!(report.problems[0].message.contains("randomize"));
}

#[test]
fn values_python_converts_are_accepted() {
    let mut p = txt2img();
    set(&mut p, "3", "steps", json!("25"));
    set(&mut p, "3", "cfg", json!("7.5"));
    set(&mut p, "3", "denoise", json!(true));
    set(&mut p, "5", "width", json!(512.7));
    set(&mut p, "3", "seed", json!(18446744073709551615u64));
    set(&mut p, "6", "text", json!(42));
    set(&mut p, "9", "filename_prefix", json!({"__value__": "x"}));
    assert_eq!(run(&p), CheckReport::default());
}

#[test]
fn combo_value_not_in_list_names_the_nearest_installed_files() {
    let mut p = txt2img();
    set(
        &mut p,
        "4",
        "ckpt_name",
        json!("v1-5-pruned-emaonly-fp16.safetensors"),
    );
    set(&mut p, "3", "sampler_name", json!("euler_a"));
    let report = run(&p);
    assert_eq!(
        kinds(&report.problems),
        [
            (Some("4"), Some("ckpt_name"), ProblemKind::NotInList),
            (Some("3"), Some("sampler_name"), ProblemKind::NotInList)
        ]
    );
    assert_eq!(
        report.problems[0].suggestions,
        ["v1-5-pruned-emaonly.safetensors"]
    );
    assert!(report.problems[0].message.contains("not installed"));
    assert!(report.problems[1].suggestions.contains(&"euler".to_owned()));
}

#[test]
fn combo_membership_uses_python_equality() {
    let mut map = Map::new();
    map.insert(
        "Sizes".into(),
        json!({"input": {"required": {"size": [[8, 16, 32]]}}, "output": [], "output_node": true, "python_module": "nodes"}),
    );
    let info = ObjectInfo::from_map(&map);
    let prompt = |v: Value| {
        json!({"1": {"class_type": "Sizes", "inputs": {"size": v}}})
            .as_object()
            .cloned()
            .expect("object")
    };
    assert!(check(&prompt(json!(16.0)), Some(&info)).is_ok());
    let bad = check(&prompt(json!("16")), Some(&info));
    assert_eq!(
        kinds(&bad.problems),
        [(Some("1"), Some("size"), ProblemKind::NotInList)]
    );
}

#[test]
fn numbers_outside_min_max_after_conversion() {
    let mut p = txt2img();
    set(&mut p, "3", "steps", json!(0));
    set(&mut p, "3", "cfg", json!("100.5"));
    set(&mut p, "3", "denoise", json!(0.5));
    let report = run(&p);
    assert_eq!(
        kinds(&report.problems),
        [
            (Some("3"), Some("steps"), ProblemKind::OutOfRange),
            (Some("3"), Some("cfg"), ProblemKind::OutOfRange)
        ]
    );
    assert!(report.problems[0].message.contains("below the minimum 1"));
    assert!(report.problems[1].message.contains("above the maximum 100"));
    // int() truncates first: 0.9 becomes 0, below the minimum of 1.
    let mut p = txt2img();
    set(&mut p, "3", "steps", json!(0.9));
    assert_eq!(run(&p).problems.len(), 1);
    set(&mut p, "3", "steps", json!(1.9));
    assert!(run(&p).is_ok());
}

#[test]
fn link_to_a_missing_node_with_or_without_catalogue() {
    let mut p = txt2img();
    set(&mut p, "8", "vae", json!(["99", 0]));
    for report in [check(&p, None), run(&p)] {
        assert_eq!(
            kinds(&report.problems),
            [(Some("8"), Some("vae"), ProblemKind::MissingNode)]
        );
        assert!(report.problems[0].message.contains("99"));
    }
}

#[test]
fn link_to_a_missing_output_index_lists_the_outputs() {
    let mut p = txt2img();
    set(&mut p, "8", "vae", json!(["4", 3]));
    let report = run(&p);
    assert_eq!(
        kinds(&report.problems),
        [(Some("8"), Some("vae"), ProblemKind::MissingOutput)]
    );
    assert!(
        report.problems[0].message.contains("3 output(s)"),
        "{}",
        report.problems[0].message
    );
    assert_eq!(report.problems[0].suggestions, ["[\"4\", 2] (VAE)"]);
    // Python counts negative indexes from the end: -1 is the VAE.
    set(&mut p, "8", "vae", json!(["4", -1]));
    let report = run(&p);
    assert!(report.is_ok());
    assert_eq!(
        kinds(&report.warnings),
        [(Some("8"), Some("vae"), ProblemKind::Unverified)]
    );
}

#[test]
fn malformed_links_are_refused_without_catalogue() {
    let mut p = txt2img();
    set(&mut p, "8", "vae", json!(["4"]));
    set(&mut p, "8", "samples", json!([3, 0]));
    let report = check(&p, None);
    assert_eq!(
        kinds(&report.problems),
        [
            (Some("8"), Some("samples"), ProblemKind::MalformedLink),
            (Some("8"), Some("vae"), ProblemKind::MalformedLink)
        ]
    );
    assert!(report.problems[0].message.contains("[\"3\""));
}

#[test]
fn link_type_mismatch_suggests_the_right_output() {
    let mut p = txt2img();
    set(&mut p, "8", "vae", json!(["4", 0]));
    let report = run(&p);
    assert_eq!(
        kinds(&report.problems),
        [(Some("8"), Some("vae"), ProblemKind::TypeMismatch)]
    );
    assert!(report.problems[0].message.contains("expects VAE"));
    assert!(report.problems[0].message.contains("MODEL"));
    assert_eq!(report.problems[0].suggestions, ["[\"4\", 2] (VAE)"]);
}

#[test]
fn a_cycle_is_reported_with_its_path() {
    let p: Map<String, Value> = json!({
        "5": {"class_type": "ImageInvert", "inputs": {"image": ["6", 0]}},
        "6": {"class_type": "ImageInvert", "inputs": {"image": ["5", 0]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "x"}}
    })
    .as_object()
    .cloned()
    .expect("object");
    for report in [check(&p, None), run(&p)] {
        assert_eq!(
            kinds(&report.problems),
            [(Some("5"), Some("image"), ProblemKind::Cycle)]
        );
        assert!(
            report.problems[0].message.contains("5 → 6 → 5"),
            "{}",
            report.problems[0].message
        );
    }
}

#[test]
fn no_output_node() {
    let p: Map<String, Value> = json!({
        "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}}
    })
    .as_object()
    .cloned()
    .expect("object");
    let report = run(&p);
    assert_eq!(
        kinds(&report.problems),
        [(None, None, ProblemKind::NoOutputNode)]
    );
    assert!(check(&p, None).is_ok());
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut p = txt2img();
    set(&mut p, "3", "steps", json!(0));
    set(&mut p, "3", "sampler_name", json!("nope"));
    set(&mut p, "4", "ckpt_name", json!("missing.safetensors"));
    set(&mut p, "8", "vae", json!(["99", 0]));
    p["9"]["inputs"]
        .as_object_mut()
        .expect("inputs")
        .shift_remove("filename_prefix");
    assert_eq!(run(&p).problems.len(), 5);
}

#[test]
fn nodes_no_output_depends_on_only_warn() {
    let mut p = txt2img();
    p.insert(
        "20".into(),
        json!({"class_type": "EmptyLatentImage", "inputs": {"width": 0, "height": "x", "batch_size": 1}}),
    );
    let report = run(&p);
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.warnings.len(), 2);
    assert!(
        report.warnings[0]
            .message
            .contains("no output depends on this node")
    );
    // An unknown class still refuses the prompt: the server checks every class.
    p.insert("21".into(), json!({"class_type": "Nope", "inputs": {}}));
    assert_eq!(
        kinds(&run(&p).problems),
        [(Some("21"), None, ProblemKind::UnknownClass)]
    );
}

#[test]
fn wildcard_and_comma_types_link_to_anything_that_overlaps() {
    let mut p = txt2img();
    p.insert(
        "30".into(),
        json!({"class_type": "PreviewAny", "inputs": {"source": ["4", 0]}}),
    );
    p.insert(
        "31".into(),
        json!({"class_type": "LazyCore", "inputs": {"a": ["8", 0], "b": ["8", 0]}}),
    );
    assert_eq!(run(&p), CheckReport::default());
    set(&mut p, "31", "b", json!(["5", 0]));
    assert_eq!(
        kinds(&run(&p).problems),
        [(Some("31"), Some("b"), ProblemKind::TypeMismatch)]
    );
}

#[test]
fn custom_nodes_get_warnings_not_refusals_for_their_own_rules() {
    let mut p = txt2img();
    p.insert(
        "40".into(),
        json!({"class_type": "CustomThing", "inputs": {"mode": "c", "level": 9, "thing": ["4", 0]}}),
    );
    let report = run(&p);
    assert_eq!(
        kinds(&report.warnings),
        [
            (Some("40"), Some("mode"), ProblemKind::NotInList),
            (Some("40"), Some("thing"), ProblemKind::TypeMismatch)
        ]
    );
    // Ranges are checked for every node alike.
    assert_eq!(
        kinds(&report.problems),
        [(Some("40"), Some("level"), ProblemKind::OutOfRange)]
    );
    set(&mut p, "40", "level", json!(2));
    assert!(run(&p).is_ok());
    // A value Python cannot convert is refused before any node's own check runs.
    set(&mut p, "40", "level", json!("high"));
    assert_eq!(
        kinds(&run(&p).problems),
        [(Some("40"), Some("level"), ProblemKind::WrongType)]
    );
}

#[test]
fn lazy_hidden_and_force_input_never_refuse() {
    let mut p = txt2img();
    // `a` is lazy and required: left to the node.
    p.insert(
        "31".into(),
        json!({"class_type": "LazyCore", "inputs": {"b": ["8", 0]}}),
    );
    // Hidden inputs are the server's business.
    set(&mut p, "9", "prompt", json!({"x": 1}));
    let report = run(&p);
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(
        kinds(&report.warnings),
        [
            (Some("9"), Some("prompt"), ProblemKind::UnknownInput),
            (Some("31"), Some("a"), ProblemKind::MissingInput)
        ]
    );
}

#[test]
fn v3_multiselect_dict_options_and_strings_for_booleans_warn() {
    let mut p = txt2img();
    p.insert(
        "50".into(),
        json!({"class_type": "V3Pick", "inputs": {"tags": {"__value__": ["x", "z"]}, "mode": "slow", "flag": "false", "images": ["8", 0]}}),
    );
    let report = run(&p);
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(
        kinds(&report.warnings),
        [
            (Some("50"), Some("tags"), ProblemKind::Unverified),
            (Some("50"), Some("mode"), ProblemKind::Unverified),
            (Some("50"), Some("flag"), ProblemKind::WrongType)
        ]
    );
    set(&mut p, "50", "tags", json!({"__value__": ["x", "y"]}));
    set(&mut p, "50", "mode", json!("fast"));
    set(&mut p, "50", "flag", json!(true));
    assert_eq!(run(&p), CheckReport::default());
}

#[test]
fn input_files_the_node_resolves_itself_warn() {
    let mut p = txt2img();
    p.insert(
        "60".into(),
        json!({"class_type": "LoadImage", "inputs": {"image": "pasted/image.png [input]"}}),
    );
    p.insert("61".into(), json!({"class_type": "LoadImageOutput", "inputs": {"image": "ComfyUI_00001_.png [output]"}}));
    p.insert(
        "62".into(),
        json!({"class_type": "PreviewImage", "inputs": {"images": ["60", 0]}}),
    );
    p.insert(
        "63".into(),
        json!({"class_type": "PreviewImage", "inputs": {"images": ["61", 0]}}),
    );
    let report = run(&p);
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!(report.warnings.len(), 2);
    // A plain name that is not in the input folder is refused, as LoadImage would.
    set(&mut p, "60", "image", json!("nowhere.png"));
    assert_eq!(
        kinds(&run(&p).problems),
        [(Some("60"), Some("image"), ProblemKind::NotInList)]
    );
}

#[test]
fn structure_only_without_catalogue() {
    let mut p = txt2img();
    p["3"]["class_type"] = json!("NoSuchNode");
    set(&mut p, "3", "steps", json!("abc"));
    assert!(check(&p, None).is_ok());
}

#[test]
fn malformed_nodes() {
    let p: Map<String, Value> = json!({
        "1": 5,
        "2": {"inputs": {}},
        "3": {"class_type": "SaveImage", "inputs": []}
    })
    .as_object()
    .cloned()
    .expect("object");
    let report = check(&p, None);
    assert_eq!(
        kinds(&report.problems),
        [
            (Some("1"), None, ProblemKind::MalformedNode),
            (Some("2"), None, ProblemKind::MalformedNode),
            (Some("3"), None, ProblemKind::MalformedNode)
        ]
    );
    // No `inputs` at all only matters where an output depends on the node.
    let p: Map<String, Value> = json!({"1": {"class_type": "SaveImage"}})
        .as_object()
        .cloned()
        .expect("object");
    let report = check(&p, None);
    assert!(report.is_ok());
    assert_eq!(
        kinds(&report.warnings),
        [(Some("1"), None, ProblemKind::MalformedNode)]
    );
}

#[test]
fn text_from_the_server_is_sanitised_in_json() {
    let mut p = txt2img();
    set(
        &mut p,
        "4",
        "ckpt_name",
        json!("evil\u{1b}]0;pwned\u{7}.safetensors"),
    );
    let json = run(&p).to_json();
    let text = json.to_string();
    assert!(
        !text.contains('\u{1b}') && !text.contains("\\u001b"),
        "{text}"
    );
    assert_eq!(json["ok"], false);
    assert_eq!(json["problems"][0]["kind"], "not_in_list");
    assert_eq!(json["problems"][0]["node"], "4");
    assert_eq!(json["problems"][0]["title"], "Load Checkpoint");
    assert_eq!(json["problems"][0]["class_type"], "CheckpointLoaderSimple");
    assert_eq!(json["problems"][0]["input"], "ckpt_name");
    assert!(json["problems"][0]["suggestions"].is_array());
}

#[test]
fn a_line_names_node_title_class_and_input() {
    let mut p = txt2img();
    set(&mut p, "3", "steps", json!(0));
    let report = run(&p);
    let line = render::line(&report.problems[0]);
    assert_eq!(
        line,
        "node 3 \"Sampler\" (KSampler), input steps: value 0 is below the minimum 1 (did you mean: 1?)"
    );
    assert!(render::problems_inline(&report).starts_with("the prompt has 1 problem: node 3"));
}
