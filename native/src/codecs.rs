//! Bounded decoders: the compressors zarrs builds in, registered again under their own names so
//! that decoding a chunk never allocates more than the chunk's decoded size, whatever the stored
//! bytes claim. Hostile or corrupt data (a zstd frame header claiming terabytes, a gzip stream
//! that inflates without end, a blosc header with a huge size) is then `CorruptData`, not an
//! abort or gigabytes of memory.
//!
//! (zstd is zarrlib's own codec, in src/zstd_codec.rs, bounded the same way.)
//!
//! Each codec wraps zarrs' own: creation, configuration and encoding are zarrs', so metadata and
//! encoded bytes are unchanged; only `decode` is bounded by the size zarrs says the decoded value
//! has (its `decoded_representation`). zarrs looks runtime-registered codecs up before its
//! built-in ones, so registering once makes every array use these.

use std::borrow::Cow;
use std::io::Read;
use std::sync::{Arc, Once};

use zarrs::array::ArrayBytesRaw;
use zarrs::array::codec::api::{
    BytesPartialDecoderTraits, BytesRepresentation, BytesToBytesCodecTraits, Codec, CodecError,
    CodecOptions, CodecPartialDefault, CodecRuntimePluginV2, CodecRuntimePluginV3, CodecTraits,
    CodecTraitsV2, CodecTraitsV3, PartialDecoderCapability, register_codec_v2, register_codec_v3,
};
use zarrs::array::codec::{BloscCodec, Bz2Codec, GzipCodec, ZlibCodec};
use zarrs::metadata::{Configuration, v3::MetadataV3};
use zarrs::plugin::{ExtensionAliasesV2, ExtensionAliasesV3, PluginCreateError};
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};

use crate::codec_wrapping::{
    bytes_to_bytes_traits_of_inner, codec_traits_of_inner, name_of_inner,
    partial_decoder_traits_of_input,
};

/// How a codec's encoded bytes are decoded within a bound.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Gzip,
    Zlib,
    Bz2,
    Blosc,
}

/// A zarrs bytes-to-bytes codec whose decoding is bounded.
#[derive(Debug)]
struct Bounded {
    inner: Arc<dyn BytesToBytesCodecTraits>,
    kind: Kind,
}

/// Register the bounded codecs, once per process, before the first array is built.
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // zstd is zarrlib's own codec (bounded too, and more): src/zstd_codec.rs.
        crate::zstd_codec::register();
        register_kind::<GzipCodec>(Kind::Gzip);
        register_kind::<ZlibCodec>(Kind::Zlib);
        register_kind::<Bz2Codec>(Kind::Bz2);
        register_kind::<BloscCodec>(Kind::Blosc);
        crate::shard_index::register();
        crate::checksums::register();
        crate::blosc_v2::register();
        crate::numcodecs::register();
    });
}

fn register_kind<C>(kind: Kind)
where
    C: CodecTraitsV3 + CodecTraitsV2 + ExtensionAliasesV3 + ExtensionAliasesV2 + 'static,
{
    // The handles would unregister them: these stay for the life of the process.
    let _ = register_codec_v3(CodecRuntimePluginV3::new(
        C::matches_name_v3,
        move |metadata| {
            check_v3(kind, metadata)?;
            let metadata = numcodecs_defaults(kind, metadata);
            wrap(<C as CodecTraitsV3>::create(&metadata)?, kind)
        },
    ));
    let _ = register_codec_v2(CodecRuntimePluginV2::new(
        C::matches_name_v2,
        move |metadata| {
            check_level(kind, Some(metadata.configuration()))?;
            wrap(<C as CodecTraitsV2>::create(metadata)?, kind)
        },
    ));
}

/// zarrs' blosc codec `inner`, bounded (for src/blosc_v2.rs, which builds v2 blosc codecs).
pub(crate) fn bounded_blosc(inner: Arc<dyn BytesToBytesCodecTraits>) -> Codec {
    Codec::BytesToBytes(Arc::new(Bounded {
        inner,
        kind: Kind::Blosc,
    }))
}

