//! zarrlib's own `zstd` codec, registered with zarrs' codec registry in place of zarrs' (same
//! names, same configuration, byte-identical encoded output), for three things zarrs' codec
//! does not do:
//!
//! - one compression and one decompression context per thread, reused across chunks and the
//!   inner chunks of shards (zarrs makes a compression context per chunk, and a sharded read
//!   of 4,096 inner chunks made as many decompression contexts);
//! - bounded decoding: a frame that claims, or decodes to, more than the chunk's decoded size
//!   is `CorruptData`, and no buffer is larger than the chunk;
//! - prefix decoding: a partial read whose byte ranges all end before the end of the chunk
//!   decodes the frame only as far as the last byte it needs (a small region near the start of
//!   a large chunk costs a fraction of the frame).
//!
//! zarrs asks a bytes-to-bytes codec's partial decoder for the byte ranges of the region (the
//! `bytes` codec's partial decoder gives the contiguous runs of the region in C order), so
//! advertising `partial_decode` is what makes the prefix reach this codec.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::{Arc, Once};

use zarrs::array::ArrayBytesRaw;
use zarrs::array::codec::ZstdCodec;
use zarrs::array::codec::api::{
    BytesPartialDecoderTraits, BytesRepresentation, BytesToBytesCodecTraits, Codec, CodecError,
    CodecMetadataOptions, CodecOptions, CodecRuntimePluginV2, CodecRuntimePluginV3, CodecTraits,
    PartialDecoderCapability, PartialEncoderCapability, RecommendedConcurrency, register_codec_v2,
    register_codec_v3,
};
use zarrs::metadata::Configuration;
use zarrs::metadata::v2::MetadataV2;
use zarrs::metadata::v3::MetadataV3;
use zarrs::metadata_ext::codec::zstd::{ZstdCodecConfiguration, ZstdCodecConfigurationV1};
use zarrs::plugin::{
    ExtensionAliasesV2, ExtensionAliasesV3, ExtensionName, PluginCreateError, ZarrVersion,
};
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator, extract_byte_ranges};
use zstd::zstd_safe::{self, DCtx, DParameter, InBuffer, OutBuffer, ResetDirective};

use crate::codec_wrapping::partial_decoder_traits_of_input;

/// The `zstd` codec: a compression level and whether frames carry a content checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Zstd {
    level: i32,
    checksum: bool,
}

/// Register the codec under zarrs' `zstd` names (v3 and v2), once per process, before the
/// first array is built. zarrs looks runtime-registered codecs up before its built-in ones.
pub(crate) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The handles would unregister them: these stay for the life of the process.
        let _ = register_codec_v3(CodecRuntimePluginV3::new(
            <ZstdCodec as ExtensionAliasesV3>::matches_name_v3,
            create_v3,
        ));
        let _ = register_codec_v2(CodecRuntimePluginV2::new(
            <ZstdCodec as ExtensionAliasesV2>::matches_name_v2,
            create_v2,
        ));
    });
}

/// The codec from Zarr v3 metadata (`{"level": .., "checksum": ..}`, both required, as zarrs).
pub(crate) fn create_v3(metadata: &MetadataV3) -> Result<Codec, PluginCreateError> {
    let configuration: ZstdCodecConfigurationV1 = metadata.to_typed_configuration()?;
    Ok(Zstd::new(configuration.level.into(), configuration.checksum).into_codec())
}

/// The codec from a Zarr v2 compressor: numcodecs' `{"id": "zstd", "level": ..}`, with or
/// without the `checksum` newer numcodecs writes (absent: no checksum), as zarrs reads it.
pub(crate) fn create_v2(metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
    let configuration: ZstdCodecConfiguration = metadata.to_typed_configuration()?;
    let (level, checksum) = match configuration {
        ZstdCodecConfiguration::V1(c) => (c.level.into(), c.checksum),
        ZstdCodecConfiguration::Numcodecs(c) => (c.level.into(), false),
        _ => {
            return Err(PluginCreateError::Other(
                "this zstd codec configuration variant is unsupported".into(),
            ));
        }
    };
    Ok(Zstd::new(level, checksum).into_codec())
}

impl Zstd {
    pub(crate) const fn new(level: i32, checksum: bool) -> Self {
        Self { level, checksum }
    }

    fn into_codec(self) -> Codec {
        Codec::BytesToBytes(Arc::new(self))
    }

