//! Zarr v2 blosc chunks decoded within bounds.
//!
//! zarrs builds a v2 array's blosc compressor itself (it needs the data type's size), not
//! through the codec registry that holds zarrlib's bounded codecs (src/codecs.rs), so a v2 blosc
//! header announcing 2 GiB made it allocate that much for a chunk of a few bytes (found by
//! fuzzing, tests/fuzz). In the document zarrs is given, zarrlib renames a v2 blosc compressor
//! to a private id that carries the element size; its plugin builds the codec zarrs would have
//! built, bounded. What zarrlib stores and returns stays the caller's document, and the encoded
//! bytes are the same.

use std::sync::Arc;

use serde_json::{Map, Value};
use zarrs::array::codec::api::{Codec, CodecRuntimePluginV2, register_codec_v2};
use zarrs::array::codec::{BloscCodec, BloscCodecConfigurationNumcodecs};
use zarrs::metadata::DataTypeSize;
use zarrs::metadata::v2::MetadataV2;
use zarrs::metadata_ext::codec::blosc::codec_blosc_v2_numcodecs_to_v3;
use zarrs::plugin::PluginCreateError;

/// The private id; not a numcodecs codec, never stored.
const NAME: &str = "zarrlib.blosc_v2";
/// The element size in bytes, absent for a variable-length data type.
const ELEMENT_SIZE: &str = "zarrlib_element_size";

/// Register the plugin with zarrs (called once by `codecs::register`).
pub(crate) fn register() {
    // The handle would unregister it: it stays for the life of the process.
    let _ = register_codec_v2(CodecRuntimePluginV2::new(|name| name == NAME, create));
}

fn create(metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
    let mut configuration = Map::from(metadata.configuration().clone());
    let size = match configuration.remove(ELEMENT_SIZE).and_then(|v| v.as_u64()) {
        Some(size) => DataTypeSize::Fixed(
            usize::try_from(size).map_err(|err| PluginCreateError::Other(err.to_string()))?,
        ),
        None => DataTypeSize::Variable,
    };
    let blosc: BloscCodecConfigurationNumcodecs =
        serde_json::from_value(Value::Object(configuration))
            .map_err(|err| PluginCreateError::Other(format!("blosc compressor: {err}")))?;
    let codec =
        BloscCodec::new_with_configuration(&codec_blosc_v2_numcodecs_to_v3(&blosc, Some(size)))?;
    Ok(crate::codecs::bounded_blosc(Arc::new(codec)))
}

/// Whether `doc`, a Zarr v2 array document, has a blosc compressor.
pub(crate) fn has_blosc(doc: &Map<String, Value>) -> bool {
    doc.get("compressor")
        .and_then(|c| c.get("id"))
        .and_then(Value::as_str)
        == Some("blosc")
}

/// Make the blosc compressor of `doc` (a Zarr v2 array document about to be given to zarrs)
/// zarrlib's bounded one, for elements of `element_size` bytes (`None`: variable-length).
pub(crate) fn insert_bound(doc: &mut Map<String, Value>, element_size: Option<usize>) {
    if !has_blosc(doc) {
        return;
    }
    if let Some(Value::Object(compressor)) = doc.get_mut("compressor") {
        compressor.insert("id".into(), NAME.into());
        if let Some(size) = element_size {
            compressor.insert(ELEMENT_SIZE.into(), size.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use zarrs::storage::{StoreKey, WritableStorageTraits};

    use crate::array::{ArrayHandle, create_array};
    use crate::error::ErrorKind;
    use crate::store::Store;

    const V2_BLOSC: &str = r#"{"zarr_format":2,"shape":[7,5],"chunks":[3,2],"dtype":"<u2",
        "fill_value":0,"order":"C","filters":null,
        "compressor":{"id":"blosc","cname":"lz4","clevel":5,"shuffle":1,"blocksize":0}}"#;

    #[test]
    fn a_v2_blosc_header_claiming_more_than_the_chunk_is_corrupt() {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        create_array(&store, "a", V2_BLOSC, false).unwrap();
        let array = ArrayHandle::open(store.clone(), "a").unwrap();
        // version 2, lz4, flags, typesize 2, nbytes 2^30, blocksize, cbytes = 32.
        let mut header = vec![2u8, 1, 0x01, 2];
        header.extend_from_slice(&(1u32 << 30).to_le_bytes());
        header.extend_from_slice(&4096u32.to_le_bytes());
        header.extend_from_slice(&32u32.to_le_bytes());
        header.resize(32, 0);
        let key = StoreKey::new("a/0.0").unwrap();
        store.storage.set(&key, header.into()).unwrap();
        let mut out = [0u8; 12];
        let err = array.read_chunk(&[0, 0], &mut out).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
        assert!(
            err.message.contains("more than the 12 bytes"),
            "{}",
            err.message
        );
    }

    #[test]
    fn v2_blosc_still_round_trips_and_keeps_its_document() {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        create_array(&store, "a", V2_BLOSC, false).unwrap();
        let array = ArrayHandle::open(store.clone(), "a").unwrap();
        let data: Vec<u8> = (0..70).collect();
        array.write_region(&[0, 0], &[7, 5], &data).unwrap();
        let mut out = vec![0u8; 70];
        array.read_region(&[0, 0], &[7, 5], &mut out).unwrap();
        assert_eq!(out, data);
        let stored = crate::node::metadata_json(&store, "a").unwrap();
        assert!(stored.contains(r#""id":"blosc""#), "{stored}");
        assert!(!stored.contains("zarrlib"), "{stored}");
    }
}
