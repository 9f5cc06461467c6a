//! Whole chunks decoded straight into the caller's buffer.
//!
//! For a chunk whose codecs are `bytes` (storing elements in memory order) then one compressor
//! (`zstd` or `blosc`), optionally wrapped in `crc32c` checksums, the stored value is
//! decompressed straight into the caller's buffer. zarrs decodes such a chunk into a buffer of
//! its own and the `bytes` codec then copies that into the caller's: a 4 MiB chunk cost a
//! 4 MiB allocation and copy on top of the decompression (5 % of a chunk-by-chunk zstd read,
//! more of a blosc one). Any other codec chain goes through zarrs' codec registry as before.
//!
//! The decode is bounded as the codecs' own are: a value that claims or decodes to any size
//! other than the chunk's bytes is `CorruptData`, and checksums are validated when the read's
//! options say so.

use std::sync::Arc;

use zarrs::array::codec::api::{BytesToBytesCodecTraits, CodecError, CodecOptions};
use zarrs::array::codec::{BloscCodec, BytesCodec, Crc32cCodec};

use crate::zstd_codec::{Zstd, decode_exact_into};

/// A chunk codec chain that decodes straight into the caller's buffer.
#[derive(Clone, Debug)]
pub(super) struct DirectChunks {
    compressor: Compressor,
    /// The `crc32c` codecs after the compressor, outermost first (the order they are
    /// decoded in): whether each keeps its checksum at the start of the value (else the end).
    checksums: Vec<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compressor {
    Zstd,
    Blosc,
}

impl DirectChunks {
    /// The direct decode of a chain of `codecs` (the array's own codec objects), whose `bytes`
    /// codec is described by `bytes_in_memory_order` (it stores elements as they are in
    /// memory); `None` when the chain is any other.
    pub fn of(
        array_to_array: usize,
        array_to_bytes: &dyn std::any::Any,
        bytes_to_bytes: &[Arc<dyn BytesToBytesCodecTraits>],
        bytes_in_memory_order: bool,
    ) -> Option<Self> {
        if array_to_array != 0 || !bytes_in_memory_order || !array_to_bytes.is::<BytesCodec>() {
            return None;
        }
        let (first, rest) = bytes_to_bytes.split_first()?;
        let first = first.as_any();
        let compressor = if first.is::<Zstd>() {
            Compressor::Zstd
        } else if first.is::<BloscCodec>() {
            Compressor::Blosc
        } else {
            return None;
        };
        let mut checksums = Vec::with_capacity(rest.len());
        for codec in rest.iter().rev() {
            checksums.push(crc32c_at_start(codec.as_ref())?);
        }
        Some(Self {
            compressor,
            checksums,
        })
    }

    /// Decode the stored value `encoded` of a chunk into `out`, which must be exactly the
    /// chunk's bytes. `out` may be partly written when this fails.
    pub fn decode_into(
        &self,
        encoded: &[u8],
        out: &mut [u8],
        options: &CodecOptions,
    ) -> Result<(), CodecError> {
        let mut value = encoded;
        for &at_start in &self.checksums {
            value = strip_crc32c(value, at_start, options.validate_checksums())?;
        }
        match self.compressor {
            Compressor::Zstd => decode_exact_into(value, out),
            Compressor::Blosc => blosc_decode_exact_into(value, out),
        }
    }
}

/// For a `crc32c` codec, whether it keeps the checksum at the start of the value; `None` for
/// any other codec, or a configuration this does not know.
fn crc32c_at_start(codec: &dyn BytesToBytesCodecTraits) -> Option<bool> {
    if !codec.as_any().is::<Crc32cCodec>() {
        return None;
    }
    let configuration = codec.configuration(
        zarrs::plugin::ZarrVersion::V3,
        &zarrs::array::codec::api::CodecMetadataOptions::default(),
    );
    let configuration = match configuration {
        Some(c) => serde_json::to_value(c).ok()?,
        None => return Some(false),
    };
    let mut keys = configuration.as_object()?.iter();
    match keys.next() {
        None => Some(false),
        Some((key, value)) if key == "location" && keys.next().is_none() => match value.as_str() {
            Some("end") => Some(false),
            Some("start") => Some(true),
            _ => None,
        },
        Some(_) => None,
    }
}

const CRC32C_SIZE: usize = 4;

/// `value` without its crc32c checksum, which is checked first when `validate` is set.
fn strip_crc32c(value: &[u8], at_start: bool, validate: bool) -> Result<&[u8], CodecError> {
    if value.len() < CRC32C_SIZE {
        return Err(CodecError::Other(
            "crc32c decoder expects a 32 bit input".to_owned(),
        ));
    }
    let (data, stored) = if at_start {
        let (stored, data) = value.split_at(CRC32C_SIZE);
        (data, stored)
    } else {
        value.split_at(value.len() - CRC32C_SIZE)
    };
    if validate && crc32c::crc32c(data).to_le_bytes() != stored {
        return Err(CodecError::InvalidChecksum);
    }
    Ok(data)
}

/// Decode a blosc buffer straight into `out`, which it must fill exactly. The header is
/// validated against the buffer's length first (as zarrs' codec does), so blosc never reads
/// past `encoded` nor writes past `out`.
fn blosc_decode_exact_into(encoded: &[u8], out: &mut [u8]) -> Result<(), CodecError> {
    use std::ffi::c_void;
    let mut claimed: usize = 0;
    // SAFETY: `encoded` is valid for `encoded.len()` bytes, which blosc reads no further than.
    let valid = unsafe {
        blosc_src::blosc_cbuffer_validate(
            encoded.as_ptr().cast::<c_void>(),
            encoded.len(),
            &raw mut claimed,
        )
    } == 0;
    if !valid {
        return Err(CodecError::Other(
            "blosc encoded value is invalid".to_owned(),
        ));
    }
    if claimed != out.len() {
        // Worded as the bounded codecs word it (`codecs`, `zstd_codec`).
        let relation = if claimed > out.len() {
            "more than the"
        } else {
            "not the"
        };
        return Err(CodecError::Other(format!(
            "a blosc buffer decodes to {claimed} bytes, {relation} {} bytes the chunk holds",
            out.len()
        )));
    }
    // SAFETY: the header was validated against `encoded`'s length; blosc writes at most
    // `out.len()` bytes into `out`.
    let written = unsafe {
        blosc_src::blosc_decompress_ctx(
            encoded.as_ptr().cast::<c_void>(),
            out.as_mut_ptr().cast::<c_void>(),
            out.len(),
            1,
        )
    };
    if usize::try_from(written).ok() != Some(out.len()) {
        return Err(CodecError::Other(format!(
            "a blosc buffer did not decode to the {} bytes of the chunk",
            out.len()
        )));
    }
    Ok(())
}