    /// Compress `decoded` as zarrs' codec does (`ZSTD_compress2` with the level and checksum
    /// flag set, content size in the header), on this thread's compression context.
    fn compress(&self, decoded: &[u8]) -> Result<Vec<u8>, CodecError> {
        // Taken out of the slot while in use, so a reentrant call (none is expected) would
        // make its own context rather than fail.
        let cached = COMPRESSOR.take();
        let mut compressor = match cached {
            Some((compressor, configured)) if configured == *self => compressor,
            Some((mut compressor, _)) => {
                self.configure(&mut compressor)?;
                compressor
            }
            None => {
                let mut compressor = zstd::bulk::Compressor::default();
                self.configure(&mut compressor)?;
                compressor
            }
        };
        let encoded = compressor.compress(decoded)?;
        COMPRESSOR.set(Some((compressor, *self)));
        Ok(encoded)
    }

    /// Set the parameters zarrs sets on a new context (level, checksum flag); every other
    /// parameter keeps zstd's default, so the output is the same as a new context's.
    fn configure(&self, compressor: &mut zstd::bulk::Compressor<'static>) -> std::io::Result<()> {
        compressor.set_compression_level(self.level)?;
        compressor.include_checksum(self.checksum)
    }
}

thread_local! {
    /// This thread's compression context and the configuration it was last set to.
    static COMPRESSOR: RefCell<Option<(zstd::bulk::Compressor<'static>, Zstd)>> =
        const { RefCell::new(None) };
    /// This thread's decompression context.
    static DECOMPRESSOR: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// Run `decode` on this thread's decompression context. A context that failed is dropped
/// rather than reused (zstd refuses a failed context until it is reset; a new one is simpler).
fn with_decompressor<T>(
    decode: impl FnOnce(&mut DCtx<'static>) -> Result<T, CodecError>,
) -> Result<T, CodecError> {
    let mut dctx = match DECOMPRESSOR.take() {
        Some(dctx) => dctx,
        None => DCtx::try_create().ok_or_else(|| {
            CodecError::Other("zstd could not allocate a decompression context".into())
        })?,
    };
    let result = decode(&mut dctx);
    if result.is_ok() {
        DECOMPRESSOR.set(Some(dctx));
    }
    result
}

fn too_large(size: impl std::fmt::Display, limit: u64) -> CodecError {
    CodecError::Other(format!(
        "a zstd frame decodes to {size} bytes, more than the {limit} bytes the chunk holds"
    ))
}

fn zstd_error(what: &str, code: zstd_safe::ErrorCode) -> CodecError {
    CodecError::Other(format!("{what}: {}", zstd_safe::get_error_name(code)))
}

/// Decode all of `encoded`, which may hold no more than `limit` bytes.
fn decode_all(encoded: &[u8], limit: u64) -> Result<Vec<u8>, CodecError> {
    // The output never exceeds the chunk; zstd's own bound (from the frame headers) is
    // smaller for a frame that holds less than the chunk, as a partial edge chunk may.
    let capacity = zstd_safe::decompress_bound(encoded).map_or(limit, |bound| bound.min(limit));
    let capacity = usize::try_from(capacity).map_err(|_| too_large(capacity, limit))?;
    let mut decoded = Vec::with_capacity(capacity);
    decode_within(encoded, &mut decoded, limit)?;
    Ok(decoded)
}

/// Decode all of `encoded` straight into `out`, which it must fill exactly (a whole chunk read
/// into the caller's buffer, `array::direct`): a frame that claims, or decodes to, any other size
/// is an error. `out` may be partly written when it fails.
pub(crate) fn decode_exact_into(encoded: &[u8], out: &mut [u8]) -> Result<(), CodecError> {
    let size = out.len() as u64;
    let written = decode_within(encoded, out, size)?;
    if written != out.len() {
        return Err(CodecError::Other(format!(
            "a zstd frame decodes to {written} bytes, not the {size} bytes of the chunk"
        )));
    }
    Ok(())
}

/// Decode all of `encoded` into `out` on the thread's context; a frame that claims more than
/// `limit` bytes is refused before decoding, and one that decodes to more than `out` holds
/// (at most `limit`) fails. The bytes written.
fn decode_within<C: zstd_safe::WriteBuf + ?Sized>(
    encoded: &[u8],
    out: &mut C,
    limit: u64,
) -> Result<usize, CodecError> {
    if let Ok(Some(claimed)) = zstd_safe::get_frame_content_size(encoded)
        && claimed > limit
    {
        return Err(too_large(claimed, limit));
    }
    with_decompressor(|dctx| {
        dctx.decompress(out, encoded).map_err(|code| {
            zstd_error(
                &format!("a zstd frame did not decode within the chunk's {limit} bytes"),
                code,
            )
        })
    })
}

/// The smallest `windowLog` whose window holds `limit` bytes (zstd's own range is 10 to 31).
fn window_log_for(limit: u64) -> u32 {
    let bits = u64::BITS - limit.saturating_sub(1).leading_zeros();
    bits.clamp(10, 31)
}

/// Decode the first `prefix` bytes of `encoded` (a chunk of exactly `limit` bytes) and stop
/// there. `None` if that could not be done (a frame that does not say its decoded size, or
/// anything zstd refused), so the caller decodes the whole frame instead, which reports corrupt
/// data properly.
///
/// zstd decodes straight into the output (`StableOutBuffer`: the output is the window, sized
/// for the whole frame but written only as far as decoded), and is given the input one block
/// at a time, so it stops at the first block boundary past the prefix. Given all of the input
/// it would decode all of it; with its default buffered output it would decode into its own
/// window and copy out every byte.
fn decode_prefix(encoded: &[u8], prefix: usize, limit: u64) -> Option<Vec<u8>> {
    // A frame that does not hold exactly the chunk is decoded whole, which reports it.
    let size = zstd_safe::get_frame_content_size(encoded).ok()??;
    if size != limit {
        return None;
    }
    let mut decoded: Vec<u8> = Vec::with_capacity(usize::try_from(size).ok()?);
    let mut block_ends = BlockEnds::of(encoded)?;
    let streamed = with_decompressor(|dctx| {
        let fail = |code| zstd_error("zstd streaming", code);
        dctx.reset(ResetDirective::SessionOnly).map_err(fail)?;
        dctx.set_parameter(DParameter::StableOutBuffer(true))
            .map_err(fail)?;
        // A frame whose window is larger than the chunk is refused, as whole decoding does.
        dctx.set_parameter(DParameter::WindowLogMax(window_log_for(limit)))
            .map_err(fail)?;
        let mut output = OutBuffer::around(&mut decoded);
        let mut consumed = 0;
        while output.pos() < prefix {
            let Some(end) = block_ends.next() else {
                return Err(CodecError::Other("zstd frame ends early".into()));
            };
            let mut input = InBuffer::around(&encoded[..end]);
            input.set_pos(consumed);
            while input.pos() < end {
                let before = (input.pos(), output.pos());
                dctx.decompress_stream(&mut output, &mut input)
                    .map_err(fail)?;
                if (input.pos(), output.pos()) == before {
                    return Err(CodecError::Other("zstd made no progress".into()));
                }
            }
            consumed = end;
        }
        Ok(())
    });
    // The frame is left unfinished: the next streamed use resets the session (and sets the
    // parameters again; single-shot decoding ignores them).
    match streamed {
        Ok(()) if decoded.len() >= prefix => {
            decoded.truncate(prefix);
            Some(decoded)
        }
        _ => None,
    }
}

/// Where each block of the first frame of `encoded` ends (the first one with the frame
/// header), from the frame and block headers. Stops at a header that does not parse or a block
/// that runs past the input.
struct BlockEnds<'a> {
    encoded: &'a [u8],
    /// Where the next block header starts; `None` after the last block.
    next: Option<usize>,
}

impl<'a> BlockEnds<'a> {
    fn of(encoded: &'a [u8]) -> Option<Self> {
        const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
        if encoded.get(..4)? != MAGIC {
            return None;
        }
        let descriptor = *encoded.get(4)?;
        let single_segment = descriptor & 0x20 != 0;
        let window = usize::from(!single_segment);
        let dictionary = [0, 1, 2, 4][usize::from(descriptor & 3)];
        let content_size = match descriptor >> 6 {
            0 => usize::from(single_segment),
            1 => 2,
            2 => 4,
            _ => 8,
        };
        Some(Self {
            encoded,
            next: Some(5 + window + dictionary + content_size),
        })
    }
}

impl Iterator for BlockEnds<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let start = self.next.take()?;
        let header = self.encoded.get(start..start.checked_add(3)?)?;
        let header = u32::from(header[0]) | u32::from(header[1]) << 8 | u32::from(header[2]) << 16;
        let last = header & 1 != 0;
        let length = match (header >> 1) & 3 {
            0 | 2 => header >> 3, // raw, compressed
            1 => 1,               // one byte, repeated
            _ => return None,     // reserved
        };
        let end = (start + 3).checked_add(length as usize)?;
        if end > self.encoded.len() {
            return None;
        }
        self.next = (!last).then_some(end);
        Some(end)
    }
}

