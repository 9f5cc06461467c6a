//! Shard indexes checked before zarrs uses them.
//!
//! zarrs adds each inner chunk's offset and size from a shard's index unchecked: a hostile index
//! whose `offset + size` passes 2^64 (a valid checksum does not stop it) wraps, slips past its
//! bounds check and panics slicing the shard. Every path that reads an index (whole-shard
//! decoding, zarrs' partial decoder, its sharded-read extension, partial encoding) decodes it
//! with the codec chain built from the sharding codec's `index_codecs`. So zarrlib adds one codec
//! of its own to that chain, after `bytes`: a bytes-to-bytes codec that passes the index through
//! unchanged and refuses, as corrupt data, one holding an entry whose end overflows.
//!
//! The codec exists only in the document zarrs is given (see [`insert_checks`]): what zarrlib
//! stores and returns is the caller's document, and the encoded bytes are the same.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use zarrs::array::ArrayBytesRaw;
use zarrs::array::codec::api::{
    BytesPartialDecoderTraits, BytesRepresentation, BytesToBytesCodecTraits, Codec, CodecError,
    CodecMetadataOptions, CodecOptions, CodecPartialDefault, CodecRuntimePluginV3, CodecTraits,
    PartialDecoderCapability, PartialEncoderCapability, RecommendedConcurrency, register_codec_v3,
};
use zarrs::metadata::{Configuration, v3::MetadataV3};
use zarrs::plugin::{ExtensionName, ZarrVersion};

/// The private name of the check; not a Zarr extension, never stored.
const NAME: &str = "zarrlib.shard_index_check";

/// One index entry (offset and size, each a u64) is 16 bytes.
const ENTRY_BYTES: usize = 16;

/// Checks the entries of an encoded shard index, which `bytes` wrote in `big_endian` order.
#[derive(Debug)]
struct IndexCheck {
    big_endian: bool,
}

/// Register the check with zarrs, once per process (called by `codecs::register`).
pub(crate) fn register() {
    // The handle would unregister it: the check stays for the life of the process.
    let _ = register_codec_v3(CodecRuntimePluginV3::new(
        |name| name == NAME,
        |metadata: &MetadataV3| {
            let endian = metadata
                .configuration()
                .and_then(|c| c.get("endian"))
                .and_then(Value::as_str);
            Ok(Codec::BytesToBytes(Arc::new(IndexCheck {
                big_endian: endian == Some("big"),
            })))
        },
    ));
}

/// Add the check to the `index_codecs` of every sharding codec in a v3 document's `codecs`,
/// nested ones included, right after `bytes` (so below any checksum, which is stripped first).
pub(crate) fn insert_checks(doc: &mut Map<String, Value>) {
    if let Some(Value::Array(codecs)) = doc.get_mut("codecs") {
        insert_in(codecs);
    }
}

fn insert_in(codecs: &mut [Value]) {
    for codec in codecs {
        if codec.get("name").and_then(Value::as_str) != Some("sharding_indexed") {
            continue;
        }
        let Some(config) = codec
            .get_mut("configuration")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let Some(Value::Array(inner)) = config.get_mut("codecs") {
            insert_in(inner);
        }
        let Some(Value::Array(index_codecs)) = config.get_mut("index_codecs") else {
            continue;
        };
        let Some(at) = index_codecs
            .iter()
            .position(|c| c.get("name").and_then(Value::as_str) == Some("bytes"))
        else {
            continue;
        };
        let endian = index_codecs[at]
            .pointer("/configuration/endian")
            .cloned()
            .unwrap_or_else(|| json!("little"));
        let check = json!({"name": NAME, "configuration": {"endian": endian}});
        index_codecs.insert(at + 1, check);
    }
}

