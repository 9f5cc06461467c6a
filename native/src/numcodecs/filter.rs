//! numcodecs' filters (Zarr v2 `filters`, zarr-python's `numcodecs.<id>` array-to-array codecs
//! in Zarr v3) as zarrs array-to-array codecs.
//!
//! numcodecs flattens a chunk, views its bytes as the filter's own dtype and returns an array of
//! its `astype`; here the chunk's elements arrive in native byte order as zarrs' data type, whose
//! size must agree with the filter's dtype, and leave as the data type of what the filter
//! encodes to. Decoding produces exactly the chunk's element count (the output's size is fixed by
//! the chunk, never by the stored bytes), and the encoded length is checked before it is read.
//! Filters are not element-wise (delta's elements depend on all before them, packbits reshapes),
//! so part of a chunk is read by decoding the whole chunk.

use std::num::NonZeroU64;
use std::sync::Arc;

use zarrs::array::codec::api::{
    ArrayBytes, ArrayCodecTraits, ArrayPartialDecoderTraits, ArrayToArrayCodecTraits, Codec,
    CodecError, CodecOptions, RecommendedConcurrency,
};
use zarrs::array::{ArraySubset, ChunkShape, DataType, FillValue, Indexer};
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;
use zarrs::storage::StorageError;

/// One numcodecs filter: how a chunk's elements encode and decode.
pub(super) trait Filter: std::fmt::Debug + Send + Sync + Sized + 'static {
    /// The numcodecs id (the Zarr v2 name; `numcodecs.<id>` in Zarr v3).
    const ID: &'static str;
    fn from_configuration(configuration: &Configuration) -> Result<Self, PluginCreateError>;
    fn configuration(&self) -> Configuration;
    /// The data type of the encoded elements, given that of the decoded ones (refused if the
    /// filter cannot take it).
    fn encoded_data_type(&self, decoded: &DataType) -> Result<DataType, CodecError>;
    /// Whether the filter flattens the chunk into another number of elements.
    const RESHAPES: bool = false;
    /// The encoded shape: the chunk's own unless the filter reshapes it.
    fn encoded_shape(&self, decoded: &[NonZeroU64]) -> Result<ChunkShape, CodecError> {
        Ok(decoded.to_vec())
    }
    /// Encode `elements` elements of `data_type` (native order).
    fn encode(&self, decoded: &[u8], data_type: &DataType) -> Result<Vec<u8>, CodecError>;
    /// Decode into exactly `elements` elements of `data_type`.
    fn decode(
        &self,
        encoded: &[u8],
        data_type: &DataType,
        elements: u64,
    ) -> Result<Vec<u8>, CodecError>;
    /// The fill value the encoded chunk has where the decoded one has `fill`.
    fn encoded_fill_value(&self, fill: &[u8], data_type: &DataType) -> Result<Vec<u8>, CodecError> {
        self.encode(fill, data_type)
    }
}

/// A numcodecs filter as a zarrs array-to-array codec.
#[derive(Debug)]
pub(super) struct NumcodecFilter<F: Filter>(pub F);

pub(super) fn create<F: Filter>(configuration: &Configuration) -> Result<Codec, PluginCreateError> {
    let filter = F::from_configuration(configuration)?;
    Ok(Codec::ArrayToArray(Arc::new(NumcodecFilter(filter))))
}

/// A required string field of a filter's configuration.
pub(super) fn config_str<'a>(
    codec: &str,
    configuration: &'a Configuration,
    key: &str,
) -> Result<&'a str, PluginCreateError> {
    configuration
        .get(key)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            PluginCreateError::Other(format!("numcodecs {codec} needs a string {key:?}"))
        })
}

/// The number of elements of a chunk of `shape`.
pub(super) fn element_count(shape: &[NonZeroU64]) -> u64 {
    shape.iter().map(|d| d.get()).product()
}

/// Check that `encoded` holds `elements` elements of `size` bytes.
pub(super) fn check_len(
    codec: &str,
    encoded: &[u8],
    elements: u64,
    size: usize,
) -> Result<(), CodecError> {
    if encoded.len() as u64 == elements * size as u64 {
        Ok(())
    } else {
        Err(CodecError::Other(format!(
            "numcodecs {codec}: {} encoded bytes for {elements} elements of {size} bytes",
            encoded.len()
        )))
    }
}