/// Decode `encoded` (a chunk of `size` bytes) at least as far as its first `prefix` bytes:
/// only that far when zstd can stop there (then `true` comes with it), otherwise all of it,
/// which the caller checks is `size` bytes. Checksums are checked when `validate_checksums`
/// says so, which takes decoding the whole frame if it has one.
pub(crate) fn decode_at_least(
    encoded: &[u8],
    prefix: usize,
    size: u64,
    validate_checksums: bool,
) -> Result<(Vec<u8>, bool), CodecError> {
    let may_stop = !(validate_checksums && may_carry_checksum(encoded))
        && zstd_safe::get_frame_content_size(encoded).is_ok_and(|content| content == Some(size));
    match may_stop
        .then(|| decode_prefix(encoded, prefix, size))
        .flatten()
    {
        Some(decoded) => Ok((decoded, true)),
        None => Ok((decode_all(encoded, size)?, false)),
    }
}

/// Whether the first frame of `encoded` may carry a content checksum: its frame header
/// descriptor (after the 4-byte magic number) has bit 2 set, or it is not a zstd frame at all
/// (a skippable frame first: decoding all of it is the safe choice).
fn may_carry_checksum(encoded: &[u8]) -> bool {
    const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
    encoded.get(..4) != Some(&MAGIC[..]) || encoded.get(4).is_some_and(|d| d & 0x04 != 0)
}

