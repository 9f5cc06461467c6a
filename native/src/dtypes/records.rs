//! Zarr v3 records (numpy structured dtypes) in both forms zarr-python writes:
//! - zarr-python 3.1: `{"name": "structured", "configuration": {"fields": [["a", "int32"], ...]}}`,
//!   a base64 fill value (the record's bytes) and a `bytes` codec without `endian`;
//! - zarr-python 3.2 and later: `{"name": "struct", "configuration": {"fields": [{"name": "a",
//!   "data_type": "int32"}, ...]}}` (the zarr-extensions `struct` type), a fill value per field
//!   (`{"a": 7, "b": "NaN"}`; base64 still read) and a `bytes` codec with `endian`.
//!
//! Each element is the record's bytes, fields packed in order as numpy packs them, each field in
//! this machine's byte order (Python views the bytes as the structured dtype). Fields are read
//! as zarrs' data types (so their fill values are read and written as zarrs does it), nested
//! records included. The `bytes` codec reverses multi-byte fields component by component when
//! the stored order is not this machine's; a codec without `endian` stores little-endian, as
//! zarr-python 3.4 reads it and as 3.1 wrote it on little-endian machines.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use serde_json::Value;
use zarrs::array::data_type::api::codec_traits::bytes::{
    BytesCodecEndiannessMissingError, BytesDataTypePlugin, BytesDataTypeTraits,
};
use zarrs::array::data_type::api::{DataTypeFillValueError, DataTypeFillValueMetadataError};
use zarrs::array::{
    DataType, DataTypeSize, DataTypeTraits, Endianness, FillValue, FillValueMetadata,
};
use zarrs::metadata::Configuration;
use zarrs::metadata::v3::MetadataV3;
use zarrs::plugin::{ExtensionName, PluginCreateError, PluginUnsupportedError, ZarrVersion};

/// zarr-python 3.2 and later (and the zarr-extensions specification).
pub(super) const STRUCT: &str = "struct";
/// zarr-python 3.1.
pub(super) const STRUCTURED: &str = "structured";

/// How deep records may nest: far beyond any real schema, and a bound on the recursion that
/// building the fields' types makes.
const MAX_DEPTH: usize = 32;

#[derive(Debug)]
struct Field {
    name: String,
    data_type: DataType,
    offset: usize,
    size: usize,
}

/// A run of `count` multi-byte components of `component` bytes from `offset` in the record:
/// the bytes that reverse between byte orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Swap {
    offset: usize,
    component: usize,
    count: usize,
}

#[derive(Debug)]
pub(super) struct Record {
    /// `struct` or `structured`, as the document named it: written back the same way.
    name: &'static str,
    /// The configuration as the document gave it (written back unchanged).
    configuration: Configuration,
    fields: Vec<Field>,
    size: usize,
    swaps: Vec<Swap>,
}

