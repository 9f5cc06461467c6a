//! Checks of a metadata document that zarrs leaves to the first read or write, made when an
//! array is created or opened, so a bad document is `InvalidMetadata` up front rather than a
//! panic, an overflow or corrupt data later.

use std::borrow::Cow;

use serde_json::{Map, Value};
use zarrs::array::data_type::api::codec_traits::bytes::BytesDataTypeExt;

use super::ZarrsArray;
use crate::error::{Error, Result};

/// Check `doc`, from which `array` was built.
pub(super) fn check(array: &ZarrsArray, doc: &Map<String, Value>) -> Result<()> {
    let ndim = array.dimensionality();
    if let Ok(shape) = array.chunk_shape(&vec![0; ndim]) {
        let shape: Vec<u64> = shape.iter().map(|d| d.get()).collect();
        check_chunk_bytes(&shape, array.data_type().fixed_size().unwrap_or(1))?;
        check_grid_ends(array.chunk_grid_shape(), &shape)?;
        if let Some(codecs) = doc.get("codecs").and_then(Value::as_array) {
            check_codecs(codecs, &shape, endian_size(array))?;
        }
    }
    Ok(())
}

/// The element size of a data type that has a byte order: one the bytes codec cannot store
/// without an `endian` (multi-byte numbers do; raw bits, fixed-width bytes and variable-length
/// types do not).
fn endian_size(array: &ZarrsArray) -> Option<usize> {
    let data_type = array.data_type();
    let needs_endian = data_type
        .codec_bytes()
        .is_ok_and(|bytes| bytes.encode(Cow::Borrowed(&[]), None).is_err());
    data_type.fixed_size().filter(|_| needs_endian)
}

/// A chunk must fit in memory this machine can address: zarrs computes its size unchecked.
fn check_chunk_bytes(shape: &[u64], element_size: usize) -> Result<()> {
    let bytes = shape
        .iter()
        .try_fold(element_size as u64, |acc, &d| acc.checked_mul(d))
        .filter(|&n| isize::try_from(n).is_ok());
    if bytes.is_none() {
        return Err(Error::invalid_metadata(format!(
            "a chunk of shape {shape:?} with {element_size}-byte elements is larger than this machine can address"
        )));
    }
    Ok(())
}

/// Every chunk of a regular grid must end within 2^64: zarrs computes where a chunk ends
/// (start plus chunk extent, even for the last chunk, which the array's shape cuts short)
/// unchecked, and a last chunk reaching past 2^64 wraps around and reads or writes the wrong
/// elements.
fn check_grid_ends(grid_shape: &[u64], chunk_shape: &[u64]) -> Result<()> {
    for (axis, (&chunks, &extent)) in grid_shape.iter().zip(chunk_shape).enumerate() {
        if chunks.checked_mul(extent).is_none() {
            return Err(Error::invalid_metadata(format!(
                "the last chunk on axis {axis} ({chunks} chunks of {extent}) ends past 2^64 elements"
            )));
        }
    }
    Ok(())
}

fn configuration(codec: &Value) -> Option<&Map<String, Value>> {
    codec.get("configuration").and_then(Value::as_object)
}

fn u64_list(value: Option<&Value>) -> Option<Vec<u64>> {
    value?.as_array()?.iter().map(Value::as_u64).collect()
}

/// Check a codec list applied to chunks of `shape` of elements of `element_size` bytes, where
/// the data type has a byte order.
fn check_codecs(codecs: &[Value], shape: &[u64], element_size: Option<usize>) -> Result<()> {
    for codec in codecs {
        let name = match codec {
            Value::String(name) => name.as_str(),
            _ => codec
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        };
        let config = configuration(codec);
        match name {
            "transpose" => check_transpose(config, shape.len())?,
            "bytes"
                if element_size.is_some_and(|size| size > 1)
                    && config.and_then(|c| c.get("endian")).is_none() =>
            {
                return Err(Error::invalid_metadata(
                    "the bytes codec needs an \"endian\" for data types of more than one byte",
                ));
            }
            "sharding_indexed" => check_sharding(config, shape, element_size)?,
            _ => {}
        }
    }
    Ok(())
}

fn check_transpose(config: Option<&Map<String, Value>>, ndim: usize) -> Result<()> {
    let order = u64_list(config.and_then(|c| c.get("order")));
    let mut sorted = order.clone().unwrap_or_default();
    sorted.sort_unstable();
    if sorted != (0..ndim as u64).collect::<Vec<_>>() {
        return Err(Error::invalid_metadata(format!(
            "the transpose codec's order {order:?} is not a permutation of the array's {ndim} axes"
        )));
    }
    Ok(())
}

fn check_sharding(
    config: Option<&Map<String, Value>>,
    shard: &[u64],
    element_size: Option<usize>,
) -> Result<()> {
    let inner = u64_list(config.and_then(|c| c.get("chunk_shape")));
    let Some(inner) = inner.filter(|inner| inner.len() == shard.len()) else {
        return Err(Error::invalid_metadata(format!(
            "the sharding codec's chunk_shape must have {} positive integers, one per axis",
            shard.len()
        )));
    };
    if std::iter::zip(&inner, shard).any(|(&i, &s)| i == 0 || s % i != 0) {
        return Err(Error::invalid_metadata(format!(
            "the sharding codec's chunk_shape {inner:?} does not divide the shard shape {shard:?}"
        )));
    }
    // The index is a fixed-size table: only fixed-size codecs may encode it.
    let index_codecs = config
        .and_then(|c| c.get("index_codecs"))
        .and_then(Value::as_array);
    for codec in index_codecs.into_iter().flatten() {
        let name = codec
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(name, "bytes" | "crc32c") {
            return Err(Error::invalid_metadata(format!(
                "the sharding codec's index_codecs may hold only bytes and crc32c, not {name:?}"
            )));
        }
    }
    let codecs = config
        .and_then(|c| c.get("codecs"))
        .and_then(Value::as_array);
    check_codecs(codecs.map_or(&[][..], Vec::as_slice), &inner, element_size)
}
