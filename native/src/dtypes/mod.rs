//! Data types zarr-python writes that zarrs 0.23 does not read as they are: registered with
//! zarrs' data type registry (`|S<n>` / `null_terminated_bytes`, `raw_bytes`, Zarr v2 datetimes,
//! Zarr v3 records: `struct` / `structured`), or rewritten
//! in a Zarr v2 document before zarrs parses it (structured dtypes as raw bits, `null` fill
//! values zarrs refuses). The caller's document is kept as it was; only zarrs sees the rewrite.

mod bytes;
mod datetime;
mod records;
mod structured;

use std::sync::Once;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use serde_json::{Map, Value};
use zarrs::array::data_type::api::{
    DataTypeRuntimePluginV2, DataTypeRuntimePluginV3, register_data_type_v2, register_data_type_v3,
};
use zarrs::metadata::v2::DataTypeMetadataV2;

use crate::error::Result;

/// Register the data types, once per process, before the first array is built.
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The handles would unregister them: these stay for the life of the process.
        let _ = register_data_type_v2(DataTypeRuntimePluginV2::new(
            |name| {
                bytes::NullTerminatedBytes::from_v2_name(name).is_some()
                    || datetime::is_v2_datetime(name)
            },
            |metadata| {
                let DataTypeMetadataV2::Simple(name) = metadata else {
                    unreachable!("matched by a simple name")
                };
                bytes::NullTerminatedBytes::from_v2_name(name)
                    .or_else(|| datetime::from_v2_name(name))
                    .unwrap_or_else(|| Err(unsupported(name)))
            },
        ));
        let _ = register_data_type_v3(DataTypeRuntimePluginV3::new(
            |name| name == bytes::V3_NAME || name == bytes::RAW_V3_NAME,
            |metadata| {
                bytes::NullTerminatedBytes::from_v3_configuration(
                    metadata.configuration(),
                    metadata.name() == bytes::RAW_V3_NAME,
                )
            },
        ));
        let _ = register_data_type_v3(DataTypeRuntimePluginV3::new(
            |name| name == records::STRUCT || name == records::STRUCTURED,
            records::Record::from_v3,
        ));
    });
}

fn unsupported(name: &str) -> zarrs::plugin::PluginCreateError {
    zarrs::plugin::PluginUnsupportedError::new(name.to_owned(), "data type".into()).into()
}

/// The forms a v2 document's `dtype`, `compressor` and `filters` must have, checked here so that
/// a wrong one is named rather than left to serde's messages about zarrs' types.
fn check_v2_shapes(doc: &Map<String, Value>) -> Result<()> {
    let codec = |value: &Value| value.get("id").is_some_and(Value::is_string);
    let problem = if !matches!(doc.get("dtype"), Some(Value::String(_) | Value::Array(_))) {
        "dtype must be a numpy type string or a list of [name, dtype] fields"
    } else if !doc
        .get("compressor")
        .is_none_or(|c| c.is_null() || codec(c))
    {
        "compressor must be null or a codec object with a string \"id\""
    } else if !doc
        .get("filters")
        .is_none_or(|f| f.is_null() || f.as_array().is_some_and(|list| list.iter().all(codec)))
    {
        "filters must be null or a list of codec objects with a string \"id\""
    } else {
        return Ok(());
    };
    Err(crate::error::Error::invalid_metadata(format!(
        "the Zarr v2 {problem}"
    )))
}

/// Rewrite a Zarr v2 document for zarrs: a structured `dtype` becomes raw bits of its record
/// size, and a `null` fill value becomes what zarr-python reads for it where zarrs refuses
/// `null` (zero for complex numbers, the empty string, NaT, zero bytes for raw bits).
pub fn prepare_v2(doc: &mut Map<String, Value>) -> Result<()> {
    check_v2_shapes(doc)?;
    // zarrs builds an `F` order's transpose from an empty axis order for a 0-d array, which its
    // unchecked constructor takes as undefined behaviour (debug builds abort). With no axes the
    // two orders are the same.
    if doc
        .get("shape")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        doc.insert("order".into(), "C".into());
    }
    if let Some(Value::Array(fields)) = doc.get("dtype") {
        let size = structured::record_size(fields)?;
        doc.insert("dtype".into(), format!("|V{size}").into());
        if let Some(Value::String(fill)) = doc.get("fill_value") {
            // zarr-python writes a record's fill value as base64; raw bits take it as bytes.
            if let Ok(bytes) = BASE64_STANDARD.decode(fill) {
                doc.insert("fill_value".into(), bytes.into());
            }
        }
    }
    if doc.get("fill_value") != Some(&Value::Null) {
        return Ok(());
    }
    let dtype = doc.get("dtype").and_then(Value::as_str).unwrap_or_default();
    let code = dtype.trim_start_matches(['<', '>', '|', '=']);
    let fill = if code.starts_with('c') {
        serde_json::json!([0.0, 0.0])
    } else if code.starts_with('U') {
        Value::from("")
    } else if datetime::is_v2_datetime(dtype) {
        Value::from("NaT")
    } else if let Some(size) = code.strip_prefix('V').and_then(|n| n.parse::<usize>().ok()) {
        Value::from(vec![0u8; size])
    } else {
        return Ok(());
    };
    doc.insert("fill_value".into(), fill);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(doc: Value) -> Result<Map<String, Value>> {
        let Value::Object(mut doc) = doc else {
            unreachable!("an object")
        };
        prepare_v2(&mut doc).map(|()| doc)
    }

    fn v2(dtype: Value, fill: Value) -> Value {
        serde_json::json!({"zarr_format": 2, "shape": [4], "chunks": [2], "dtype": dtype,
            "compressor": null, "filters": null, "fill_value": fill, "order": "C"})
    }

    #[test]
    fn structured_dtypes_become_raw_bits_and_null_fills_defaults() {
        let doc = prepared(v2(
            serde_json::json!([["a", "<i4"], ["b", "|u1"]]),
            "AQAAAAI=".into(),
        ));
        let doc = doc.unwrap();
        assert_eq!(doc["dtype"], "|V5");
        assert_eq!(doc["fill_value"], serde_json::json!([1, 0, 0, 0, 2]));
        let null =
            |dtype: &str| prepared(v2(dtype.into(), Value::Null)).unwrap()["fill_value"].clone();
        assert_eq!(null("<c8"), serde_json::json!([0.0, 0.0]));
        assert_eq!(null("<U3"), "");
        assert_eq!(null("<M8[ns]"), "NaT");
        assert_eq!(null("|V2"), serde_json::json!([0, 0]));
        assert_eq!(null("<i4"), Value::Null);
        let bad = prepared(v2(5.into(), Value::Null)).unwrap_err();
        assert!(bad.message.contains("dtype"), "{}", bad.message);
    }

    #[test]
    fn zero_dimensional_arrays_take_c_order() {
        let mut doc = v2("<i4".into(), 0.into());
        doc["shape"] = serde_json::json!([]);
        doc["chunks"] = serde_json::json!([]);
        doc["order"] = "F".into();
        assert_eq!(prepared(doc).unwrap()["order"], "C");
    }
}
