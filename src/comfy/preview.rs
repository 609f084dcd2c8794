//! Binary WebSocket frames (protocol reference §3.5): previews (type 1 and 4) and node
//! text (type 3). Every integer is a big-endian u32; unknown types are reported, not errors.

use super::ids::{NodeId, PromptId};
use bytes::Bytes;
use serde::Deserialize;

pub const PREVIEW_IMAGE: u32 = 1;
pub const TEXT: u32 = 3;
pub const PREVIEW_IMAGE_WITH_METADATA: u32 = 4;

#[derive(Debug, Clone, PartialEq)]
pub enum BinaryFrame {
    Preview(Preview),
    /// Text a node streams to the UI. Broadcast by the server, no prompt id.
    Text {
        node_id: NodeId,
        text: String,
    },
    /// An event type this client does not know (custom nodes may send their own).
    Unknown {
        event_type: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
    Other,
}

impl ImageFormat {
    /// Judged by the image's magic bytes: custom nodes label other formats as JPEG.
    pub fn sniff(image: &[u8]) -> Self {
        if image.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Self::Jpeg
        } else if image.starts_with(b"\x89PNG\r\n\x1a\n") {
            Self::Png
        } else {
            Self::Other
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::Other => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub format: ImageFormat,
    /// Present only in type-4 frames; type-1 frames belong to the latest `progress`.
    pub meta: Option<PreviewMeta>,
    pub image: Bytes,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PreviewMeta {
    #[serde(default)]
    pub node_id: Option<NodeId>,
    #[serde(default)]
    pub prompt_id: Option<PromptId>,
    #[serde(default)]
    pub display_node_id: Option<NodeId>,
    #[serde(default)]
    pub real_node_id: Option<NodeId>,
    #[serde(default)]
    pub image_type: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FrameError {
    #[error("binary frame too short: {len} bytes, expected at least {needed}")]
    Truncated { len: usize, needed: usize },
    #[error("preview metadata is not valid JSON: {0}")]
    Metadata(String),
    #[error("text frame node id is not UTF-8")]
    NodeId,
}

fn read_u32(frame: &[u8], at: usize) -> Result<u32, FrameError> {
    let bytes = frame.get(at..at + 4).ok_or(FrameError::Truncated {
        len: frame.len(),
        needed: at + 4,
    })?;
    Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

impl BinaryFrame {
    pub fn parse(frame: Bytes) -> Result<Self, FrameError> {
        let event_type = read_u32(&frame, 0)?;
        match event_type {
            PREVIEW_IMAGE => {
                read_u32(&frame, 4)?;
                let image = frame.slice(8..);
                Ok(Self::Preview(Preview {
                    format: ImageFormat::sniff(&image),
                    meta: None,
                    image,
                }))
            }
            TEXT => {
                let len = read_u32(&frame, 4)? as usize;
                let end = 8usize.saturating_add(len);
                let id = frame.get(8..end).ok_or(FrameError::Truncated {
                    len: frame.len(),
                    needed: end,
                })?;
                let node_id = std::str::from_utf8(id).map_err(|_| FrameError::NodeId)?;
                Ok(Self::Text {
                    node_id: NodeId::from(node_id),
                    text: String::from_utf8_lossy(&frame[end..]).into_owned(),
                })
            }
            PREVIEW_IMAGE_WITH_METADATA => {
                let len = read_u32(&frame, 4)? as usize;
                let end = 8usize.saturating_add(len);
                let meta = frame.get(8..end).ok_or(FrameError::Truncated {
                    len: frame.len(),
                    needed: end,
                })?;
                let meta: PreviewMeta = serde_json::from_slice(meta)
                    .map_err(|e| FrameError::Metadata(e.to_string()))?;
                let image = frame.slice(end..);
                Ok(Self::Preview(Preview {
                    format: ImageFormat::sniff(&image),
                    meta: Some(meta),
                    image,
                }))
            }
            other => Ok(Self::Unknown { event_type: other }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_frames_are_errors_not_panics() {
        for len in 0..8 {
            let frame = Bytes::from(vec![0u8, 0, 0, 4, 0, 0, 0, 200][..len].to_vec());
            assert!(BinaryFrame::parse(frame).is_err(), "len {len}");
        }
        let frame = Bytes::from_static(&[0, 0, 0, 3, 0, 0, 0, 9, b'1']);
        assert!(matches!(
            BinaryFrame::parse(frame),
            Err(FrameError::Truncated { .. })
        ));
    }

    #[test]
    fn unknown_event_types_are_reported() {
        let frame = Bytes::from_static(&[0, 0, 0, 9, 1, 2, 3]);
        assert_eq!(
            BinaryFrame::parse(frame),
            Ok(BinaryFrame::Unknown { event_type: 9 })
        );
    }
}