fn invalid(message: String) -> PluginCreateError {
    PluginCreateError::Other(message)
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The size of the components whose bytes a field's type reverses between byte orders (1 for
/// types without one), or None for a type zarrlib does not carry inside a record.
fn component_size(data_type: &DataType) -> Option<usize> {
    let name = data_type.name_v3()?;
    Some(match name.as_ref() {
        "bool" | "int8" | "uint8" | "null_terminated_bytes" | "raw_bytes" => 1,
        "int16" | "uint16" | "float16" => 2,
        "int32" | "uint32" | "float32" | "complex64" | "fixed_length_utf32" => 4,
        "int64" | "uint64" | "float64" | "complex128" | "numpy.datetime64"
        | "numpy.timedelta64" => 8,
        raw if raw
            .strip_prefix('r')
            .is_some_and(|bits| bits.parse::<u64>().is_ok()) =>
        {
            1
        }
        _ => return None,
    })
}

impl Record {
    /// The record type of a Zarr v3 `struct` or `structured` data type.
    pub fn from_v3(metadata: &MetadataV3) -> Result<DataType, PluginCreateError> {
        let name = if metadata.name() == STRUCT {
            STRUCT
        } else {
            STRUCTURED
        };
        let configuration = metadata.configuration().cloned().unwrap_or_default();
        let config_value = Value::Object(configuration.clone().into());
        if depth(&config_value) > 3 * MAX_DEPTH {
            return Err(invalid(format!(
                "the {name} data type nests records more than {MAX_DEPTH} deep"
            )));
        }
        if let Some(key) = configuration.keys().find(|k| *k != "fields") {
            return Err(invalid(format!(
                "the {name} data type's configuration has an unknown key {key:?}"
            )));
        }
        let Some(Value::Array(listed)) = configuration.get("fields") else {
            return Err(invalid(format!(
                "the {name} data type's configuration needs a list of \"fields\""
            )));
        };
        if listed.is_empty() {
            return Err(invalid(format!("the {name} data type needs fields")));
        }
        let mut fields: Vec<Field> = Vec::with_capacity(listed.len());
        let mut swaps = Vec::new();
        let mut offset = 0usize;
        for field in listed {
            let (field_name, field_type) = parse_field(name, field)?;
            if fields.iter().any(|f| f.name == field_name) {
                return Err(invalid(format!(
                    "the {name} data type has two fields named {field_name:?}"
                )));
            }
            let data_type = field_data_type(field_name, field_type)?;
            let unsupported = || {
                PluginCreateError::from(PluginUnsupportedError::new(
                    format!("{field_type} (field {field_name:?} of a {name} data type)"),
                    "data type".into(),
                ))
            };
            let size = data_type.fixed_size().ok_or_else(unsupported)?;
            if let Some(nested) = data_type.downcast_ref::<Record>() {
                swaps.extend(nested.swaps.iter().map(|s| Swap {
                    offset: s.offset + offset,
                    ..*s
                }));
            } else {
                let component = component_size(&data_type).ok_or_else(unsupported)?;
                if component > 1 {
                    swaps.push(Swap {
                        offset,
                        component,
                        count: size / component,
                    });
                }
            }
            fields.push(Field {
                name: field_name.to_owned(),
                data_type,
                offset,
                size,
            });
            offset = offset
                .checked_add(size)
                .filter(|&n| isize::try_from(n).is_ok())
                .ok_or_else(|| invalid(format!("the {name} data type is too large")))?;
        }
        Ok(Arc::new(Self {
            name,
            configuration,
            fields,
            size: offset,
            swaps: merge(swaps),
        })
        .into())
    }

    /// `bytes`' records in byte order `from` put in byte order `to` (the same operation both
    /// ways: reversing each multi-byte component).
    fn reorder<'a>(&self, bytes: Cow<'a, [u8]>, from: Endianness, to: Endianness) -> Cow<'a, [u8]> {
        if from == to || self.swaps.is_empty() {
            return bytes;
        }
        let mut owned = bytes.into_owned();
        for record in owned.chunks_exact_mut(self.size) {
            for swap in &self.swaps {
                let run = &mut record[swap.offset..swap.offset + swap.component * swap.count];
                for component in run.chunks_exact_mut(swap.component) {
                    component.reverse();
                }
            }
        }
        Cow::Owned(owned)
    }
}

/// Adjacent runs of the same component size as one run (fewer, longer loops per record).
fn merge(swaps: Vec<Swap>) -> Vec<Swap> {
    let mut merged: Vec<Swap> = Vec::with_capacity(swaps.len());
    for swap in swaps {
        match merged.last_mut() {
            Some(last)
                if last.component == swap.component
                    && last.offset + last.component * last.count == swap.offset =>
            {
                last.count += swap.count;
            }
            _ => merged.push(swap),
        }
    }
    merged
}

/// A field's name and data type document: `{"name": n, "data_type": t}` (`struct`) or
/// `[n, t]` (`structured`); zarr-python 3.4 reads either under both names, and so does zarrlib.
fn parse_field<'a>(
    name: &str,
    field: &'a Value,
) -> Result<(&'a str, &'a Value), PluginCreateError> {
    let parsed = match field {
        Value::Object(map) if map.len() == 2 => map
            .get("name")
            .and_then(Value::as_str)
            .zip(map.get("data_type")),
        Value::Array(pair) => match pair.as_slice() {
            [Value::String(n), t] => Some((n.as_str(), t)),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| {
        invalid(format!(
            "a {name} data type's field must be {{\"name\": ..., \"data_type\": ...}} or [name, data_type], not {field}"
        ))
    })
}

fn field_data_type(field_name: &str, field_type: &Value) -> Result<DataType, PluginCreateError> {
    let metadata: MetadataV3 = serde_json::from_value(field_type.clone()).map_err(|_| {
        invalid(format!(
            "field {field_name:?} has data type {field_type}, which is not a Zarr v3 data type document"
        ))
    })?;
    DataType::from_metadata(&metadata).map_err(|err| match err {
        PluginCreateError::Unsupported(_) => PluginUnsupportedError::new(
            format!("{field_type} (field {field_name:?} of a record)"),
            "data type".into(),
        )
        .into(),
        other => invalid(format!("field {field_name:?}: {other}")),
    })
}

impl ExtensionName for Record {
    fn name(&self, version: ZarrVersion) -> Option<Cow<'static, str>> {
        (version != ZarrVersion::V2).then_some(Cow::Borrowed(self.name))
    }
}

