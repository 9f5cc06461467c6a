//! The parts of an array's `sharding_indexed` configuration that zarrlib's own shard encoding
//! (`shard_encode`) and inner-chunk reading (`shard_decode`) work from, read once per handle.

use std::num::NonZeroU64;
use std::sync::Arc;

use serde_json::Value;
use zarrs::array::CodecChain;
use zarrs::metadata::v3::{ArrayMetadataV3, MetadataV3};

/// The inner chunk shape, the inner and index codec chains and where the index sits, of an
/// array whose only codec is `sharding_indexed`.
pub(super) struct ShardCodecs {
    pub inner_shape: Vec<NonZeroU64>,
    pub inner_codecs: Arc<CodecChain>,
    /// Built from the document zarrs was given, so it carries zarrlib's index check
    /// (`shard_index`) as zarrs' own chain does.
    pub index_codecs: CodecChain,
    pub index_at_start: bool,
}

impl ShardCodecs {
    /// The codecs of an array whose only codec is `sharding_indexed`, stored under its chunk
    /// keys as it is (no storage transformers); `None` for any other array, or a configuration
    /// zarrlib does not take (zarrs' codec then encodes and decodes).
    pub fn of(v3: &ArrayMetadataV3) -> Option<Self> {
        let [codec] = v3.codecs.as_slice() else {
            return None;
        };
        if codec.name() != "sharding_indexed" || !v3.storage_transformers.is_empty() {
            return None;
        }
        let configuration = serde_json::to_value(codec.configuration()?).ok()?;
        let inner_shape = configuration
            .get("chunk_shape")?
            .as_array()?
            .iter()
            .map(|n| n.as_u64().and_then(NonZeroU64::new))
            .collect::<Option<Vec<_>>>()?;
        let chain = |key: &str| -> Option<CodecChain> {
            let list: Vec<MetadataV3> =
                serde_json::from_value(configuration.get(key)?.clone()).ok()?;
            CodecChain::from_metadata(&list).ok()
        };
        let index_at_start = match configuration.get("index_location") {
            None => false,
            Some(Value::String(place)) if place == "end" => false,
            Some(Value::String(place)) if place == "start" => true,
            Some(_) => return None,
        };
        Some(Self {
            inner_shape,
            inner_codecs: Arc::new(chain("codecs")?),
            index_codecs: chain("index_codecs")?,
            index_at_start,
        })
    }
}
