//! The README is true: its key list is the keymap, and its examples run.

mod common;

/// The text between `<!-- NAME -->` and `<!-- /NAME -->`.
fn between<'a>(readme: &'a str, name: &str) -> &'a str {
    let open = format!("<!-- {name} -->");
    let close = format!("<!-- /{name} -->");
    let start = readme
        .find(&open)
        .unwrap_or_else(|| panic!("a {open} marker in the README"));
    let end = readme
        .find(&close)
        .unwrap_or_else(|| panic!("a {close} marker in the README"));
    readme[start + open.len()..end].trim()
}

#[test]
fn readme_lists_exactly_the_cockpit_keymap() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let expected = comfy_tui::watch::keymap::markdown_key_table();
    assert_eq!(
        between(&readme, "watch-keys"),
        expected.trim(),
        "README cockpit keys differ from the keymap; paste this between the markers:\n{expected}"
    );
}

#[test]
fn readme_lists_exactly_the_keymap() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- keys -->")
        .expect("a <!-- keys --> marker in the README");
    let end = readme
        .find("<!-- /keys -->")
        .expect("a <!-- /keys --> marker in the README");
    let listed = readme[start + "<!-- keys -->".len()..end].trim();
    let expected = comfy_tui::ui::help::markdown_key_table();
    assert_eq!(
        listed,
        expected.trim(),
        "README keys differ from the keymap; paste this between the markers:\n{expected}"
    );
}

/// Every `comfy-tui run` example in the README's usage block runs as written (with
/// `COMFYUI_URL` pointing at a simulator on a loopback port) and succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_run_examples_run_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let usage = &readme[readme.find("## Usage").expect("a Usage section")..];
    let block = &usage[usage.find("```sh").expect("a sh block") + 5..];
    let block = &block[..block.find("```").expect("end of block")];
    let examples: Vec<&str> = block
        .lines()
        .map(|l| l.split("  #").next().unwrap_or_default().trim())
        .filter(|l| l.starts_with("comfy-tui run "))
        .collect();
    assert!(examples.len() >= 3, "{examples:?}");
    let sim = common::sim::start_sim(std::time::Duration::from_millis(1)).await;
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_comfy-tui"))
        .parent()
        .expect("bin dir")
        .to_owned();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for example in examples {
        let dir = tempfile::tempdir().expect("dir");
        std::os::unix::fs::symlink(
            concat!(env!("CARGO_MANIFEST_DIR"), "/assets"),
            dir.path().join("assets"),
        )
        .expect("link assets");
        let output = common::sim::within(
            tokio::process::Command::new("sh")
                .args(["-c", example])
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("COMFYUI_URL", sim.url())
                .env(
                    comfy_tui::state::STATE_DIR_ENV,
                    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("state"),
                )
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{example}\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    sim.shutdown().await;
}
