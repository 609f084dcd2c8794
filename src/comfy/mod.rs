//! The ComfyUI protocol: identifiers, messages, binary frames, routes and the socket.
//! Section numbers in the docs refer to the protocol reference (`ARCHITECTURE.md`).

pub mod diagnose;
pub mod endpoints;
pub mod error;
pub mod frame_guard;
pub mod http;
pub mod ids;
pub mod lenient;
pub mod listing;
pub mod messages;
pub mod node_info;
pub mod object_info;
pub mod outputs;
pub mod preview;
pub mod system;
pub mod workflow;
pub mod ws;

pub use endpoints::ServerUrl;
pub use http::ComfyClient;
pub use ids::{ClientId, NodeId, PromptId};
pub use messages::ServerMessage;
pub use outputs::{FileRef, NodeOutput};
pub use preview::{BinaryFrame, Preview};
pub use workflow::Workflow;
