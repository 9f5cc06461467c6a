//! numcodecs codecs zarrs lacks, registered with zarrs' codec registry under their numcodecs ids
//! (Zarr v2 `"lz4"`, `"delta"`, ...) and the `numcodecs.<id>` names zarr-python writes in Zarr v3.
//!
//! Each codec is one file holding its stored format (read from numcodecs' own sources and
//! checked against bytes numcodecs writes). Compressors and checksums are bytes-to-bytes codecs
//! (`Format`, here: every decode keeps within the chunk's decoded size, whatever a header
//! claims); filters are array-to-array codecs (`filter::Filter`). `aliases` maps numcodecs
//! names onto codecs zarrs has under other names.

/// zarrs' naming and capability traits for a numcodecs wrapper `$wrapper<F>` (`Numcodec` here,
/// `filter::NumcodecFilter`), whose `F: $bound` has an `ID` and a `configuration()`: both kinds
/// are named `<id>` in Zarr v2 and `numcodecs.<id>` in v3, and decode only whole chunks.
macro_rules! named_whole_chunk_codec {
    ($wrapper:ident, $bound:ident) => {
        impl<F: $bound> zarrs::plugin::ExtensionName for $wrapper<F> {
            fn name(
                &self,
                version: zarrs::plugin::ZarrVersion,
            ) -> Option<std::borrow::Cow<'static, str>> {
                Some(match version {
                    zarrs::plugin::ZarrVersion::V2 => std::borrow::Cow::Borrowed(F::ID),
                    _ => std::borrow::Cow::Owned(format!("numcodecs.{}", F::ID)),
                })
            }
        }

        impl<F: $bound> zarrs::array::codec::api::CodecTraits for $wrapper<F> {
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }

            fn configuration(
                &self,
                _: zarrs::plugin::ZarrVersion,
                _: &zarrs::array::codec::api::CodecMetadataOptions,
            ) -> Option<zarrs::metadata::Configuration> {
                Some(self.0.configuration())
            }

            fn partial_decoder_capability(
                &self,
            ) -> zarrs::array::codec::api::PartialDecoderCapability {
                zarrs::array::codec::api::PartialDecoderCapability {
                    partial_read: false,
                    partial_decode: false,
                }
            }

            fn partial_encoder_capability(
                &self,
            ) -> zarrs::array::codec::api::PartialEncoderCapability {
                zarrs::array::codec::api::PartialEncoderCapability {
                    partial_encode: false,
                }
            }
        }
    };
}
use named_whole_chunk_codec;

mod aliases;
mod astype;
mod categorize;
mod crc32;
mod delta;
mod filter;
mod lz4;
mod lzma;
mod numeric;
mod packbits;
mod quantize;

use std::borrow::Cow;
use std::sync::Arc;

use zarrs::array::ArrayBytesRaw;
use zarrs::array::codec::api::{
    BytesPartialDecoderTraits, BytesRepresentation, BytesToBytesCodecTraits, Codec, CodecError,
    CodecOptions, CodecPartialDefault, CodecRuntimePluginV2, CodecRuntimePluginV3,
    RecommendedConcurrency, register_codec_v2, register_codec_v3,
};
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;

/// One numcodecs format: how its bytes encode and decode.
trait Format: std::fmt::Debug + Send + Sync + 'static {
    /// The numcodecs id (the Zarr v2 name; `numcodecs.<id>` in Zarr v3).
    const ID: &'static str;
    /// Build from the configuration (v2: the codec's fields besides `id`).
    fn from_configuration(configuration: &Configuration) -> Result<Self, PluginCreateError>
    where
        Self: Sized;
    fn configuration(&self) -> Configuration;
    fn encode(&self, decoded: &[u8]) -> Result<Vec<u8>, CodecError>;
    /// Decode into at most `limit` bytes; more is corrupt data.
    fn decode(&self, encoded: &[u8], limit: u64) -> Result<Vec<u8>, CodecError>;
    fn encoded_size(&self, decoded: u64) -> Option<u64>;
}

