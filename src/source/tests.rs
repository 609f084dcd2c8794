use super::picture::tests::{png_with, webp_with};
use super::*;
use serde_json::json;

const PROMPT: &str = r#"{"1": {"class_type": "SaveImage", "inputs": {}}}"#;
const GRAPH: &str = r#"{"nodes": [{"id": 1, "type": "SaveImage"}], "links": []}"#;

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn the_argument_names_the_kind_of_source() {
    assert_eq!(Spec::parse(Path::new("-")), Spec::Stdin);
    assert_eq!(
        Spec::parse(Path::new("@portraits/flux-dev")),
        Spec::Saved("portraits/flux-dev".into())
    );
    assert_eq!(
        Spec::parse(Path::new("./@x.json")),
        Spec::File("./@x.json".into())
    );
    assert_eq!(Spec::parse(Path::new("a.png")), Spec::File("a.png".into()));
}

#[test]
fn a_json_file_is_read_and_a_ui_graph_is_kept_as_such() {
    let dir = tempfile::tempdir().expect("dir");
    let api = write(&dir, "api.json", format!("\u{feff}{PROMPT}").as_bytes());
    let loaded = read_file(&api, Part::Prompt).expect("api");
    assert_eq!(loaded.value["1"]["class_type"], "SaveImage");
    assert_eq!(loaded.origin, api.display().to_string());
    assert_eq!(loaded.ui_workflow, None);
    assert_eq!(api_workflow(&loaded).expect("checked").len(), 1);

    let ui = write(&dir, "ui.json", GRAPH.as_bytes());
    let loaded = read_file(&ui, Part::Prompt).expect("ui");
    assert_eq!(loaded.ui_workflow.as_ref(), Some(&loaded.value));
    let err = api_workflow(&loaded).expect_err("not converted yet");
    assert!(matches!(err, WorkflowError::UiFormat { .. }), "{err}");
}

#[test]
fn bad_files_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().expect("dir");
    let cases: [(&str, &[u8], &str); 3] = [
        ("broken.json", b"{\"1\": ", "not valid JSON"),
        ("latin1.json", b"{\"a\": \"\xe9\"}", "not UTF-8"),
        ("photo.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF", "JPEG picture"),
    ];
    for (name, bytes, problem) in cases {
        let path = write(&dir, name, bytes);
        let err = read_file(&path, Part::Prompt).expect_err(name).to_string();
        assert!(err.contains(name) && err.contains(problem), "{name}: {err}");
    }
    let err = read_file(&dir.path().join("missing.json"), Part::Prompt).expect_err("missing");
    assert!(err.to_string().contains("cannot read workflow"), "{err}");
    let err = read_file(dir.path(), Part::Prompt).expect_err("folder");
    assert!(err.to_string().contains("folder"), "{err}");
}

#[test]
fn an_oversize_file_is_refused_from_its_size_before_reading() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).expect("create");
    // Sparse: nothing is written, so reading it whole would show up as a slow test.
    file.set_len(JSON_LIMIT + 1).expect("size");
    let started = std::time::Instant::now();
    let err = read_file(&path, Part::Prompt).expect_err("too large");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let text = err.to_string();
    assert!(matches!(err, SourceError::TooLarge { .. }), "{text}");
    assert!(
        text.contains("huge.json")
            && text.contains("104857601 bytes")
            && text.contains("100.0 MiB"),
        "{text}"
    );

    let picture = dir.path().join("huge.png");
    let mut file = std::fs::File::create(&picture).expect("create");
    std::io::Write::write_all(&mut file, b"\x89PNG\r\n\x1a\n").expect("magic");
    file.set_len(PICTURE_LIMIT + 1).expect("size");
    let err = read_file(&picture, Part::Prompt)
        .expect_err("too large")
        .to_string();
    assert!(
        err.contains("huge.png") && err.contains("512.0 MiB"),
        "{err}"
    );
}

#[test]
fn oversize_stdin_is_cut_at_the_limit() {
    let endless = std::io::repeat(b' ');
    let err = read_stream(endless, "stdin", Part::Prompt).expect_err("too large");
    let text = err.to_string();
    assert!(
        matches!(&err, SourceError::TooLarge { over, .. } if over.size.is_none()),
        "{text}"
    );
    assert!(
        text.contains("stdin") && text.contains("100.0 MiB"),
        "{text}"
    );
}

#[test]
fn stdin_takes_json_and_pictures() {
    let loaded = read_stream(PROMPT.as_bytes(), "stdin", Part::Prompt).expect("json");
    assert_eq!(loaded.origin, "stdin");
    assert_eq!(loaded.value["1"]["class_type"], "SaveImage");
    let png = png_with(&[("t", "prompt", PROMPT)]);
    let loaded = read_stream(&png[..], "stdin", Part::Prompt).expect("png");
    assert_eq!(loaded.origin, "stdin (prompt)");
    assert_eq!(loaded.value["1"]["class_type"], "SaveImage");
}

