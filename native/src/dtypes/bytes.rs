//! zarr-python's fixed-width bytes: `null_terminated_bytes` (numpy's `S<n>`, NUL-padded) and
//! `raw_bytes` (numpy's `V<n>`), `n` bytes per element. Zarr v2 names the first `|S<n>` (zarrs
//! reads v2 `|V<n>` as raw bits itself); Zarr v3 `{"name": "null_terminated_bytes" |
//! "raw_bytes", "configuration": {"length_bytes": n}}`. Fill values are base64 strings
//! (trailing NULs may be left out; zarr-python leaves them out of `null_terminated_bytes`
//! only); a v2 `null` is all zeros, as zarr-python reads it. The bytes are stored as they are.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use zarrs::array::data_type::api::codec_traits::bytes::{
    BytesCodecEndiannessMissingError, BytesDataTypePlugin, BytesDataTypeTraits,
};
use zarrs::array::data_type::api::{DataTypeFillValueError, DataTypeFillValueMetadataError};
use zarrs::array::{
    DataType, DataTypeSize, DataTypeTraits, Endianness, FillValue, FillValueMetadata,
};
use zarrs::metadata::Configuration;
use zarrs::plugin::{ExtensionName, PluginCreateError, ZarrVersion};

pub(super) const V3_NAME: &str = "null_terminated_bytes";
pub(super) const RAW_V3_NAME: &str = "raw_bytes";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NullTerminatedBytes {
    length: usize,
    /// `raw_bytes`: the same bytes, written back whole (no NUL padding trimmed).
    raw: bool,
}

impl NullTerminatedBytes {
    /// The type a Zarr v2 `|S<n>` names, if `name` is one.
    pub fn from_v2_name(name: &str) -> Option<Result<DataType, PluginCreateError>> {
        let length = name.strip_prefix("|S")?;
        Some(Self::create(length.parse().ok(), false))
    }

    /// The type of a Zarr v3 `null_terminated_bytes` (or `raw_bytes` when `raw`) with this
    /// configuration.
    pub fn from_v3_configuration(
        configuration: Option<&Configuration>,
        raw: bool,
    ) -> Result<DataType, PluginCreateError> {
        let length = configuration
            .and_then(|c| c.get("length_bytes"))
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| usize::try_from(n).ok());
        Self::create(length, raw)
    }

    fn create(length: Option<usize>, raw: bool) -> Result<DataType, PluginCreateError> {
        match length {
            Some(length) if length > 0 => Ok(Arc::new(Self { length, raw }).into()),
            _ => Err(PluginCreateError::Other(format!(
                "{} needs a length of at least one byte",
                if raw { RAW_V3_NAME } else { V3_NAME }
            ))),
        }
    }
}

impl ExtensionName for NullTerminatedBytes {
    fn name(&self, version: ZarrVersion) -> Option<Cow<'static, str>> {
        Some(match version {
            ZarrVersion::V2 if self.raw => Cow::Owned(format!("|V{}", self.length)),
            ZarrVersion::V2 => Cow::Owned(format!("|S{}", self.length)),
            _ if self.raw => Cow::Borrowed(RAW_V3_NAME),
            _ => Cow::Borrowed(V3_NAME),
        })
    }
}

impl DataTypeTraits for NullTerminatedBytes {
    fn configuration(&self, version: ZarrVersion) -> Configuration {
        let mut configuration = serde_json::Map::new();
        if version != ZarrVersion::V2 {
            configuration.insert("length_bytes".into(), self.length.into());
        }
        configuration.into()
    }

    fn size(&self) -> DataTypeSize {
        DataTypeSize::Fixed(self.length)
    }