/// `codec` (zarrs' own of `kind`) with its decoding bounded.
pub(crate) fn wrap(codec: Codec, kind: Kind) -> Result<Codec, PluginCreateError> {
    match codec {
        Codec::BytesToBytes(inner) => Ok(Codec::BytesToBytes(Arc::new(Bounded { inner, kind }))),
        other => Ok(other),
    }
}

/// zarr-python writes `numcodecs.zlib` / `numcodecs.bz2` with their default configuration as
/// `"configuration": {}`; zarrs requires a level, so numcodecs' default (1 for both) fills it in.
fn numcodecs_defaults(kind: Kind, metadata: &MetadataV3) -> Cow<'_, MetadataV3> {
    let needs_level = matches!(kind, Kind::Zlib | Kind::Bz2)
        && metadata.name().starts_with("numcodecs.")
        && metadata
            .configuration()
            .is_none_or(|c| !c.contains_key("level"));
    if !needs_level {
        return Cow::Borrowed(metadata);
    }
    let mut configuration = metadata
        .configuration()
        .map(|c| serde_json::Map::from(c.clone()))
        .unwrap_or_default();
    configuration.insert("level".into(), 1.into());
    Cow::Owned(MetadataV3::new_with_configuration(
        metadata.name(),
        configuration,
    ))
}

/// bzip2 panics on a compression level outside 1 to 9, which zarrs passes on unchecked (found
/// by fuzzing: a v2 `{"id": "bz2", "level": 0}` compressor).
fn check_level(kind: Kind, configuration: Option<&Configuration>) -> Result<(), PluginCreateError> {
    if let Kind::Bz2 = kind {
        let level = configuration
            .and_then(|c| c.get("level"))
            .and_then(serde_json::Value::as_i64);
        if let Some(level) = level.filter(|l| !(1..=9).contains(l)) {
            return Err(PluginCreateError::Other(format!(
                "bz2 level {level} is out of range (1 to 9)"
            )));
        }
    }
    Ok(())
}

/// Configuration zarrs accepts but its codec cannot survive.
fn check_v3(kind: Kind, metadata: &MetadataV3) -> Result<(), PluginCreateError> {
    check_level(kind, metadata.configuration())?;
    if let Kind::Blosc = kind {
        // c-blosc takes the type size as a C int: 2^32 wraps to 0 and divides by zero.
        let typesize = metadata
            .configuration()
            .and_then(|c| c.get("typesize"))
            .and_then(serde_json::Value::as_u64);
        if typesize.is_some_and(|t| t > 255) {
            return Err(PluginCreateError::Other(format!(
                "blosc typesize {} is out of range (0 to 255)",
                typesize.unwrap_or_default()
            )));
        }
    }
    Ok(())
}

fn too_large(what: &str, size: impl std::fmt::Display, limit: u64) -> CodecError {
    CodecError::Other(format!(
        "{what} decodes to {size} bytes, more than the {limit} bytes the chunk holds"
    ))
}

/// Read all of `reader`, failing as soon as it yields more than `limit` bytes.
pub(crate) fn read_bounded(
    reader: impl Read,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(usize::try_from(limit).unwrap_or(0).min(1 << 26));
    reader.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(too_large(what, format!("more than {limit}"), limit));
    }
    Ok(out)
}

/// The decoded size a blosc header announces (bytes 4 to 8, little-endian).
fn blosc_nbytes(encoded: &[u8]) -> Result<u64, CodecError> {
    let header: [u8; 4] = encoded
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            CodecError::Other("blosc encoded value is shorter than its header".into())
        })?;
    Ok(u64::from(u32::from_le_bytes(header)))
}

