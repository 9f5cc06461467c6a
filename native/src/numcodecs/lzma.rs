//! numcodecs' `lzma`: Python's `lzma.compress(format=, check=, preset=)`, which is liblzma's. The
//! xz container (`format` 1, numcodecs' default) and the legacy `.lzma` one (`format` 2) are
//! supported with a preset; raw streams and custom filter chains are not.
//!
//! liblzma reserves the dictionary a stream's header asks for before decoding, but writes into
//! it only as far as the output goes, which stops one byte past the chunk's size: what the
//! process touches stays within the chunk. The reservation itself is capped (`memlimit`) at the
//! chunk's size or what the largest preset needs, whichever is more; a header asking for more
//! is refused.

use std::io::Read;

use liblzma::stream::{CONCATENATED, Check, LzmaOptions, Stream};
use zarrs::array::codec::api::CodecError;
use zarrs::metadata::Configuration;
use zarrs::plugin::{PluginCreateError, PluginUnsupportedError};

use super::Format;

/// What liblzma needs to decode any preset's stream (preset 9: a 64 MiB dictionary).
const PRESET_MEMLIMIT: u64 = 66 << 20;
/// Python's lzma.FORMAT_XZ and FORMAT_ALONE.
const FORMAT_XZ: i64 = 1;
const FORMAT_ALONE: i64 = 2;

#[derive(Debug)]
pub(super) struct Lzma {
    format: i64,
    check: i64,
    preset: Option<u32>,
}

fn unsupported(what: String) -> PluginCreateError {
    PluginUnsupportedError::new(what, "codec".into()).into()
}

fn lzma_error(err: impl std::fmt::Display) -> CodecError {
    CodecError::Other(format!("lzma: {err}"))
}

impl Lzma {
    fn check(&self) -> Check {
        match self.check {
            0 => Check::None,
            1 => Check::Crc32,
            10 => Check::Sha256,
            _ => Check::Crc64, // -1: the xz default
        }
    }
}

impl Format for Lzma {
    const ID: &'static str = "lzma";

    fn from_configuration(configuration: &Configuration) -> Result<Self, PluginCreateError> {
        let int = |key: &str, default: i64| match configuration.get(key) {
            None | Some(serde_json::Value::Null) => Ok(default),
            Some(value) => value.as_i64().ok_or_else(|| {
                PluginCreateError::Other(format!("numcodecs lzma {key} {value} is not an integer"))
            }),
        };
        let format = int("format", FORMAT_XZ)?;
        let check = int("check", -1)?;
        let preset = match configuration.get("preset") {
            None | Some(serde_json::Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|p| u32::try_from(p).ok())
                    .ok_or_else(|| {
                        PluginCreateError::Other(format!(
                            "numcodecs lzma preset {value} is invalid"
                        ))
                    })?,
            ),
        };
        if !matches!(
            configuration.get("filters"),
            None | Some(serde_json::Value::Null)
        ) {
            return Err(unsupported("numcodecs lzma with custom filters".into()));
        }
        if format != FORMAT_XZ && format != FORMAT_ALONE {
            return Err(unsupported(format!("numcodecs lzma format {format}")));
        }
        if !matches!(check, -1 | 0 | 1 | 4 | 10) || (format == FORMAT_ALONE && check > 0) {
            return Err(PluginCreateError::Other(format!(
                "numcodecs lzma check {check} is not one of -1, 0, 1, 4, 10 for format {format}"
            )));
        }
        Ok(Self {
            format,
            check,
            preset,
        })
    }

    fn configuration(&self) -> Configuration {
        let mut configuration = serde_json::Map::new();
        configuration.insert("format".into(), self.format.into());
        configuration.insert("check".into(), self.check.into());
        configuration.insert("preset".into(), self.preset.into());
        configuration.insert("filters".into(), serde_json::Value::Null);
        configuration.into()
    }

    fn encode(&self, decoded: &[u8]) -> Result<Vec<u8>, CodecError> {
        let preset = self.preset.unwrap_or(liblzma::stream::PRESET_DEFAULT);
        let stream = if self.format == FORMAT_ALONE {
            Stream::new_lzma_encoder(&LzmaOptions::new_preset(preset).map_err(lzma_error)?)
        } else {
            Stream::new_easy_encoder(preset, self.check())
        }
        .map_err(lzma_error)?;
        let mut out = Vec::new();
        liblzma::read::XzEncoder::new_stream(decoded, stream).read_to_end(&mut out)?;
        Ok(out)
    }

    fn decode(&self, encoded: &[u8], limit: u64) -> Result<Vec<u8>, CodecError> {
        let memlimit = limit.max(PRESET_MEMLIMIT);
        let stream = if self.format == FORMAT_ALONE {
            Stream::new_lzma_decoder(memlimit)
        } else {
            Stream::new_stream_decoder(memlimit, CONCATENATED)
        }
        .map_err(lzma_error)?;
        let reader = liblzma::read::XzDecoder::new_stream(encoded, stream);
        crate::codecs::read_bounded(reader, limit, "an lzma stream")
    }

    fn encoded_size(&self, _decoded: u64) -> Option<u64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lzma(configuration: serde_json::Value) -> Result<Lzma, PluginCreateError> {
        Lzma::from_configuration(&serde_json::from_value(configuration).unwrap())
    }

    #[test]
    fn encodes_as_python_does() {
        // lzma.compress(b"abc" * 10, preset=1) with Python 3.11 (liblzma 5.4).
        let expected = "fd377a585a000004e6d6b4460200210110000000a8708e86e0001d00095d00309888aafc0689800000000000ef99181c8f651b0e0001251eaf587a321fb6f37d010000000004595a";
        let codec = lzma(serde_json::json!({"preset": 1})).unwrap();
        let data = b"abc".repeat(10);
        let encoded = codec.encode(&data).unwrap();
        let hex: String = encoded.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
        assert_eq!(codec.decode(&encoded, 30).unwrap(), data);
        assert!(codec.decode(&encoded, 29).is_err());
        let alone = lzma(serde_json::json!({"format": 2, "check": -1})).unwrap();
        assert_eq!(
            alone.decode(&alone.encode(&data).unwrap(), 30).unwrap(),
            data
        );
    }

    #[test]
    fn a_dictionary_larger_than_any_preset_and_the_chunk_is_refused() {
        // A valid .lzma stream of 30 bytes whose header asks for a 256 MiB dictionary: liblzma
        // would reserve it all before decoding.
        let mut options = LzmaOptions::new_preset(1).unwrap();
        options.dict_size(256 << 20);
        let stream = Stream::new_lzma_encoder(&options).unwrap();
        let mut encoded = Vec::new();
        liblzma::read::XzEncoder::new_stream(&b"abc".repeat(10)[..], stream)
            .read_to_end(&mut encoded)
            .unwrap();
        let alone = lzma(serde_json::json!({"format": 2})).unwrap();
        let err = alone.decode(&encoded, 30).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
    }

    #[test]
    fn unsupported_configurations_name_themselves() {
        let raw = lzma(serde_json::json!({"format": 3, "filters": null})).unwrap_err();
        assert!(raw.to_string().contains("format 3"), "{raw}");
        let filters = lzma(serde_json::json!({"filters": [{"id": 33}]})).unwrap_err();
        assert!(filters.to_string().contains("filters"), "{filters}");
    }
}
