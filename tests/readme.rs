//! The README's key list is the keymap's: a change to one without the other fails here.

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