/// A numcodecs format as a zarrs bytes-to-bytes codec.
#[derive(Debug)]
struct Numcodec<F: Format>(F);

/// Register the numcodecs codecs, once, from `codecs::register`.
pub fn register() {
    register_codec(lz4::Lz4::ID, create::<lz4::Lz4>);
    register_codec(crc32::Crc32::ID, create::<crc32::Crc32>);
    register_codec(lzma::Lzma::ID, create::<lzma::Lzma>);
    register_filter::<delta::Delta>();
    register_filter::<quantize::Quantize>();
    register_filter::<astype::AsType>();
    register_filter::<packbits::PackBits>();
    register_filter::<categorize::Categorize>();
    aliases::register();
}

fn register_filter<F: filter::Filter>() {
    register_codec(F::ID, filter::create::<F>);
}

/// Register `create` under the numcodecs id `id` (Zarr v2) and `numcodecs.<id>` (Zarr v3).
fn register_codec(
    id: &'static str,
    create: fn(&Configuration) -> Result<Codec, PluginCreateError>,
) {
    let v3_name = format!("numcodecs.{id}");
    let empty = Configuration::default();
    // The handles would unregister them: these stay for the life of the process.
    let _ = register_codec_v3(CodecRuntimePluginV3::new(
        move |name| name == v3_name,
        move |metadata| create(metadata.configuration().unwrap_or(&empty)),
    ));
    let _ = register_codec_v2(CodecRuntimePluginV2::new(
        move |name| name == id,
        move |metadata| create(metadata.configuration()),
    ));
}

fn create<F: Format>(configuration: &Configuration) -> Result<Codec, PluginCreateError> {
    let format = F::from_configuration(configuration)?;
    Ok(Codec::BytesToBytes(Arc::new(Numcodec(format))))
}

/// A configuration field that is absent or an unsigned integer.
fn config_u64(configuration: &Configuration, key: &str) -> Result<Option<u64>, PluginCreateError> {
    match configuration.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            PluginCreateError::Other(format!(
                "numcodecs {key} {value} is not an unsigned integer"
            ))
        }),
    }
}

fn too_large(what: &str, size: impl std::fmt::Display, limit: u64) -> CodecError {
    CodecError::Other(format!(
        "{what} decodes to {size} bytes, more than the {limit} bytes the chunk holds"
    ))
}

named_whole_chunk_codec!(Numcodec, Format);

impl<F: Format> BytesToBytesCodecTraits for Numcodec<F> {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn BytesToBytesCodecTraits> {
        self
    }

    fn recommended_concurrency(
        &self,
        _: &BytesRepresentation,
    ) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }

    fn encoded_representation(&self, decoded: &BytesRepresentation) -> BytesRepresentation {
        match decoded.size().and_then(|size| self.0.encoded_size(size)) {
            Some(size) => BytesRepresentation::BoundedSize(size),
            None => BytesRepresentation::UnboundedSize,
        }
    }

    fn encode<'a>(
        &self,
        decoded_value: ArrayBytesRaw<'a>,
        _: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        Ok(Cow::Owned(self.0.encode(&decoded_value)?))
    }

    fn decode<'a>(
        &self,
        encoded_value: ArrayBytesRaw<'a>,
        decoded_representation: &BytesRepresentation,
        _: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        // A variable-length chunk's size is unbounded: it is held to any one chunk's limit.
        let limit = decoded_representation
            .size()
            .unwrap_or_else(crate::config::max_chunk_bytes);
        Ok(Cow::Owned(self.0.decode(&encoded_value, limit)?))
    }

    fn partial_decoder(
        self: Arc<Self>,
        input_handle: Arc<dyn BytesPartialDecoderTraits>,
        decoded_representation: &BytesRepresentation,
        _: &CodecOptions,
    ) -> Result<Arc<dyn BytesPartialDecoderTraits>, CodecError> {
        Ok(Arc::new(CodecPartialDefault::new_bytes(
            input_handle,
            *decoded_representation,
            self.into_dyn(),
        )))
    }
}