/// Partial decoding of a zstd-encoded value: the whole value is read (zstd cannot start
/// mid-frame), then decoded up to the end of the last byte range asked for.
struct ZstdPartialDecoder {
    input: Arc<dyn BytesPartialDecoderTraits>,
    /// The decoded size, when fixed; `None` for a variable-size value (always decoded whole).
    decoded_size: Option<u64>,
}

impl BytesPartialDecoderTraits for ZstdPartialDecoder {
    partial_decoder_traits_of_input!();

    fn partial_decode_many(
        &self,
        decoded_regions: ByteRangeIterator,
        options: &CodecOptions,
    ) -> Result<Option<Vec<ArrayBytesRaw<'_>>>, CodecError> {
        let regions: Vec<ByteRange> = decoded_regions.collect();
        let Some(encoded) = self.input.decode(options)? else {
            return Ok(None);
        };
        let limit = self
            .decoded_size
            .unwrap_or_else(crate::config::max_chunk_bytes);
        // Where the last region ends, if every region has an end short of the whole value.
        let prefix_end = regions
            .iter()
            .map(|region| match region {
                ByteRange::FromStart(offset, Some(length)) => offset.checked_add(*length),
                _ => None,
            })
            .try_fold(0u64, |end, region_end| region_end.map(|e| end.max(e)));
        let prefix_end = prefix_end
            .filter(|&end| self.decoded_size.is_some_and(|size| end < size))
            // A checksum covers the whole frame: it is checked only when all of it is decoded.
            .filter(|_| !(options.validate_checksums() && may_carry_checksum(&encoded)));
        let decoded = prefix_end
            .and_then(|end| usize::try_from(end).ok())
            .and_then(|end| decode_prefix(&encoded, end, limit));
        let (decoded, stopped) = match decoded {
            Some(decoded) => (decoded, true),
            None => (decode_all(&encoded, limit)?, false),
        };
        // A frame of another size than the value is corrupt, even where the regions fit in it
        // (`decode_prefix` stops early only in a frame of the value's size).
        if !stopped
            && let Some(size) = self.decoded_size
            && decoded.len() as u64 != size
        {
            return Err(CodecError::Other(format!(
                "a zstd frame decoded to {} bytes, not the {size} bytes of the chunk",
                decoded.len()
            )));
        }
        // One region that is all of the value (an inner chunk read whole): no copy.
        if let [ByteRange::FromStart(0, length)] = regions[..]
            && length.is_none_or(|length| length == decoded.len() as u64)
        {
            return Ok(Some(vec![Cow::Owned(decoded)]));
        }
        let values = extract_byte_ranges(&decoded, regions.into_iter())
            .map_err(CodecError::InvalidByteRangeError)?;
        Ok(Some(values.into_iter().map(Cow::Owned).collect()))
    }

    fn supports_partial_decode(&self) -> bool {
        true
    }
}

