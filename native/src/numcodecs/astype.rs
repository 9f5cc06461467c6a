//! numcodecs' `astype`: elements of `decode_dtype` stored as `encode_dtype`, cast both ways as
//! numpy's `astype` casts.

use zarrs::array::DataType;
use zarrs::array::codec::api::CodecError;
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;

use super::filter::{Filter, check_len, config_str};
use super::numeric::{Kind, cast};

#[derive(Debug)]
pub(super) struct AsType {
    encode: Kind,
    decode: Kind,
    /// The fields as the metadata spelled them.
    names: (String, String),
}

impl Filter for AsType {
    const ID: &'static str = "astype";

    fn from_configuration(configuration: &Configuration) -> Result<Self, PluginCreateError> {
        let encode = config_str("astype", configuration, "encode_dtype")?;
        let decode = config_str("astype", configuration, "decode_dtype")?;
        Ok(Self {
            encode: Kind::parse_for("astype", "encode_dtype", encode)?,
            decode: Kind::parse_for("astype", "decode_dtype", decode)?,
            names: (encode.to_owned(), decode.to_owned()),
        })
    }

    fn configuration(&self) -> Configuration {
        let mut configuration = serde_json::Map::new();
        configuration.insert("encode_dtype".into(), self.names.0.clone().into());
        configuration.insert("decode_dtype".into(), self.names.1.clone().into());
        configuration.into()
    }

    fn encoded_data_type(&self, decoded: &DataType) -> Result<DataType, CodecError> {
        self.decode.check_size("astype", decoded)?;
        Ok(self.encode.data_type())
    }

    fn encode(&self, decoded: &[u8], _: &DataType) -> Result<Vec<u8>, CodecError> {
        Ok(cast(decoded, self.decode, self.encode))
    }

    fn decode(&self, encoded: &[u8], _: &DataType, count: u64) -> Result<Vec<u8>, CodecError> {
        check_len("astype", encoded, count, self.encode.size())?;
        Ok(cast(encoded, self.encode, self.decode))
    }
}