impl DataTypeTraits for Record {
    fn configuration(&self, _: ZarrVersion) -> Configuration {
        self.configuration.clone()
    }

    fn size(&self) -> DataTypeSize {
        DataTypeSize::Fixed(self.size)
    }

    fn fill_value(
        &self,
        metadata: &FillValueMetadata,
        version: ZarrVersion,
    ) -> Result<FillValue, DataTypeFillValueMetadataError> {
        match metadata {
            // The record's bytes, fields little-endian (zarr-python 3.1 wrote its machine's
            // order, which 3.4 reads as little-endian; so does zarrlib).
            FillValueMetadata::String(encoded) => {
                let bytes = BASE64_STANDARD
                    .decode(encoded)
                    .map_err(|_| DataTypeFillValueMetadataError)?;
                if bytes.len() != self.size {
                    return Err(DataTypeFillValueMetadataError);
                }
                let native =
                    self.reorder(Cow::Owned(bytes), Endianness::Little, Endianness::native());
                Ok(FillValue::from(native.into_owned()))
            }
            // A value per field; a field left out is zero (zarr-python's default scalar).
            FillValueMetadata::Object(values) => {
                if values
                    .keys()
                    .any(|key| !self.fields.iter().any(|f| &f.name == key))
                {
                    return Err(DataTypeFillValueMetadataError);
                }
                let mut bytes = vec![0u8; self.size];
                for field in &self.fields {
                    let Some(value) = values.get(&field.name) else {
                        continue;
                    };
                    let fill = field.data_type.fill_value(value, version)?;
                    let fill = fill.as_ne_bytes();
                    if fill.len() != field.size {
                        return Err(DataTypeFillValueMetadataError);
                    }
                    bytes[field.offset..field.offset + field.size].copy_from_slice(fill);
                }
                Ok(FillValue::from(bytes))
            }
            _ => Err(DataTypeFillValueMetadataError),
        }
    }

    fn metadata_fill_value(
        &self,
        fill_value: &FillValue,
    ) -> Result<FillValueMetadata, DataTypeFillValueError> {
        let bytes = fill_value.as_ne_bytes();
        if bytes.len() != self.size {
            return Err(DataTypeFillValueError);
        }
        if self.name == STRUCTURED {
            let little = self.reorder(
                Cow::Borrowed(bytes),
                Endianness::native(),
                Endianness::Little,
            );
            return Ok(FillValueMetadata::from(BASE64_STANDARD.encode(little)));
        }
        let mut values = HashMap::with_capacity(self.fields.len());
        for field in &self.fields {
            let fill = FillValue::from(bytes[field.offset..field.offset + field.size].to_vec());
            values.insert(
                field.name.clone(),
                field.data_type.metadata_fill_value(&fill)?,
            );
        }
        Ok(FillValueMetadata::Object(values))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl BytesDataTypeTraits for Record {
    fn encode<'a>(
        &self,
        bytes: Cow<'a, [u8]>,
        endianness: Option<Endianness>,
    ) -> Result<Cow<'a, [u8]>, BytesCodecEndiannessMissingError> {
        let stored = endianness.unwrap_or(Endianness::Little);
        Ok(self.reorder(bytes, Endianness::native(), stored))
    }

    fn decode<'a>(
        &self,
        bytes: Cow<'a, [u8]>,
        endianness: Option<Endianness>,
    ) -> Result<Cow<'a, [u8]>, BytesCodecEndiannessMissingError> {
        let stored = endianness.unwrap_or(Endianness::Little);
        Ok(self.reorder(bytes, stored, Endianness::native()))
    }
}

// The bytes codec finds how to serialise a data type through this registration.
inventory::submit! {
    BytesDataTypePlugin {
        type_id: std::any::TypeId::of::<Record>(),
        caster: |any| any.downcast_ref::<Record>().map(|t| t as &dyn BytesDataTypeTraits),
    }
}