impl Bounded {
    fn decode_within(&self, encoded: &[u8], limit: u64) -> Result<Option<Vec<u8>>, CodecError> {
        Ok(Some(match self.kind {
            Kind::Gzip => read_bounded(flate2::read::GzDecoder::new(encoded), limit, "gzip")?,
            Kind::Zlib => read_bounded(flate2::read::ZlibDecoder::new(encoded), limit, "zlib")?,
            Kind::Bz2 => read_bounded(bzip2::read::BzDecoder::new(encoded), limit, "bz2")?,
            Kind::Blosc => {
                let size = blosc_nbytes(encoded)?;
                if size > limit {
                    return Err(too_large("a blosc buffer", size, limit));
                }
                return Ok(None); // within bounds: zarrs decodes it
            }
        }))
    }
}

/// Encoded blosc bytes whose header is checked against the chunk's size whenever they are read
/// from their start, as zarrs' blosc partial decoder reads them.
struct BloscHeaderChecked {
    input: Arc<dyn BytesPartialDecoderTraits>,
    limit: u64,
}

impl BytesPartialDecoderTraits for BloscHeaderChecked {
    partial_decoder_traits_of_input!();

    fn partial_decode_many(
        &self,
        decoded_regions: ByteRangeIterator,
        options: &CodecOptions,
    ) -> Result<Option<Vec<ArrayBytesRaw<'_>>>, CodecError> {
        let regions: Vec<ByteRange> = decoded_regions.collect();
        let values = self
            .input
            .partial_decode_many(Box::new(regions.clone().into_iter()), options)?;
        for (region, value) in regions.iter().zip(values.iter().flatten()) {
            if matches!(region, ByteRange::FromStart(0, _)) {
                let size = blosc_nbytes(value)?;
                if size > self.limit {
                    return Err(too_large("a blosc buffer", size, self.limit));
                }
            }
        }
        Ok(values)
    }

    fn supports_partial_decode(&self) -> bool {
        self.input.supports_partial_decode()
    }
}

name_of_inner!(Bounded);

impl CodecTraits for Bounded {
    codec_traits_of_inner!();

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        match self.kind {
            // zarrs' blosc partial decoder decompresses only the blocks asked for; it is given
            // encoded bytes whose header was checked (see `partial_decoder`).
            Kind::Blosc => self.inner.partial_decoder_capability(),
            // The rest decode through `decode` (the trait's default), so they are bounded too.
            _ => PartialDecoderCapability {
                partial_read: false,
                partial_decode: false,
            },
        }
    }
}

impl BytesToBytesCodecTraits for Bounded {
    bytes_to_bytes_traits_of_inner!();

    fn partial_decoder(
        self: Arc<Self>,
        input_handle: Arc<dyn BytesPartialDecoderTraits>,
        decoded_representation: &BytesRepresentation,
        options: &CodecOptions,
    ) -> Result<Arc<dyn BytesPartialDecoderTraits>, CodecError> {
        match (self.kind, decoded_representation.size()) {
            (Kind::Blosc, Some(limit)) => {
                let checked = Arc::new(BloscHeaderChecked {
                    input: input_handle,
                    limit,
                });
                self.inner
                    .clone()
                    .partial_decoder(checked, decoded_representation, options)
            }
            _ => Ok(Arc::new(CodecPartialDefault::new_bytes(
                input_handle,
                *decoded_representation,
                self.into_dyn(),
            ))),
        }
    }

    fn decode<'a>(
        &self,
        encoded_value: ArrayBytesRaw<'a>,
        decoded_representation: &BytesRepresentation,
        options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        // A variable-length chunk's encoded size is unbounded: it is held to the size limit
        // of any one chunk instead.
        let limit = decoded_representation
            .size()
            .unwrap_or_else(crate::config::max_chunk_bytes);
        if let Some(decoded) = self.decode_within(&encoded_value, limit)? {
            return Ok(Cow::Owned(decoded));
        }
        self.inner
            .decode(encoded_value, decoded_representation, options)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use zarrs::storage::{StoreKey, WritableStorageTraits};

    use crate::array::{ArrayHandle, create_array};
    use crate::error::ErrorKind;
    use crate::store::Store;

