//! numcodecs' `crc32` (its `Checksum32` with zlib's CRC-32): the checksum as a little-endian u32
//! before the data (`location` `"start"`, numcodecs' default) or after it (`"end"`).

use zarrs::array::codec::api::CodecError;
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;

use super::{Format, too_large};

const CHECKSUM: usize = 4;

#[derive(Debug)]
pub(super) struct Crc32 {
    at_end: bool,
    /// Whether the metadata named the location (written back as it was read).
    explicit: bool,
}

impl Format for Crc32 {
    const ID: &'static str = "crc32";

    fn from_configuration(configuration: &Configuration) -> Result<Self, PluginCreateError> {
        let at_end = match configuration.get("location") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) if s == "start" => Some(false),
            Some(serde_json::Value::String(s)) if s == "end" => Some(true),
            Some(other) => {
                return Err(PluginCreateError::Other(format!(
                    "crc32 location {other} is neither \"start\" nor \"end\""
                )));
            }
        };
        Ok(Self {
            at_end: at_end.unwrap_or(false),
            explicit: at_end.is_some(),
        })
    }

    fn configuration(&self) -> Configuration {
        let mut configuration = serde_json::Map::new();
        if self.explicit {
            let location = if self.at_end { "end" } else { "start" };
            configuration.insert("location".into(), location.into());
        }
        configuration.into()
    }

    fn encode(&self, decoded: &[u8]) -> Result<Vec<u8>, CodecError> {
        let checksum = crc32fast::hash(decoded).to_le_bytes();
        let mut out = Vec::with_capacity(decoded.len() + CHECKSUM);
        if !self.at_end {
            out.extend_from_slice(&checksum);
        }
        out.extend_from_slice(decoded);
        if self.at_end {
            out.extend_from_slice(&checksum);
        }
        Ok(out)
    }

    fn decode(&self, encoded: &[u8], limit: u64) -> Result<Vec<u8>, CodecError> {
        if encoded.len() < CHECKSUM {
            return Err(CodecError::Other(
                "crc32 encoded value is shorter than its checksum".into(),
            ));
        }
        let (stored, data) = if self.at_end {
            let (data, stored) = encoded.split_at(encoded.len() - CHECKSUM);
            (stored, data)
        } else {
            encoded.split_at(CHECKSUM)
        };
        if data.len() as u64 > limit {
            return Err(too_large("a crc32 payload", data.len(), limit));
        }
        if crc32fast::hash(data).to_le_bytes() != stored {
            return Err(CodecError::InvalidChecksum);
        }
        Ok(data.to_vec())
    }

    fn encoded_size(&self, decoded: u64) -> Option<u64> {
        Some(decoded + CHECKSUM as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numcodecs() {
        // numcodecs.CRC32().encode(b"abcd") and CRC32(location="end") with numcodecs 0.16.6.
        let start = Crc32 {
            at_end: false,
            explicit: false,
        };
        let end = Crc32 {
            at_end: true,
            explicit: true,
        };
        let checksum = 0xed82_cd11_u32.to_le_bytes();
        let mut expected = checksum.to_vec();
        expected.extend_from_slice(b"abcd");
        assert_eq!(start.encode(b"abcd").unwrap(), expected);
        assert_eq!(start.decode(&expected, 4).unwrap(), b"abcd");
        let mut at_end = b"abcd".to_vec();
        at_end.extend_from_slice(&checksum);
        assert_eq!(end.encode(b"abcd").unwrap(), at_end);
        assert_eq!(end.decode(&at_end, 4).unwrap(), b"abcd");
        expected[5] ^= 1;
        assert!(matches!(
            start.decode(&expected, 4),
            Err(CodecError::InvalidChecksum)
        ));
        assert!(start.decode(&[1, 2], 4).is_err());
    }
}
