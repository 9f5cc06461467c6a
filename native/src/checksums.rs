//! Checksum codecs (crc32c, fletcher32, adler32) whose partial decoders check that an encoded
//! value holds its checksum.
//!
//! zarrs' partial decoders for these codecs strip the 4-byte checksum by subtracting its size
//! from the value's length unchecked: a stored chunk shorter than 4 bytes underflows (a panic
//! where overflow is checked, a wrapped length elsewhere; found by fuzzing, tests/fuzz). zarrlib
//! registers each codec again under its own names, wrapped: everything is zarrs' (creation,
//! configuration, encoding, whole-chunk decoding, which does check the length) except that the
//! bytes given to zarrs' partial decoder are refused as corrupt when a value read to its end is
//! shorter than the checksum.

use std::sync::Arc;

use zarrs::array::ArrayBytesRaw;
use zarrs::array::codec::api::{
    BytesPartialDecoderTraits, BytesRepresentation, BytesToBytesCodecTraits, Codec, CodecError,
    CodecOptions, CodecRuntimePluginV2, CodecRuntimePluginV3, CodecTraits, CodecTraitsV2,
    CodecTraitsV3, PartialDecoderCapability, register_codec_v2, register_codec_v3,
};
use zarrs::array::codec::{Adler32Codec, Crc32cCodec, Fletcher32Codec};
use zarrs::plugin::{ExtensionAliasesV2, ExtensionAliasesV3};
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};

use crate::codec_wrapping::{
    bytes_to_bytes_traits_of_inner, codec_traits_of_inner, name_of_inner,
    partial_decoder_traits_of_input,
};

/// The size of each codec's checksum.
const CHECKSUM_SIZE: usize = 4;

/// A zarrs checksum codec whose partial decoder is given only values that hold a checksum.
#[derive(Debug)]
struct Checked {
    inner: Arc<dyn BytesToBytesCodecTraits>,
}

/// Register the checked codecs (called once by `codecs::register`).
pub(crate) fn register() {
    register_checked::<Crc32cCodec>();
    register_checked::<Fletcher32Codec>();
    register_checked::<Adler32Codec>();
}

fn register_checked<C>()
where
    C: CodecTraitsV3 + CodecTraitsV2 + ExtensionAliasesV3 + ExtensionAliasesV2 + 'static,
{
    // The handles would unregister them: these stay for the life of the process.
    let _ = register_codec_v3(CodecRuntimePluginV3::new(C::matches_name_v3, |metadata| {
        Ok(wrap(<C as CodecTraitsV3>::create(metadata)?))
    }));
    let _ = register_codec_v2(CodecRuntimePluginV2::new(C::matches_name_v2, |metadata| {
        Ok(wrap(<C as CodecTraitsV2>::create(metadata)?))
    }));
}

fn wrap(codec: Codec) -> Codec {
    match codec {
        Codec::BytesToBytes(inner) => Codec::BytesToBytes(Arc::new(Checked { inner })),
        other => other,
    }
}

/// Encoded bytes whose values read to their end (the ones zarrs strips a checksum from) must
/// hold one.
struct HoldsChecksum {
    input: Arc<dyn BytesPartialDecoderTraits>,
}

impl BytesPartialDecoderTraits for HoldsChecksum {
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
            let to_end = matches!(region, ByteRange::FromStart(_, None) | ByteRange::Suffix(_));
            if to_end && value.len() < CHECKSUM_SIZE {
                return Err(CodecError::Other(format!(
                    "an encoded value of {} bytes is shorter than its {CHECKSUM_SIZE}-byte checksum",
                    value.len()
                )));
            }
        }
        Ok(values)
    }

    fn supports_partial_decode(&self) -> bool {
        self.input.supports_partial_decode()
    }
}

name_of_inner!(Checked);

impl CodecTraits for Checked {
    codec_traits_of_inner!();

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        self.inner.partial_decoder_capability()
    }
}

impl BytesToBytesCodecTraits for Checked {
    bytes_to_bytes_traits_of_inner!();

    fn partial_decoder(
        self: Arc<Self>,
        input_handle: Arc<dyn BytesPartialDecoderTraits>,
        decoded_representation: &BytesRepresentation,
        options: &CodecOptions,
    ) -> Result<Arc<dyn BytesPartialDecoderTraits>, CodecError> {
        let checked = Arc::new(HoldsChecksum {
            input: input_handle,
        });
        self.inner
            .clone()
            .partial_decoder(checked, decoded_representation, options)
    }

    fn decode<'a>(
        &self,
        encoded_value: ArrayBytesRaw<'a>,
        decoded_representation: &BytesRepresentation,
        options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        self.inner
            .decode(encoded_value, decoded_representation, options)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use zarrs::array::{Array, ArrayMetadata, ArraySubset, CodecOptions};
    use zarrs::metadata::v3::ArrayMetadataV3;
    use zarrs::storage::store::MemoryStore;
    use zarrs::storage::{StoreKey, WritableStorageTraits};