    /// A 2x2 uint8 array (4-byte chunks) compressed with `codec`, whose one chunk is then
    /// replaced by `stored`: reading it must fail as corrupt data.
    fn read_stored(codec: &str, stored: Vec<u8>) -> ErrorKind {
        let metadata = format!(
            r#"{{"zarr_format":3,"node_type":"array","shape":[2,2],"data_type":"uint8",
            "chunk_grid":{{"name":"regular","configuration":{{"chunk_shape":[2,2]}}}},
            "chunk_key_encoding":{{"name":"default"}},"fill_value":0,
            "codecs":[{{"name":"bytes"}},{codec}]}}"#
        );
        let store = Arc::new(Store::open("memory://", None).unwrap());
        create_array(&store, "a", &metadata, false).unwrap();
        let array = ArrayHandle::open(store.clone(), "a").unwrap();
        let key = StoreKey::new("a/c/0/0").unwrap();
        store.storage.set(&key, stored.into()).unwrap();
        let mut out = [0u8; 4];
        let err = array.read_chunk(&[0, 0], &mut out).unwrap_err();
        assert!(err.message.contains("bytes"), "{}", err.message);
        assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
        let err_region = array
            .read_region(&[0, 0], &[1, 1], &mut out[..1])
            .unwrap_err();
        assert_eq!(err_region.kind, err.kind);
        err.kind
    }

    const ZEROS: usize = 64 << 20;

    #[test]
    fn a_zstd_frame_claiming_more_than_the_chunk_is_corrupt() {
        let zstd = r#"{"name":"zstd","configuration":{"level":0,"checksum":false}}"#;
        // A frame header announcing 2^60 bytes (single segment, 8-byte content size), then one
        // empty last raw block: decoding it with the announced capacity would abort.
        let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0xe0];
        frame.extend_from_slice(&(1u64 << 60).to_le_bytes());
        frame.extend_from_slice(&[1, 0, 0]);
        assert_eq!(read_stored(zstd, frame), ErrorKind::CorruptData);
        // 64 MiB of zeros in a few kilobytes, with and without the content size in the header.
        let bomb = zstd::bulk::compress(&vec![0u8; ZEROS], 3).unwrap();
        assert_eq!(read_stored(zstd, bomb), ErrorKind::CorruptData);
        let zeros = std::io::Read::take(std::io::repeat(0), ZEROS as u64);
        let streamed = zstd::stream::encode_all(zeros, 3).unwrap();
        assert_eq!(read_stored(zstd, streamed), ErrorKind::CorruptData);
    }

    #[test]
    fn deflate_and_bz2_bombs_are_corrupt() {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(&vec![0u8; ZEROS]).unwrap();
        let gzip_bomb = gzip.finish().unwrap();
        let gzip_codec = r#"{"name":"gzip","configuration":{"level":5}}"#;
        assert_eq!(read_stored(gzip_codec, gzip_bomb), ErrorKind::CorruptData);

        let mut bz2 = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
        bz2.write_all(&vec![0u8; ZEROS]).unwrap();
        let bz2_bomb = bz2.finish().unwrap();
        let bz2_codec = r#"{"name":"numcodecs.bz2","configuration":{"level":5}}"#;
        assert_eq!(read_stored(bz2_codec, bz2_bomb), ErrorKind::CorruptData);
    }

    #[test]
    fn a_blosc_header_claiming_more_than_the_chunk_is_corrupt() {
        let blosc = r#"{"name":"blosc","configuration":{"cname":"lz4","clevel":5,
            "shuffle":"noshuffle","typesize":1,"blocksize":0}}"#;
        // version 2, lz4 1, flags, typesize 1, nbytes 2^31 - 17, blocksize, cbytes = 32.
        let mut header = vec![2u8, 1, 0x01, 1];
        header.extend_from_slice(&(i32::MAX as u32 - 16).to_le_bytes());
        header.extend_from_slice(&4096u32.to_le_bytes());
        header.extend_from_slice(&32u32.to_le_bytes());
        header.resize(32, 0);
        assert_eq!(read_stored(blosc, header), ErrorKind::CorruptData);
    }

    #[test]
    fn blosc_typesizes_c_blosc_cannot_take_are_refused_at_create() {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        let metadata = r#"{"zarr_format":3,"node_type":"array","shape":[2],"data_type":"uint8",
            "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2]}},
            "chunk_key_encoding":{"name":"default"},"fill_value":0,
            "codecs":[{"name":"bytes"},{"name":"blosc","configuration":{"cname":"lz4","clevel":5,
            "shuffle":"shuffle","typesize":4294967296,"blocksize":0}}]}"#;
        let err = create_array(&store, "a", metadata, false).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidMetadata, "{}", err.message);
        assert!(err.message.contains("typesize"), "{}", err.message);
    }

    #[test]
    fn bz2_levels_bzip2_cannot_take_are_refused() {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        let v3 = r#"{"zarr_format":3,"node_type":"array","shape":[2],"data_type":"uint8",
            "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2]}},
            "chunk_key_encoding":{"name":"default"},"fill_value":0,
            "codecs":[{"name":"bytes"},{"name":"numcodecs.bz2","configuration":{"level":0}}]}"#;
        let v2 = r#"{"zarr_format":2,"shape":[2],"chunks":[2],"dtype":"|u1","fill_value":0,
            "order":"C","filters":null,"compressor":{"id":"bz2","level":10}}"#;
        // zarrs reports a v2 codec it could not build as an unsupported array.
        for (path, metadata, kind) in [
            ("v3", v3, ErrorKind::InvalidMetadata),
            ("v2", v2, ErrorKind::Unsupported),
        ] {
            let err = create_array(&store, path, metadata, false).unwrap_err();
            assert_eq!(err.kind, kind, "{}", err.message);
            assert!(err.message.contains("bz2 level"), "{}", err.message);
        }
    }

    #[test]
    fn bounded_codecs_still_round_trip() {
        for codec in [
            r#"{"name":"zstd","configuration":{"level":3,"checksum":true}}"#,
            r#"{"name":"gzip","configuration":{"level":5}}"#,
            r#"{"name":"numcodecs.zlib","configuration":{"level":5}}"#,
            r#"{"name":"numcodecs.bz2","configuration":{"level":5}}"#,
            // numcodecs' defaults, as zarr-python writes them.
            r#"{"name":"numcodecs.zlib","configuration":{}}"#,
            r#"{"name":"numcodecs.bz2"}"#,
            r#"{"name":"numcodecs.lz4","configuration":{}}"#,
            r#"{"name":"numcodecs.crc32","configuration":{}}"#,
            r#"{"name":"blosc","configuration":{"cname":"zstd","clevel":5,"shuffle":"bitshuffle","typesize":1,"blocksize":0}}"#,
        ] {
            let metadata = format!(
                r#"{{"zarr_format":3,"node_type":"array","shape":[300],"data_type":"uint8",
                "chunk_grid":{{"name":"regular","configuration":{{"chunk_shape":[128]}}}},
                "chunk_key_encoding":{{"name":"default"}},"fill_value":0,
                "codecs":[{{"name":"bytes"}},{codec}]}}"#
            );
            let store = Arc::new(Store::open("memory://", None).unwrap());
            create_array(&store, "a", &metadata, false).unwrap();
            let array = ArrayHandle::open(store, "a").unwrap();
            let data: Vec<u8> = (0..300).map(|i| (i * 7 % 251) as u8).collect();
            array.write_region(&[0], &[300], &data).unwrap();
            let mut out = vec![0u8; 300];
            array.read_region(&[0], &[300], &mut out).unwrap();
            assert_eq!(out, data, "{codec}");
            let mut part = vec![0u8; 5];
            array.read_region(&[130], &[5], &mut part).unwrap();
            assert_eq!(part, data[130..135], "{codec}");
        }
    }
}
