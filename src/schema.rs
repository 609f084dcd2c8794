//! `comfy-tui schema`: the JSON Schema of everything comfy-tui prints as JSON, embedded
//! from `schema/comfy-tui.schema.json` so that the binary always prints the contract it
//! keeps.

/// The schema file, exactly as it is in the repository.
pub const TEXT: &str = include_str!("../schema/comfy-tui.schema.json");

/// Prints the schema; exit 0.
pub fn run() -> i32 {
    use std::io::Write;
    // A closed pipe (`comfy-tui schema | head`) is not an error worth a panic.
    let mut out = std::io::stdout().lock();
    match out.write_all(TEXT.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => crate::exit::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => crate::exit::SUCCESS,
        Err(e) => {
            eprintln!("comfy-tui: cannot print the schema: {e}");
            crate::exit::USAGE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_schema_is_json_and_its_version_is_the_one_every_line_carries() {
        let schema: Value = serde_json::from_str(TEXT).expect("the schema is JSON");
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(
            schema["$defs"]["schema_version"]["const"],
            crate::headless::SCHEMA
        );
    }

    #[test]
    fn every_event_has_its_own_definition_named_after_it() {
        let schema: Value = serde_json::from_str(TEXT).expect("the schema is JSON");
        let defs = &schema["$defs"];
        let names = defs["event"]["properties"]["event"]["enum"]
            .as_array()
            .expect("the event names");
        let branches = defs["event"]["oneOf"].as_array().expect("one branch each");
        assert_eq!(names.len(), branches.len());
        for (name, branch) in names.iter().zip(branches) {
            let name = name.as_str().expect("a name");
            assert_eq!(branch["$ref"], format!("#/$defs/{name}"));
            let def = &defs[name];
            let event = def["properties"]["event"]["const"].clone();
            let event = if event.is_null() {
                // `job_done` takes its fields from the object `done.jobs` repeats.
                defs["job_done_fields"]["properties"]["event"]["const"].clone()
            } else {
                event
            };
            assert_eq!(event, name, "{name} is keyed on its own event");
        }
    }
}