super::named_whole_chunk_codec!(NumcodecFilter, Filter);

impl<F: Filter> ArrayCodecTraits for NumcodecFilter<F> {
    fn recommended_concurrency(
        &self,
        _: &[NonZeroU64],
        _: &DataType,
    ) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }
}

impl<F: Filter> ArrayToArrayCodecTraits for NumcodecFilter<F> {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn ArrayToArrayCodecTraits> {
        self
    }

    fn encoded_data_type(&self, decoded_data_type: &DataType) -> Result<DataType, CodecError> {
        self.0.encoded_data_type(decoded_data_type)
    }

    fn encoded_shape(&self, decoded_shape: &[NonZeroU64]) -> Result<ChunkShape, CodecError> {
        self.0.encoded_shape(decoded_shape)
    }

    fn decoded_shape(
        &self,
        encoded_shape: &[NonZeroU64],
    ) -> Result<Option<ChunkShape>, CodecError> {
        Ok((!F::RESHAPES).then(|| encoded_shape.to_vec()))
    }

    fn encoded_fill_value(
        &self,
        decoded_data_type: &DataType,
        decoded_fill_value: &FillValue,
    ) -> Result<FillValue, CodecError> {
        let fill = self
            .0
            .encoded_fill_value(decoded_fill_value.as_ne_bytes(), decoded_data_type)?;
        Ok(FillValue::new(fill))
    }

    fn encode<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        _shape: &[NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> Result<ArrayBytes<'a>, CodecError> {
        let bytes = bytes.into_fixed()?;
        Ok(self.0.encode(&bytes, data_type)?.into())
    }

    fn decode<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        shape: &[NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> Result<ArrayBytes<'a>, CodecError> {
        let bytes = bytes.into_fixed()?;
        Ok(self
            .0
            .decode(&bytes, data_type, element_count(shape))?
            .into())
    }

    fn partial_decoder(
        self: Arc<Self>,
        input: Arc<dyn ArrayPartialDecoderTraits>,
        shape: &[NonZeroU64],
        data_type: &DataType,
        fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> Result<Arc<dyn ArrayPartialDecoderTraits>, CodecError> {
        let encoded_shape = self.encoded_shape(shape)?;
        Ok(Arc::new(WholeChunkDecoder {
            input,
            codec: self,
            shape: shape.to_vec(),
            encoded_shape: encoded_shape.iter().map(|d| d.get()).collect(),
            data_type: data_type.clone(),
            fill_value: fill_value.clone(),
        }))
    }
}

/// Reads part of a chunk by decoding all of it.
struct WholeChunkDecoder<F: Filter> {
    input: Arc<dyn ArrayPartialDecoderTraits>,
    codec: Arc<NumcodecFilter<F>>,
    shape: ChunkShape,
    encoded_shape: Vec<u64>,
    data_type: DataType,
    fill_value: FillValue,
}

impl<F: Filter> ArrayPartialDecoderTraits for WholeChunkDecoder<F> {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn exists(&self) -> Result<bool, StorageError> {
        self.input.exists()
    }

    fn size_held(&self) -> usize {
        self.input.size_held()
    }

    fn partial_decode(
        &self,
        indexer: &dyn Indexer,
        options: &CodecOptions,
    ) -> Result<ArrayBytes<'_>, CodecError> {
        if !self.input.exists()? {
            // A missing chunk is the fill value, which need not survive encoding (a delta
            // chunk of fill values is no run of encoded fill values).
            return Ok(ArrayBytes::new_fill_value(
                &self.data_type,
                indexer.len(),
                &self.fill_value,
            )?);
        }
        let whole = ArraySubset::new_with_shape(self.encoded_shape.clone());
        let encoded = self.input.partial_decode(&whole, options)?;
        let decoded = self.codec.decode(
            encoded,
            &self.shape,
            &self.data_type,
            &self.fill_value,
            options,
        )?;
        let shape: Vec<u64> = self.shape.iter().map(|d| d.get()).collect();
        Ok(decoded
            .extract_array_subset(indexer, &shape, &self.data_type)?
            .into_owned())
    }

    fn supports_partial_decode(&self) -> bool {
        false
    }
}
