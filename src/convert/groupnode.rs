//! Old group nodes (`workflow>Name` types with `extra.groupNodes`), expanded like subgraphs
//! with ids from the node's index in the group definition (rule A1).

use super::ConvertError;
use super::graph::Workflow;
use serde_json::Value;

pub fn expand(_workflow: &mut Workflow, _ui: &Value) -> Result<(), ConvertError> {
    Ok(())
}