impl IndexCheck {
    fn check(&self, index: &[u8]) -> Result<(), CodecError> {
        let (entries, rest) = index.as_chunks::<ENTRY_BYTES>();
        if !rest.is_empty() {
            return Err(CodecError::Other(format!(
                "a shard index of {} bytes is not a whole number of 16-byte entries",
                index.len()
            )));
        }
        let read = |bytes: &[u8]| {
            let bytes: [u8; 8] = bytes.try_into().expect("8 bytes");
            if self.big_endian {
                u64::from_be_bytes(bytes)
            } else {
                u64::from_le_bytes(bytes)
            }
        };
        for (i, entry) in entries.iter().enumerate() {
            let (offset, size) = (read(&entry[..8]), read(&entry[8..]));
            let missing = offset == u64::MAX && size == u64::MAX;
            if !missing && offset.checked_add(size).is_none() {
                return Err(CodecError::Other(format!(
                    "the shard index is corrupt: inner chunk {i} has offset {offset} and size {size}, past any shard's end"
                )));
            }
        }
        Ok(())
    }
}

impl ExtensionName for IndexCheck {
    fn name(&self, version: ZarrVersion) -> Option<Cow<'static, str>> {
        matches!(version, ZarrVersion::V3).then_some(Cow::Borrowed(NAME))
    }
}

impl CodecTraits for IndexCheck {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        _version: ZarrVersion,
        _options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        let endian = if self.big_endian { "big" } else { "little" };
        let mut config = Map::new();
        config.insert("endian".into(), endian.into());
        Some(config.into())
    }

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        // Indexes are decoded whole; the default partial decoder goes through `decode`.
        PartialDecoderCapability {
            partial_read: false,
            partial_decode: false,
        }
    }

    fn partial_encoder_capability(&self) -> PartialEncoderCapability {
        PartialEncoderCapability {
            partial_encode: false,
        }
    }
}

impl BytesToBytesCodecTraits for IndexCheck {
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
        *decoded_representation
    }

    fn encode<'a>(
        &self,
        decoded_value: ArrayBytesRaw<'a>,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        Ok(decoded_value)
    }

    fn decode<'a>(
        &self,
        encoded_value: ArrayBytesRaw<'a>,
        _decoded_representation: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        self.check(&encoded_value)?;
        Ok(encoded_value)
    }

    fn partial_decoder(
        self: Arc<Self>,
        input_handle: Arc<dyn BytesPartialDecoderTraits>,
        decoded_representation: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<Arc<dyn BytesPartialDecoderTraits>, CodecError> {
        Ok(Arc::new(CodecPartialDefault::new_bytes(
            input_handle,
            *decoded_representation,
            self.into_dyn(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_follow_bytes_in_every_index_chain() {
        let mut doc: Map<String, Value> = serde_json::from_str(
            r#"{"codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[2],
            "codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[1],
              "codecs":[{"name":"bytes"}],"index_codecs":[{"name":"bytes"}]}}],
            "index_codecs":[{"name":"bytes","configuration":{"endian":"big"}},{"name":"crc32c"}]}}]}"#,
        )
        .unwrap();
        insert_checks(&mut doc);
        let outer = &doc["codecs"][0]["configuration"];
        assert_eq!(outer["index_codecs"][1]["name"], NAME);
        assert_eq!(outer["index_codecs"][1]["configuration"]["endian"], "big");
        assert_eq!(outer["index_codecs"][2]["name"], "crc32c");
        let inner = &outer["codecs"][0]["configuration"]["index_codecs"];
        assert_eq!(inner[1]["configuration"]["endian"], "little");
    }

    #[test]
    fn entries_whose_end_overflows_are_corrupt() {
        let check = IndexCheck { big_endian: false };
        let entry = |offset: u64, size: u64| {
            let mut bytes = offset.to_le_bytes().to_vec();
            bytes.extend_from_slice(&size.to_le_bytes());
            bytes
        };
        assert!(check.check(&entry(u64::MAX, u64::MAX)).is_ok());
        assert!(check.check(&entry(10, 4)).is_ok());
        assert!(check.check(&entry(u64::MAX - 1, 4)).is_err());
        assert!(check.check(&entry(4, u64::MAX)).is_err());
        assert!(check.check(&[0; 15]).is_err());
    }
}