#[cfg(test)]
mod tests {
    use zarrs::array::data_type::api::codec_traits::bytes::BytesDataTypeExt;

    use super::*;

    fn record(data_type: Value) -> Result<DataType, PluginCreateError> {
        super::super::register();
        let metadata: MetadataV3 = serde_json::from_value(data_type).unwrap();
        DataType::from_metadata(&metadata)
    }

    fn fill(data_type: &DataType, metadata: Value) -> Option<Vec<u8>> {
        let metadata: FillValueMetadata = serde_json::from_value(metadata).unwrap();
        let fill = data_type.fill_value(&metadata, ZarrVersion::V3).ok()?;
        Some(fill.as_ne_bytes().to_vec())
    }

    /// np.dtype([("a", "<i4"), ("b", "<f8")]) as zarr-python 3.4 and 3.1 write it.
    fn both_forms() -> [DataType; 2] {
        let fields = [("a", "int32"), ("b", "float64")];
        let objects: Vec<Value> = fields
            .iter()
            .map(|(n, t)| serde_json::json!({"name": n, "data_type": t}))
            .collect();
        let pairs: Vec<Value> = fields
            .iter()
            .map(|(n, t)| serde_json::json!([n, t]))
            .collect();
        [
            record(serde_json::json!({"name": "struct", "configuration": {"fields": objects}}))
                .unwrap(),
            record(serde_json::json!({"name": "structured", "configuration": {"fields": pairs}}))
                .unwrap(),
        ]
    }

    fn native_record(a: i32, b: f64) -> Vec<u8> {
        [a.to_ne_bytes().as_slice(), b.to_ne_bytes().as_slice()].concat()
    }

