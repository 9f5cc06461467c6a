//! numcodecs' `packbits`: a chunk of booleans flattened into bytes of eight, most significant bit
//! first (`numpy.packbits`), after one byte saying how many bits pad the last byte.

use std::num::NonZeroU64;

use zarrs::array::codec::api::CodecError;
use zarrs::array::{ChunkShape, DataType, data_type};
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;

use super::filter::{Filter, element_count};

#[derive(Debug)]
pub(super) struct PackBits;

fn packed_len(count: u64) -> u64 {
    1 + count.div_ceil(8)
}

impl Filter for PackBits {
    const ID: &'static str = "packbits";
    const RESHAPES: bool = true;

    fn from_configuration(_: &Configuration) -> Result<Self, PluginCreateError> {
        Ok(Self)
    }

    fn configuration(&self) -> Configuration {
        Configuration::default()
    }

    fn encoded_data_type(&self, decoded: &DataType) -> Result<DataType, CodecError> {
        if decoded.name_v3().as_deref() != Some("bool") {
            return Err(CodecError::UnsupportedDataType(
                decoded.clone(),
                "numcodecs.packbits (it packs booleans)".into(),
            ));
        }
        Ok(data_type::uint8())
    }

    fn encoded_shape(&self, decoded: &[NonZeroU64]) -> Result<ChunkShape, CodecError> {
        let len = NonZeroU64::new(packed_len(element_count(decoded))).expect("at least 1");
        Ok(vec![len])
    }

    fn encode(&self, decoded: &[u8], _: &DataType) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(1 + decoded.len().div_ceil(8));
        out.push(((8 - decoded.len() % 8) % 8) as u8);
        for byte in decoded.chunks(8) {
            let bits = byte
                .iter()
                .enumerate()
                .fold(0u8, |acc, (i, &b)| acc | (u8::from(b != 0) << (7 - i)));
            out.push(bits);
        }
        Ok(out)
    }

    fn decode(&self, encoded: &[u8], _: &DataType, count: u64) -> Result<Vec<u8>, CodecError> {
        let padding = (8 - count % 8) % 8;
        if encoded.len() as u64 != packed_len(count) || u64::from(encoded[0]) != padding {
            return Err(CodecError::Other(format!(
                "numcodecs packbits: {} bytes padded by {} bits do not hold {count} booleans",
                encoded.len(),
                encoded.first().copied().unwrap_or_default()
            )));
        }
        let bits = encoded[1..]
            .iter()
            .flat_map(|&byte| (0..8).map(move |i| (byte >> (7 - i)) & 1));
        Ok(bits
            .take(usize::try_from(count).expect("within the chunk"))
            .collect())
    }

    fn encoded_fill_value(&self, _: &[u8], _: &DataType) -> Result<Vec<u8>, CodecError> {
        // A packed chunk has no element-wise fill value; its bytes are uint8s.
        Ok(vec![0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numcodecs() {
        // numcodecs.PackBits().encode(np.array([True, False, False, True])) == [4, 144].
        let bool_type = data_type::bool();
        assert_eq!(
            PackBits.encode(&[1, 0, 0, 1], &bool_type).unwrap(),
            [4, 144]
        );
        assert_eq!(
            PackBits.decode(&[4, 144], &bool_type, 4).unwrap(),
            [1, 0, 0, 1]
        );
        let nine = [1, 1, 1, 1, 1, 1, 1, 1, 1];
        assert_eq!(PackBits.encode(&nine, &bool_type).unwrap(), [7, 255, 128]);
        assert_eq!(
            PackBits.decode(&[7, 255, 128], &bool_type, 9).unwrap(),
            nine
        );
        // A wrong padding count or length is corrupt.
        assert!(PackBits.decode(&[3, 144], &bool_type, 4).is_err());
        assert!(PackBits.decode(&[4, 144, 0], &bool_type, 4).is_err());
    }
}
