//! Newtypes for the identifiers ComfyUI passes around, so they cannot be mixed up.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }
    };
}

string_id!(
    /// The id of one queued prompt (a run). We choose it ourselves as a lowercase uuid4,
    /// but the server's answer to `POST /prompt` is the truth.
    PromptId
);
string_id!(
    /// A node id as it appears in the submitted graph (opaque: `"12"`, `"5:3"`, `"12.0.0.3"`).
    NodeId
);
string_id!(
    /// The id our WebSocket registers under; prompts submitted with it are reported to us.
    ClientId
);

impl PromptId {
    /// A fresh lowercase hyphenated uuid4, the only form new servers accept.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The first 8 characters, enough to recognise a run on screen.
    pub fn short(&self) -> &str {
        let end = self
            .0
            .char_indices()
            .nth(8)
            .map_or(self.0.len(), |(i, _)| i);
        &self.0[..end]
    }
}

impl ClientId {
    /// A fresh client id in the form the server itself would make (32 hex characters).
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}