impl ExtensionName for Zstd {
    fn name(&self, version: ZarrVersion) -> Option<Cow<'static, str>> {
        Some(match version {
            ZarrVersion::V2 => <ZstdCodec as ExtensionAliasesV2>::aliases_v2()
                .default_name
                .clone(),
            _ => <ZstdCodec as ExtensionAliasesV3>::aliases_v3()
                .default_name
                .clone(),
        })
    }
}

impl CodecTraits for Zstd {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        _version: ZarrVersion,
        _options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        // zarrs' codec writes the v1 configuration for both Zarr versions.
        let configuration = ZstdCodecConfiguration::V1(ZstdCodecConfigurationV1 {
            level: self.level.into(),
            checksum: self.checksum,
        });
        Some(configuration.into())
    }

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        PartialDecoderCapability {
            // The whole encoded value is read (zarrs caches it in front of this codec).
            partial_read: false,
            // Byte ranges of the decoded value: only a prefix of it is decoded.
            partial_decode: true,
        }
    }

    fn partial_encoder_capability(&self) -> PartialEncoderCapability {
        PartialEncoderCapability {
            partial_encode: false,
        }
    }
}

impl BytesToBytesCodecTraits for Zstd {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn BytesToBytesCodecTraits> {
        self
    }

    fn recommended_concurrency(
        &self,
        _decoded_representation: &BytesRepresentation,
    ) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }

    fn encoded_representation(
        &self,
        decoded_representation: &BytesRepresentation,
    ) -> BytesRepresentation {
        // zarrs' bound, so chunk layouts planned from it are unchanged.
        decoded_representation
            .size()
            .map_or(BytesRepresentation::UnboundedSize, |size| {
                const HEADER_TRAILER_OVERHEAD: u64 = 4 + 14 + 4;
                const MIN_WINDOW_SIZE: u64 = 1000;
                const BLOCK_OVERHEAD: u64 = 3;
                let blocks_overhead = BLOCK_OVERHEAD * size.div_ceil(MIN_WINDOW_SIZE);
                BytesRepresentation::BoundedSize(size + HEADER_TRAILER_OVERHEAD + blocks_overhead)
            })
    }

    fn encode<'a>(
        &self,
        decoded_value: ArrayBytesRaw<'a>,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        Ok(Cow::Owned(self.compress(&decoded_value)?))
    }

    fn decode<'a>(
        &self,
        encoded_value: ArrayBytesRaw<'a>,
        decoded_representation: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        // A variable-length chunk's encoded size is unbounded: it is held to the size limit
        // of any one chunk instead.
        let limit = decoded_representation
            .size()
            .unwrap_or_else(crate::config::max_chunk_bytes);
        Ok(Cow::Owned(decode_all(&encoded_value, limit)?))
    }

    fn partial_decoder(
        self: Arc<Self>,
        input_handle: Arc<dyn BytesPartialDecoderTraits>,
        decoded_representation: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<Arc<dyn BytesPartialDecoderTraits>, CodecError> {
        Ok(Arc::new(ZstdPartialDecoder {
            input: input_handle,
            decoded_size: match decoded_representation {
                BytesRepresentation::FixedSize(size) => Some(*size),
                _ => None,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;

    use zarrs::array::codec::ZstdCodec;
    use zarrs::array::codec::api::{
        BytesRepresentation, BytesToBytesCodecTraits, Codec, CodecMetadataOptions, CodecOptions,
        CodecTraitsV2, CodecTraitsV3,
    };
    use zarrs::plugin::ZarrVersion;
    use zarrs::storage::{ReadableStorageTraits, StoreKey, WritableStorageTraits};

    use super::{Zstd, create_v2, create_v3, window_log_for};
    use crate::array::{ArrayHandle, ArrayOptions, create_array};
    use crate::error::ErrorKind;
    use crate::store::Store;

    /// `len` bytes that compress, but not to nothing: a ramp with xorshift noise in the low bits.
    fn sample(len: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((i / 64) as u8).wrapping_add((state & 0x0f) as u8)
            })
            .collect()
    }

    fn bytes_to_bytes(codec: Codec) -> Arc<dyn BytesToBytesCodecTraits> {
        match codec {
            Codec::BytesToBytes(codec) => codec,
            _ => panic!("zstd is a bytes-to-bytes codec"),
        }
    }

    #[test]
    fn encoded_bytes_are_those_of_zarrs_codec() {
        let options = CodecOptions::default();
        let values = [sample(0), sample(1), sample(1000), sample(300_000)];
        // Twice over, levels interleaved: this thread's context is reconfigured between uses.
        for _ in 0..2 {
            for level in [-7, -1, 0, 1, 3, 5, 9, 19] {
                for checksum in [false, true] {
                    for value in &values {
                        let ours = Zstd::new(level, checksum)
                            .encode(Cow::Borrowed(value), &options)
                            .unwrap();
                        let zarrs = ZstdCodec::new(level, checksum)
                            .encode(Cow::Borrowed(value), &options)
                            .unwrap();
                        assert_eq!(ours, zarrs, "level {level}, checksum {checksum}");
                        let size = BytesRepresentation::FixedSize(value.len() as u64);
                        let decoded = Zstd::new(level, checksum)
                            .decode(ours, &size, &options)
                            .unwrap();
                        assert_eq!(&decoded[..], &value[..]);
                    }
                }
            }
        }
    }

    #[test]
    fn names_and_configuration_are_those_of_zarrs_codec() {
        let metadata = CodecMetadataOptions::default();
        let v3 = [
            r#"{"name":"zstd","configuration":{"level":-3,"checksum":true}}"#,
            r#"{"name":"zstd","configuration":{"level":0,"checksum":false}}"#,
        ];
        for json in v3 {
            let parsed = serde_json::from_str(json).unwrap();
            let ours = bytes_to_bytes(create_v3(&parsed).unwrap());
            let zarrs = bytes_to_bytes(<ZstdCodec as CodecTraitsV3>::create(&parsed).unwrap());
            for version in [ZarrVersion::V3, ZarrVersion::V2] {
                assert_eq!(ours.name(version), zarrs.name(version));
                assert_eq!(
                    ours.configuration(version, &metadata),
                    zarrs.configuration(version, &metadata)
                );
            }
        }
        let v2 = [
            r#"{"id":"zstd","level":5}"#,
            r#"{"id":"zstd","level":1,"checksum":true}"#,
        ];
        for json in v2 {
            let parsed = serde_json::from_str(json).unwrap();
            let ours = bytes_to_bytes(create_v2(&parsed).unwrap());
            let zarrs = bytes_to_bytes(<ZstdCodec as CodecTraitsV2>::create(&parsed).unwrap());
            assert_eq!(
                ours.configuration(ZarrVersion::V2, &metadata),
                zarrs.configuration(ZarrVersion::V2, &metadata)
            );
        }
        let missing = serde_json::from_str(r#"{"name":"zstd","configuration":{"level":1}}"#);
        assert!(create_v3(&missing.unwrap()).is_err());
    }

    #[test]
    fn window_logs_cover_the_chunk() {
        assert_eq!(window_log_for(0), 10);
        assert_eq!(window_log_for(1024), 10);
        assert_eq!(window_log_for(1025), 11);
        assert_eq!(window_log_for(4 << 20), 22);
        assert_eq!(window_log_for((4 << 20) + 1), 23);
        assert_eq!(window_log_for(u64::MAX), 31);
    }

    /// A 64^3 uint16 array in one zstd chunk (512 KiB decoded: several zstd blocks), written
    /// with `sample` data, whose stored frame is then cut to its first half.
    fn truncated_chunk(checksum: bool) -> (ArrayHandle, Vec<u8>) {
        let metadata = format!(
            r#"{{"zarr_format":3,"node_type":"array","shape":[64,64,64],"data_type":"uint16",
            "chunk_grid":{{"name":"regular","configuration":{{"chunk_shape":[64,64,64]}}}},
            "chunk_key_encoding":{{"name":"default"}},"fill_value":0,
            "codecs":[{{"name":"bytes","configuration":{{"endian":"little"}}}},
            {{"name":"zstd","configuration":{{"level":1,"checksum":{checksum}}}}}]}}"#
        );
        let store = Arc::new(Store::open("memory://", None).unwrap());
        create_array(&store, "a", &metadata, false).unwrap();
        let array = ArrayHandle::open(store.clone(), "a").unwrap();
        let data = sample(64 * 64 * 64 * 2);
        array
            .write_region(&[0, 0, 0], &[64, 64, 64], &data)
            .unwrap();
        let key = StoreKey::new("a/c/0/0/0").unwrap();
        let frame = store.storage.get(&key).unwrap().unwrap();
        store
            .storage
            .set(&key, frame.slice(..frame.len() / 2))
            .unwrap();
        (array, data)
    }

    /// The element offset of `[z, y, x]` in the 64^3 sample, in bytes.
    fn at(z: usize, y: usize, x: usize) -> usize {
        ((z * 64 + y) * 64 + x) * 2
    }

    #[test]
    fn a_region_near_the_start_of_a_chunk_decodes_only_a_prefix_of_the_frame() {
        let (array, data) = truncated_chunk(false);
        // The first rows are in the first half of the frame: they decode.
        let mut out = vec![0u8; 4 * 4 * 4 * 2];
        array.read_region(&[0, 0, 0], &[4, 4, 4], &mut out).unwrap();
        for (i, row) in out.chunks(8).enumerate() {
            let (z, y) = (i / 4, i % 4);
            assert_eq!(row, &data[at(z, y, 0)..at(z, y, 4)]);
        }
        // The end of the chunk is not in the frame: corrupt data, as is the whole chunk.
        let err = array
            .read_region(&[60, 60, 60], &[4, 4, 4], &mut out)
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
        let mut whole = vec![0u8; data.len()];
        let err = array.read_chunk(&[0, 0, 0], &mut whole).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
    }

    #[test]
    fn a_frame_with_a_checksum_is_decoded_whole_when_checksums_are_validated() {
        let (array, data) = truncated_chunk(true);
        let mut out = vec![0u8; 4 * 4 * 4 * 2];
        let err = array
            .read_region(&[0, 0, 0], &[4, 4, 4], &mut out)
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
        // Not validating, the prefix is enough again.
        let unchecked = array
            .with_options(ArrayOptions {
                validate_checksums: Some(false),
                ..ArrayOptions::default()
            })
            .unwrap();
        unchecked
            .read_region(&[0, 0, 0], &[4, 4, 4], &mut out)
            .unwrap();
        assert_eq!(&out[..8], &data[..8]);
    }

    #[test]
    fn partial_reads_match_the_data_in_plain_and_sharded_chunks() {
        let plain = r#"{"name":"bytes","configuration":{"endian":"little"}},
            {"name":"zstd","configuration":{"level":3,"checksum":true}}"#;
        let sharded = r#"{"name":"sharding_indexed","configuration":{"chunk_shape":[8,8,8],
            "codecs":[{"name":"bytes","configuration":{"endian":"little"}},
            {"name":"zstd","configuration":{"level":-1,"checksum":false}}],
            "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}}]}}"#;
        for codecs in [plain, sharded] {
            let metadata = format!(
                r#"{{"zarr_format":3,"node_type":"array","shape":[40,40,40],"data_type":"uint16",
                "chunk_grid":{{"name":"regular","configuration":{{"chunk_shape":[32,32,32]}}}},
                "chunk_key_encoding":{{"name":"default"}},"fill_value":0,"codecs":[{codecs}]}}"#
            );
            let store = Arc::new(Store::open("memory://", None).unwrap());
            create_array(&store, "a", &metadata, false).unwrap();
            let array = ArrayHandle::open(store, "a").unwrap();
            let data = sample(40 * 40 * 40 * 2);
            array
                .write_region(&[0, 0, 0], &[40, 40, 40], &data)
                .unwrap();
            for (start, shape) in [
                ([0, 0, 0], [1, 1, 1]),
                ([0, 0, 0], [3, 5, 7]),
                ([5, 9, 30], [4, 3, 6]),
                ([31, 31, 31], [1, 1, 1]),
                ([30, 0, 2], [10, 40, 3]),
                ([8, 8, 8], [8, 8, 8]),
            ] {
                let mut out = vec![0u8; shape.iter().product::<u64>() as usize * 2];
                array.read_region(&start, &shape, &mut out).unwrap();
                let mut expected = Vec::new();
                for z in start[0]..start[0] + shape[0] {
                    for y in start[1]..start[1] + shape[1] {
                        let row = ((z * 40 + y) * 40 + start[2]) as usize * 2;
                        expected.extend_from_slice(&data[row..row + shape[2] as usize * 2]);
                    }
                }
                assert_eq!(out, expected, "{start:?} {shape:?} in {codecs}");
            }
        }
    }
}