    #[test]
    fn both_forms_read_as_the_packed_record() {
        for data_type in both_forms() {
            assert_eq!(data_type.fixed_size(), Some(12));
        }
        let [r#struct, structured] = both_forms();
        assert_eq!(r#struct.name_v3().as_deref(), Some("struct"));
        assert_eq!(structured.name_v3().as_deref(), Some("structured"));
        // The configuration is written back as the document gave it.
        assert_eq!(
            Value::Object(structured.configuration_v3().into()),
            serde_json::json!({"fields": [["a", "int32"], ["b", "float64"]]})
        );
        // np.dtype([("i", "i1"), ("s", "S3"), ("u", "<U2"), ("c", "<c8"), ("t", "<M8[ns]"),
        //           ("v", "V4"), ("n", [("x", "<f4"), ("y", "u1")])]).itemsize == 37
        let wide = record(serde_json::json!({"name": "struct", "configuration": {"fields": [
            {"name": "i", "data_type": "int8"},
            {"name": "s", "data_type": {"name": "null_terminated_bytes", "configuration": {"length_bytes": 3}}},
            {"name": "u", "data_type": {"name": "fixed_length_utf32", "configuration": {"length_bytes": 8}}},
            {"name": "c", "data_type": "complex64"},
            {"name": "t", "data_type": {"name": "numpy.datetime64", "configuration": {"unit": "ns", "scale_factor": 1}}},
            {"name": "v", "data_type": {"name": "raw_bytes", "configuration": {"length_bytes": 4}}},
            {"name": "n", "data_type": {"name": "structured", "configuration": {"fields": [["x", "float32"], ["y", "uint8"]]}}},
        ]}}))
        .unwrap();
        assert_eq!(wide.fixed_size(), Some(37));
    }

    #[test]
    fn fill_values_in_both_encodings() {
        let [r#struct, structured] = both_forms();
        let expected = native_record(7, f64::NAN);
        // zarr-python 3.1: the record's bytes, little-endian fields.
        let little = [
            7i32.to_le_bytes().as_slice(),
            f64::NAN.to_le_bytes().as_slice(),
        ]
        .concat();
        let base64 = Value::from(BASE64_STANDARD.encode(&little));
        for data_type in [&r#struct, &structured] {
            assert_eq!(fill(data_type, base64.clone()).unwrap(), expected);
            assert_eq!(
                fill(data_type, serde_json::json!({"a": 7, "b": "NaN"})).unwrap(),
                expected
            );
        }
        // A field left out is zero; a field the record lacks, a wrong size or type is refused.
        assert_eq!(
            fill(&r#struct, serde_json::json!({"a": 7})).unwrap(),
            native_record(7, 0.0)
        );
        assert!(fill(&r#struct, serde_json::json!({"a": 7, "z": 1})).is_none());
        assert!(fill(&r#struct, serde_json::json!({"a": "seven"})).is_none());
        assert!(fill(&r#struct, "AAAA".into()).is_none());
        assert!(fill(&r#struct, 0.into()).is_none());
        assert!(fill(&r#struct, Value::Null).is_none());
        // Written back in the form of the document: per field, or base64.
        let value = FillValue::from(expected);
        let written = serde_json::to_value(r#struct.metadata_fill_value(&value).unwrap()).unwrap();
        assert_eq!(written, serde_json::json!({"a": 7, "b": "NaN"}));
        let written =
            serde_json::to_value(structured.metadata_fill_value(&value).unwrap()).unwrap();
        assert_eq!(written, base64);
    }

    #[test]
    fn the_bytes_codec_reverses_each_multi_byte_component() {
        let data_type = record(serde_json::json!({"name": "struct", "configuration": {"fields": [
            {"name": "a", "data_type": "uint16"},
            {"name": "s", "data_type": {"name": "null_terminated_bytes", "configuration": {"length_bytes": 2}}},
            {"name": "c", "data_type": "complex64"},
            {"name": "n", "data_type": {"name": "struct", "configuration": {"fields": [
                {"name": "x", "data_type": "uint32"}]}}},
        ]}}))
        .unwrap();
        let bytes = data_type.codec_bytes().unwrap();
        let native: Vec<u8> = (0..16).collect();
        let foreign = match Endianness::native() {
            Endianness::Little => Endianness::Big,
            Endianness::Big => Endianness::Little,
        };
        let encoded = bytes
            .encode(Cow::Borrowed(&native), Some(foreign))
            .unwrap()
            .into_owned();
        assert_eq!(
            encoded,
            [1, 0, 2, 3, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12]
        );
        let decoded = bytes.decode(Cow::Owned(encoded), Some(foreign)).unwrap();
        assert_eq!(decoded.as_ref(), native.as_slice());
        assert!(matches!(
            bytes.encode(Cow::Borrowed(&native), Some(Endianness::native())),
            Ok(Cow::Borrowed(_))
        ));
        // Without `endian` (zarr-python 3.1's documents) the records are little-endian.
        let unnamed = bytes.encode(Cow::Borrowed(&native), None).unwrap();
        let little = bytes
            .encode(Cow::Borrowed(&native), Some(Endianness::Little))
            .unwrap();
        assert_eq!(unnamed, little);
    }

    #[test]
    fn bad_documents_are_refused_with_a_reason() {
        let message = |data_type: Value| record(data_type).unwrap_err().to_string();
        let unsupported =
            |data_type: Value| matches!(record(data_type), Err(PluginCreateError::Unsupported(_)));
        let with = |fields: Value| serde_json::json!({"name": "struct", "configuration": {"fields": fields}});
        assert!(message(serde_json::json!({"name": "struct"})).contains("\"fields\""));
        assert!(message(with(serde_json::json!([]))).contains("needs fields"));
        assert!(message(with(serde_json::json!([{"name": "a"}]))).contains("field must be"));
        assert!(message(with(serde_json::json!([5]))).contains("field must be"));
        assert!(
            message(with(serde_json::json!([["a", "int8"], ["a", "int8"]]))).contains("two fields")
        );
        assert!(message(with(serde_json::json!([["a", 5]]))).contains("\"a\""));
        assert!(
            message(serde_json::json!({"name": "struct", "configuration": {"fields": [["a", "int8"]], "packed": false}}))
                .contains("\"packed\"")
        );
        let string = message(with(serde_json::json!([["a", "int8"], ["text", "string"]])));
        assert!(
            string.contains("\"text\"") && string.contains("string"),
            "{string}"
        );
        assert!(unsupported(with(serde_json::json!([["text", "string"]]))));
        assert!(unsupported(with(serde_json::json!([[
            "x",
            "no_such_type"
        ]]))));
        assert!(unsupported(with(serde_json::json!([["b", "bfloat16"]]))));
        let mut deep = serde_json::json!("int8");
        for _ in 0..40 {
            deep = serde_json::json!({"name": "structured", "configuration": {"fields": [["f", deep]]}});
        }
        assert!(message(deep).contains("deep"));
    }
}
