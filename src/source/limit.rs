//! Size limits for what a workflow is read from, checked before anything is read whole.

use std::io::Read;

/// JSON workflows: ComfyUI refuses request bodies over 100 MiB by default
/// (`--max-upload-size`), so a larger prompt could never be submitted anyway.
pub const JSON_LIMIT: u64 = 100 * 1024 * 1024;

/// Pictures: only their text chunks are read (files are streamed, not loaded), so this
/// only stops absurd inputs; a 16-bit 8K PNG is about 400 MiB.
pub const PICTURE_LIMIT: u64 = 512 * 1024 * 1024;

/// An input over its limit. `size` is `None` when it was only known to be larger (a
/// stream cut off at the limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oversize {
    pub size: Option<u64>,
    pub limit: u64,
}

impl std::fmt::Display for Oversize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let limit = crate::ui::format::bytes(self.limit);
        match self.size {
            Some(size) => write!(
                f,
                "is {} ({size} bytes), over the limit of {limit}",
                crate::ui::format::bytes(size)
            ),
            None => write!(f, "is larger than the limit of {limit}"),
        }
    }
}

/// `Err` when a known size is over `limit`.
pub fn check(size: u64, limit: u64) -> Result<(), Oversize> {
    if size > limit {
        Err(Oversize {
            size: Some(size),
            limit,
        })
    } else {
        Ok(())
    }
}

/// Reads `reader` to the end, appending to `buffer`, but never more than `limit` bytes
/// in all: one byte past it is an error, so memory stays bounded whatever is sent.
pub fn read_capped(
    reader: impl Read,
    buffer: &mut Vec<u8>,
    limit: u64,
) -> Result<Result<(), Oversize>, std::io::Error> {
    let room = limit.saturating_sub(buffer.len() as u64);
    reader.take(room.saturating_add(1)).read_to_end(buffer)?;
    Ok(if buffer.len() as u64 > limit {
        Err(Oversize { size: None, limit })
    } else {
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_reads_stop_one_byte_past_the_limit() {
        let mut buffer = b"ab".to_vec();
        let mut endless = std::io::repeat(b'x');
        let result = read_capped(&mut endless, &mut buffer, 10).expect("io");
        assert_eq!(
            result,
            Err(Oversize {
                size: None,
                limit: 10
            })
        );
        assert_eq!(buffer.len(), 11);
        let mut buffer = Vec::new();
        let result = read_capped(&b"0123456789"[..], &mut buffer, 10).expect("io");
        assert_eq!(result, Ok(()));
        assert_eq!(buffer, b"0123456789");
    }

    #[test]
    fn messages_give_the_size_and_the_limit() {
        let over = check(150 * 1024 * 1024, JSON_LIMIT).expect_err("over");
        assert_eq!(
            over.to_string(),
            "is 150.0 MiB (157286400 bytes), over the limit of 100.0 MiB"
        );
        assert!(check(JSON_LIMIT, JSON_LIMIT).is_ok());
        let cut = Oversize {
            size: None,
            limit: 1024,
        };
        assert_eq!(cut.to_string(), "is larger than the limit of 1.0 KiB");
    }
}