    fn fill_value(
        &self,
        metadata: &FillValueMetadata,
        version: ZarrVersion,
    ) -> Result<FillValue, DataTypeFillValueMetadataError> {
        let mut bytes = match metadata {
            FillValueMetadata::Null if version == ZarrVersion::V2 => Vec::new(),
            FillValueMetadata::String(s) => BASE64_STANDARD
                .decode(s)
                .map_err(|_| DataTypeFillValueMetadataError)?,
            _ => return Err(DataTypeFillValueMetadataError),
        };
        if bytes.len() > self.length {
            return Err(DataTypeFillValueMetadataError);
        }
        bytes.resize(self.length, 0);
        Ok(FillValue::from(bytes))
    }

    fn metadata_fill_value(
        &self,
        fill_value: &FillValue,
    ) -> Result<FillValueMetadata, DataTypeFillValueError> {
        let bytes = fill_value.as_ne_bytes();
        let end = if self.raw {
            bytes.len()
        } else {
            bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1)
        };
        Ok(FillValueMetadata::from(
            BASE64_STANDARD.encode(&bytes[..end]),
        ))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl BytesDataTypeTraits for NullTerminatedBytes {
    fn encode<'a>(
        &self,
        bytes: Cow<'a, [u8]>,
        _: Option<Endianness>,
    ) -> Result<Cow<'a, [u8]>, BytesCodecEndiannessMissingError> {
        Ok(bytes)
    }

    fn decode<'a>(
        &self,
        bytes: Cow<'a, [u8]>,
        _: Option<Endianness>,
    ) -> Result<Cow<'a, [u8]>, BytesCodecEndiannessMissingError> {
        Ok(bytes)
    }
}

// The bytes codec finds how to serialise a data type through this registration.
inventory::submit! {
    BytesDataTypePlugin {
        type_id: std::any::TypeId::of::<NullTerminatedBytes>(),
        caster: |any| any.downcast_ref::<NullTerminatedBytes>().map(|t| t as &dyn BytesDataTypeTraits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_values_are_base64_as_zarr_python_writes_them() {
        let s6 = NullTerminatedBytes::from_v2_name("|S6").unwrap().unwrap();
        // np.bytes_(b"nil") as zarr-python writes it: "bmls".
        let nil = s6.fill_value(&"bmls".into(), ZarrVersion::V2).unwrap();
        assert_eq!(nil.as_ne_bytes(), b"nil\0\0\0");
        assert_eq!(
            s6.metadata_fill_value(&nil).unwrap(),
            FillValueMetadata::from("bmls")
        );
        let null = s6
            .fill_value(&FillValueMetadata::Null, ZarrVersion::V2)
            .unwrap();
        assert_eq!(null.as_ne_bytes(), [0; 6]);
        assert!(
            s6.fill_value(&FillValueMetadata::Null, ZarrVersion::V3)
                .is_err()
        );
        // Seven bytes do not fit in six.
        assert!(
            s6.fill_value(&"YWJjZGVmZw==".into(), ZarrVersion::V2)
                .is_err()
        );
        assert!(NullTerminatedBytes::from_v2_name("|S0").unwrap().is_err());
        assert!(NullTerminatedBytes::from_v2_name("<U6").is_none());
    }

    #[test]
    fn raw_bytes_fill_values_are_written_whole() {
        let configuration: Configuration = serde_json::json!({"length_bytes": 3})
            .as_object()
            .unwrap()
            .clone()
            .into();
        let v3 = NullTerminatedBytes::from_v3_configuration(Some(&configuration), true).unwrap();
        assert_eq!(v3.name_v3().as_deref(), Some(RAW_V3_NAME));
        // np.void(b"\0\0\0") as zarr-python writes it: "AAAA".
        let zero = v3.fill_value(&"AAAA".into(), ZarrVersion::V3).unwrap();
        assert_eq!(zero.as_ne_bytes(), [0, 0, 0]);
        assert_eq!(
            v3.metadata_fill_value(&zero).unwrap(),
            FillValueMetadata::from("AAAA")
        );
        assert!(NullTerminatedBytes::from_v3_configuration(None, true).is_err());
    }
}
