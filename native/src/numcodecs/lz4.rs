//! numcodecs' `lz4`: the decoded size as a little-endian u32, then one LZ4 block (numcodecs'
//! `lz4.pyx` writes `LZ4_compress_fast`'s output after that header and reads it back with
//! `LZ4_decompress_safe`). lz4_flex writes the same block format; its compressed bytes can differ
//! from liblz4's for the same input (both decode either), and it has no `acceleration`, which is
//! kept in the metadata only.

use zarrs::array::codec::api::CodecError;
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;

use super::{Format, config_u64, too_large};

const HEADER: usize = 4;

#[derive(Debug)]
pub(super) struct Lz4 {
    acceleration: Option<u64>,
}

impl Format for Lz4 {
    const ID: &'static str = "lz4";

    fn from_configuration(configuration: &Configuration) -> Result<Self, PluginCreateError> {
        Ok(Self {
            acceleration: config_u64(configuration, "acceleration")?,
        })
    }

    fn configuration(&self) -> Configuration {
        let mut configuration = serde_json::Map::new();
        if let Some(acceleration) = self.acceleration {
            configuration.insert("acceleration".into(), acceleration.into());
        }
        configuration.into()
    }

    fn encode(&self, decoded: &[u8]) -> Result<Vec<u8>, CodecError> {
        // numcodecs refuses buffers whose size does not fit its 32-bit header.
        u32::try_from(decoded.len())
            .map_err(|_| CodecError::Other("lz4 takes at most 2^32 - 1 bytes".into()))?;
        Ok(lz4_flex::block::compress_prepend_size(decoded))
    }

    fn decode(&self, encoded: &[u8], limit: u64) -> Result<Vec<u8>, CodecError> {
        let header: [u8; HEADER] = encoded
            .get(..HEADER)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                CodecError::Other("lz4 encoded value is shorter than its header".into())
            })?;
        let size = u64::from(u32::from_le_bytes(header));
        if size > limit {
            return Err(too_large("an lz4 block", size, limit));
        }
        let mut out = vec![0u8; usize::try_from(size).expect("within the chunk's size")];
        let written = lz4_flex::block::decompress_into(&encoded[HEADER..], &mut out)
            .map_err(|err| CodecError::Other(format!("lz4 block did not decode: {err}")))?;
        if written != out.len() {
            return Err(CodecError::Other(format!(
                "lz4 block decoded to {written} bytes, its header says {size}"
            )));
        }
        Ok(out)
    }

    fn encoded_size(&self, decoded: u64) -> Option<u64> {
        let size = usize::try_from(decoded).ok()?;
        Some(lz4_flex::block::get_maximum_output_size(size) as u64 + HEADER as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_numcodecs_writes() {
        // numcodecs.LZ4().encode(b"a" * 20) with numcodecs 0.16.6.
        let stored = [
            20, 0, 0, 0, 0x1a, 0x61, 1, 0, 0x50, 0x61, 0x61, 0x61, 0x61, 0x61,
        ];
        let lz4 = Lz4 { acceleration: None };
        assert_eq!(lz4.decode(&stored, 20).unwrap(), vec![b'a'; 20]);
        // The same block, held to fewer bytes than its header claims, is refused up front.
        assert!(lz4.decode(&stored, 19).is_err());
        // A header claiming 4 GiB in a tiny buffer allocates nothing.
        assert!(lz4.decode(&[0xff, 0xff, 0xff, 0xff, 0], 1 << 20).is_err());
        assert!(lz4.decode(&[1, 0], 10).is_err());
    }

    #[test]
    fn round_trips() {
        let lz4 = Lz4 {
            acceleration: Some(1),
        };
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 13) as u8).collect();
        let encoded = lz4.encode(&data).unwrap();
        assert!(encoded.len() as u64 <= lz4.encoded_size(5000).unwrap());
        assert_eq!(lz4.decode(&encoded, 5000).unwrap(), data);
    }
}
