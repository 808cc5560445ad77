//! How inbox bodies are stored: LZ4-compressed when that pays.
//!
//! A webhook body is JSON; the writer's cost is the bytes it puts through the WAL and the
//! checkpoint, so a 6.5 KB Shopify order stored as 2.8 KB of LZ4 is written about twice as
//! fast and takes half the file (PostgreSQL compresses such values itself, in TOAST). The
//! `inbox.body_codec` column says how each row's body is stored, so rows written before
//! compression existed (`identity`) are read as they are.

use std::borrow::Cow;

use aftercare::Error;

/// Bodies shorter than this are stored as they are: they fit a page either way.
const MIN_COMPRESSED_LEN: usize = 512;

/// The largest body a stored LZ4 block may claim to expand to. Webhook bodies are limited
/// far below this (1 MiB by default); a larger claim means the row is damaged.
const MAX_DECODED_LEN: usize = 64 * 1024 * 1024;

/// A stored body's encoding, as written in `inbox.body_codec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    /// The body's own bytes.
    Identity,
    /// An LZ4 block with the decoded length before it (4 bytes, little-endian).
    Lz4,
}

impl Codec {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Codec::Identity => "identity",
            Codec::Lz4 => "lz4",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "identity" => Some(Codec::Identity),
            "lz4" => Some(Codec::Lz4),
            _ => None,
        }
    }
}

/// The bytes to store for `body`, and how they are encoded. Compression is kept only when it
/// saves at least an eighth.
pub(crate) fn encode(body: Vec<u8>) -> (Vec<u8>, Codec) {
    if body.len() < MIN_COMPRESSED_LEN {
        return (body, Codec::Identity);
    }
    let packed = lz4_flex::block::compress_prepend_size(&body);
    if packed.len() <= body.len() - body.len() / 8 {
        (packed, Codec::Lz4)
    } else {
        (body, Codec::Identity)
    }
}

/// The body a row stored, from its bytes and its `body_codec`.
pub(crate) fn decode(stored: Vec<u8>, codec: &str) -> Result<Vec<u8>, Error> {
    match decode_ref(&stored, codec)? {
        Cow::Borrowed(_) => Ok(stored),
        Cow::Owned(body) => Ok(body),
    }
}

/// Reads a stored body without copying an uncompressed one.
pub(crate) fn decode_ref<'a>(stored: &'a [u8], codec: &str) -> Result<Cow<'a, [u8]>, Error> {
    match Codec::parse(codec) {
        Some(Codec::Identity) => Ok(Cow::Borrowed(stored)),
        Some(Codec::Lz4) => decode_lz4(stored),
        None => Err(Error::decode(
            "stored inbox body",
            format!(
                "unknown body codec `{codec}`: written by a newer Aftercare? Upgrade to read it"
            ),
        )),
    }
}

fn decode_lz4(stored: &[u8]) -> Result<Cow<'static, [u8]>, Error> {
    let damaged = |why: String| Error::decode("stored inbox body (lz4)", why);
    let (len, _) =
        lz4_flex::block::uncompressed_size(stored).map_err(|e| damaged(e.to_string()))?;
    if len > MAX_DECODED_LEN {
        return Err(damaged(format!(
            "claims to expand to {len} bytes, more than the {MAX_DECODED_LEN} any body may have: the row is damaged"
        )));
    }
    lz4_flex::block::decompress_size_prepended(stored)
        .map(Cow::Owned)
        .map_err(|e| damaged(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn small_and_incompressible_bodies_are_stored_as_they_are() {
        let small = br#"{"id":1}"#.to_vec();
        assert_eq!(encode(small.clone()), (small, Codec::Identity));
        // Bytes with no repetition do not shrink by an eighth.
        let mut x: u32 = 0x9e37_79b9;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x.to_le_bytes()[0]
            })
            .collect();
        assert_eq!(encode(noise.clone()), (noise, Codec::Identity));
    }

    #[test]
    fn json_is_compressed_and_round_trips() {
        let body = include_bytes!("../../../sdk/benches/fixtures/shopify_order_fulfilled.json");
        let (stored, codec) = encode(body.to_vec());
        assert_eq!(codec, Codec::Lz4);
        assert!(
            stored.len() < body.len() / 2,
            "{} of {}",
            stored.len(),
            body.len()
        );
        assert_eq!(decode(stored.clone(), "lz4").unwrap(), body.to_vec());
        assert_eq!(&*decode_ref(&stored, "lz4").unwrap(), &body[..]);
    }

    #[test]
    fn damaged_rows_are_errors_not_panics() {
        let body = include_bytes!("../../../sdk/benches/fixtures/shopify_order_fulfilled.json");
        let (stored, _) = encode(body.to_vec());
        // Cut short, a huge claimed length, garbage, nothing at all, an unknown codec.
        assert!(decode(stored[..stored.len() / 2].to_vec(), "lz4").is_err());
        let mut huge = stored.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = decode(huge, "lz4").unwrap_err().to_string();
        assert!(e.contains("damaged"), "{e}");
        assert!(decode(vec![7, 0, 0, 0, 0xff, 0xff], "lz4").is_err());
        assert!(decode(Vec::new(), "lz4").is_err());
        let e = decode(stored, "zstd").unwrap_err().to_string();
        assert!(e.contains("unknown body codec `zstd`"), "{e}");
    }
}
