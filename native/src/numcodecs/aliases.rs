//! numcodecs ids zarrs knows under other names: Zarr v2 `bitround` (zarrs has it for Zarr v3
//! only), and the `numcodecs.gzip`, `numcodecs.zstd` and `numcodecs.blosc` names zarr-python
//! writes in Zarr v3 for codecs zarrs has as `gzip`, `zstd` and `blosc`. Each is zarrs' codec
//! (for the compressors, the bounded one of `crate::codecs`; zstd is zarrlib's own, of
//! `crate::zstd_codec`), built from numcodecs' configuration with numcodecs' defaults for what
//! it leaves out.

use zarrs::array::DataTypeSize;
use zarrs::array::codec::api::{
    Codec, CodecRuntimePluginV2, CodecRuntimePluginV3, CodecTraitsV2, CodecTraitsV3,
    register_codec_v2, register_codec_v3,
};
use zarrs::array::codec::{BitroundCodec, BloscCodec, GzipCodec};
use zarrs::metadata::Configuration;
use zarrs::metadata::v2::MetadataV2;
use zarrs::metadata::v3::MetadataV3;
use zarrs::metadata_ext::codec::blosc::{
    BloscCodecConfigurationNumcodecs, codec_blosc_v2_numcodecs_to_v3,
};
use zarrs::plugin::PluginCreateError;

use crate::codecs::{Kind, wrap};

pub(super) fn register() {
    // The handles would unregister them: these stay for the life of the process.
    let _ = register_codec_v2(CodecRuntimePluginV2::new(
        |name| name == "bitround",
        |metadata| {
            let v3 =
                MetadataV3::new_with_configuration("bitround", metadata.configuration().clone());
            <BitroundCodec as CodecTraitsV3>::create(&v3)
        },
    ));
    let _ = register_codec_v3(CodecRuntimePluginV3::new(
        |name| name == "numcodecs.zstd",
        |metadata| {
            let defaults = serde_json::json!({"level": 0, "checksum": false});
            let v2 = numcodecs_v2("zstd", metadata.configuration(), defaults)?;
            crate::zstd_codec::create_v2(&v2)
        },
    ));
    let _ = register_codec_v3(CodecRuntimePluginV3::new(
        |name| name == "numcodecs.gzip",
        |metadata| {
            let defaults = serde_json::json!({"level": 1});
            let v2 = numcodecs_v2("gzip", metadata.configuration(), defaults)?;
            wrap(<GzipCodec as CodecTraitsV2>::create(&v2)?, Kind::Gzip)
        },
    ));
    let _ = register_codec_v3(CodecRuntimePluginV3::new(
        |name| name == "numcodecs.blosc",
        |metadata| wrap(blosc(metadata.configuration())?, Kind::Blosc),
    ));
}

/// numcodecs' configuration of codec `id` (`defaults` filled in), as Zarr v2 metadata.
fn numcodecs_v2(
    id: &str,
    configuration: Option<&Configuration>,
    defaults: serde_json::Value,
) -> Result<MetadataV2, PluginCreateError> {
    let mut fields = match defaults {
        serde_json::Value::Object(fields) => fields,
        _ => serde_json::Map::new(),
    };
    for (key, value) in configuration.into_iter().flat_map(|c| c.iter()) {
        fields.insert(key.clone(), value.clone());
    }
    fields.insert("id".into(), id.into());
    serde_json::from_value(fields.into()).map_err(|err| {
        PluginCreateError::Other(format!("numcodecs.{id} configuration is invalid: {err}"))
    })
}

/// numcodecs' blosc as zarr-python runs it in Zarr v3: on the chunk's bytes, so with a type
/// size of 1 (numcodecs' automatic shuffle is then bit shuffle).
fn blosc(configuration: Option<&Configuration>) -> Result<Codec, PluginCreateError> {
    let defaults = serde_json::json!({"cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0});
    let v2 = numcodecs_v2("blosc", configuration, defaults)?;
    let numcodecs: BloscCodecConfigurationNumcodecs = v2.to_typed_configuration()?;
    let v3 = codec_blosc_v2_numcodecs_to_v3(&numcodecs, Some(DataTypeSize::Fixed(1)));
    let codec = BloscCodec::new_with_configuration(&v3)?;
    Ok(Codec::BytesToBytes(std::sync::Arc::new(codec)))
}