#[test]
fn a_picture_reruns_its_prompt_or_gives_its_workflow() {
    let dir = tempfile::tempdir().expect("dir");
    let path = write(
        &dir,
        "out.png",
        &png_with(&[
            ("t", "prompt", PROMPT),
            ("t", "workflow", GRAPH),
            ("t", "extra", "{}"),
        ]),
    );
    let loaded = read_file(&path, Part::Prompt).expect("prompt");
    assert_eq!(
        loaded.value,
        serde_json::from_str::<Value>(PROMPT).expect("json")
    );
    assert_eq!(loaded.origin, format!("{} (prompt)", path.display()));
    assert_eq!(
        loaded.ui_workflow,
        Some(serde_json::from_str(GRAPH).expect("json"))
    );

    let loaded = read_file(&path, Part::Workflow).expect("workflow");
    assert_eq!(loaded.value["nodes"][0]["type"], "SaveImage");
    assert!(loaded.origin.ends_with("(workflow)"));
    assert!(matches!(
        api_workflow(&loaded),
        Err(WorkflowError::UiFormat { .. })
    ));
}

#[test]
fn a_webp_file_gives_its_exif_prompt() {
    let dir = tempfile::tempdir().expect("dir");
    let path = write(
        &dir,
        "anim.webp",
        &webp_with(
            &[
                (0x0110, &format!("prompt:{PROMPT}")),
                (0x010F, &format!("workflow:{GRAPH}")),
            ],
            false,
        ),
    );
    let loaded = read_file(&path, Part::Prompt).expect("webp");
    assert_eq!(loaded.value["1"]["class_type"], "SaveImage");
    assert!(loaded.ui_workflow.is_some());
    let loaded = read_file(&path, Part::Workflow).expect("webp workflow");
    assert_eq!(loaded.value["links"], json!([]));
}

#[test]
fn a_picture_without_a_workflow_says_so() {
    let dir = tempfile::tempdir().expect("dir");
    let bare = write(&dir, "bare.png", &png_with(&[]));
    let err = read_file(&bare, Part::Prompt)
        .expect_err("nothing")
        .to_string();
    assert!(
        err.contains("bare.png")
            && err.contains("carries no workflow")
            && err.contains("no text chunks"),
        "{err}"
    );
    let other = write(
        &dir,
        "a1111.png",
        &png_with(&[("t", "parameters", "a cat")]),
    );
    let err = read_file(&other, Part::Prompt)
        .expect_err("nothing")
        .to_string();
    assert!(err.contains("`parameters`"), "{err}");
    let webp = write(
        &dir,
        "plain.webp",
        &webp_with(&[(0x010E, "a description")], false),
    );
    let err = read_file(&webp, Part::Prompt)
        .expect_err("nothing")
        .to_string();
    assert!(err.contains("plain.webp") && err.contains("EXIF"), "{err}");
    let prompt_only = write(&dir, "p.png", &png_with(&[("t", "prompt", PROMPT)]));
    let err = read_file(&prompt_only, Part::Workflow).expect_err("no graph");
    assert!(matches!(err, SourceError::NoEditableGraph { .. }), "{err}");
    let broken = write(&dir, "b.png", &png_with(&[("t", "prompt", "{not json")]));
    let err = read_file(&broken, Part::Prompt)
        .expect_err("bad json")
        .to_string();
    assert!(
        err.contains("b.png") && err.contains("`prompt` text chunk is not valid JSON"),
        "{err}"
    );
}

#[test]
fn a_picture_with_only_the_editable_graph_gives_that() {
    let png = png_with(&[("z", "workflow", GRAPH)]);
    let loaded = read_stream(&png[..], "x.png", Part::Prompt).expect("graph");
    assert_eq!(loaded.origin, "x.png (workflow)");
    assert!(crate::convert::is_ui_format(&loaded.value));
}

#[test]
fn unknown_saved_names_suggest_or_point_to_the_list() {
    let err = SourceError::UnknownSaved {
        name: "flux".into(),
        suggestions: vec!["portraits/flux-dev".into()],
        listed: 3,
    };
    assert_eq!(
        err.to_string(),
        "the server has no saved workflow `@flux`; did you mean @portraits/flux-dev?"
    );
    let err = SourceError::UnknownSaved {
        name: "x".into(),
        suggestions: vec![],
        listed: 0,
    };
    assert!(err.to_string().contains("no saved workflows"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

proptest::proptest! {
    #[test]
    fn damaged_pictures_are_errors_never_panics(
        tail in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
        webp in proptest::bool::ANY,
    ) {
        let mut bytes = if webp {
            b"RIFF\x20\0\0\0WEBPVP8X".to_vec()
        } else {
            b"\x89PNG\r\n\x1a\n".to_vec()
        };
        bytes.extend(tail);
        let _ = read_stream(&bytes[..], "fuzz", Part::Prompt);
    }
}