    use crate::array::{ArrayHandle, create_array};
    use crate::error::{Error, ErrorKind};
    use crate::store::Store;

    const CODECS: [&str; 4] = [
        r#"{"name":"crc32c"}"#,
        r#"{"name":"numcodecs.fletcher32","configuration":{}}"#,
        r#"{"name":"numcodecs.adler32","configuration":{"location":"end"}}"#,
        r#"{"name":"numcodecs.adler32","configuration":{}}"#,
    ];

    /// A 6x4 uint16 array in 3x2 chunks encoded with `bytes`, `zstd`, then `codec`. zstd
    /// decodes in part by decoding whole, so the checksum codec's partial decoder is asked for
    /// the value to its end.
    fn metadata(codec: &str) -> String {
        format!(
            r#"{{"zarr_format":3,"node_type":"array","shape":[6,4],"data_type":"uint16",
            "chunk_grid":{{"name":"regular","configuration":{{"chunk_shape":[3,2]}}}},
            "chunk_key_encoding":{{"name":"default"}},"fill_value":0,
            "codecs":[{{"name":"bytes","configuration":{{"endian":"little"}}}},
            {{"name":"zstd","configuration":{{"level":1,"checksum":false}}}},{codec}]}}"#
        )
    }

    /// Read element (1, 1) of a `codec` array whose chunk (0, 0) is `stored`, through zarrs'
    /// partial decoder: checksums unchecked (the engine then reads in part; validated, it
    /// decodes chunks with checksums whole), set per call rather than process-wide.
    fn partial_read(codec: &str, stored: &[u8]) -> Result<Vec<u16>, zarrs::array::ArrayError> {
        crate::codecs::register();
        let storage = Arc::new(MemoryStore::new());
        let metadata: ArrayMetadataV3 = serde_json::from_str(&metadata(codec)).unwrap();
        let array = Array::new_with_metadata(storage.clone(), "/a", ArrayMetadata::V3(metadata));
        let key = StoreKey::new("a/c/0/0").unwrap();
        storage.set(&key, stored.to_vec().into()).unwrap();
        let options = CodecOptions::default().with_validate_checksums(false);
        let subset = ArraySubset::new_with_ranges(&[1..2, 1..2]);
        array.unwrap().retrieve_array_subset_opt(&subset, &options)
    }

    #[test]
    fn a_chunk_shorter_than_its_checksum_is_corrupt_in_a_partial_read() {
        // Checksums at the end: adler32's default, at the start, is stripped by asking for the
        // value from byte 4 on, which zarrs' MemoryStore (used here) cannot answer for a
        // shorter value without panicking.
        for codec in &CODECS[..3] {
            for stored in [&[][..], &[5], &[1, 2, 3]] {
                let err = Error::from(partial_read(codec, stored).expect_err(codec));
                assert_eq!(err.kind, ErrorKind::CorruptData, "{codec}: {}", err.message);
                assert!(
                    err.message.contains("shorter than its 4-byte checksum"),
                    "{codec} {stored:?}: {}",
                    err.message
                );
            }
        }
    }

    #[test]
    fn a_chunk_shorter_than_its_checksum_is_corrupt_in_the_engine() {
        for codec in CODECS {
            let store = Arc::new(Store::open("memory://", None).unwrap());
            create_array(&store, "a", &metadata(codec), false).unwrap();
            let key = StoreKey::new("a/c/0/0").unwrap();
            store.storage.set(&key, vec![5u8].into()).unwrap();
            let array = ArrayHandle::open(store, "a").unwrap();
            let (mut one, mut whole) = ([0u8; 2], [0u8; 12]);
            let err = array.read_region(&[1, 1], &[1, 1], &mut one).unwrap_err();
            assert_eq!(err.kind, ErrorKind::CorruptData, "{codec}: {}", err.message);
            let err = array.read_chunk(&[0, 0], &mut whole).unwrap_err();
            assert_eq!(err.kind, ErrorKind::CorruptData, "{codec}: {}", err.message);
        }
    }

    #[test]
    fn checked_codecs_still_round_trip_and_read_in_part() {
        for codec in CODECS {
            let store = Arc::new(Store::open("memory://", None).unwrap());
            create_array(&store, "a", &metadata(codec), false).unwrap();
            let array = ArrayHandle::open(store, "a").unwrap();
            let data: Vec<u8> = (0..48).collect();
            array.write_region(&[0, 0], &[6, 4], &data).unwrap();
            let mut part = [0u8; 4];
            array.read_region(&[1, 1], &[1, 2], &mut part).unwrap();
            assert_eq!(part, data[10..14], "{codec}");
        }
    }
}
