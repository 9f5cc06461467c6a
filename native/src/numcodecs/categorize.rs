//! numcodecs' `categorize`: fixed-width strings (numpy `U`, zarrs' `fixed_length_utf32`) stored
//! as the 1-based index of their label in `labels`, 0 for any other string (which decodes to
//! the empty string). Object (variable-length) strings are not supported.

use std::collections::HashMap;

use num_traits::AsPrimitive;
use zarrs::array::DataType;
use zarrs::array::codec::api::CodecError;
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;

use super::filter::{Filter, check_len, config_str};
use super::numeric::{Kind, elements, to_bytes, with_kind};

#[derive(Debug)]
pub(super) struct Categorize {
    labels: Vec<String>,
    /// Code points per element (numpy's `U<n>`).
    width: usize,
    astype: Kind,
    names: (String, String),
}

/// The code units of `label`, cut to `width` and NUL-padded to it.
fn padded(label: &str, width: usize) -> Vec<u32> {
    let mut units: Vec<u32> = label.chars().map(u32::from).take(width).collect();
    units.resize(width, 0);
    units
}

impl Categorize {
    /// The codes of the elements in `units` (whose length is a multiple of `width`): numpy's
    /// `arr == label` ignores trailing NULs, and a later equal label wins.
    fn codes(&self, units: &[u32]) -> Vec<i64> {
        let mut index = HashMap::new();
        for (i, label) in self.labels.iter().enumerate() {
            let label = label.trim_end_matches('\0');
            // A longer label equals no element of this width.
            if label.chars().count() <= self.width {
                index.insert(padded(label, self.width), i as i64 + 1);
            }
        }
        units
            .chunks(self.width)
            .map(|element| index.get(element).copied().unwrap_or(0))
            .collect()
    }
}

fn codes_as<T: bytemuck::Pod>(codes: &[i64]) -> Vec<u8>
where
    i64: AsPrimitive<T>,
{
    to_bytes(&codes.iter().map(|c| c.as_()).collect::<Vec<T>>())
}

fn codes_from<T: bytemuck::Pod + AsPrimitive<f64>>(bytes: &[u8]) -> Vec<f64> {
    elements::<T>(bytes)
        .into_iter()
        .map(AsPrimitive::as_)
        .collect()
}

impl Filter for Categorize {
    const ID: &'static str = "categorize";

    fn from_configuration(configuration: &Configuration) -> Result<Self, PluginCreateError> {
        let labels = configuration
            .get("labels")
            .and_then(serde_json::Value::as_array)
            .and_then(|labels| {
                labels
                    .iter()
                    .map(|l| l.as_str().map(str::to_owned))
                    .collect()
            })
            .ok_or_else(|| {
                PluginCreateError::Other(
                    "numcodecs categorize needs a list of string labels".into(),
                )
            })?;
        let dtype = config_str("categorize", configuration, "dtype")?;
        let astype = configuration
            .get("astype")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("|u1");
        let width = dtype
            .trim_start_matches(['<', '>', '|', '='])
            .strip_prefix('U')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                PluginCreateError::Unsupported(zarrs::plugin::PluginUnsupportedError::new(
                    format!("numcodecs categorize of dtype {dtype:?} (only fixed-width U strings)"),
                    "codec".into(),
                ))
            })?;
        Ok(Self {
            labels,
            width,
            astype: Kind::parse_for("categorize", "astype", astype)?,
            names: (dtype.to_owned(), astype.to_owned()),
        })
    }

    fn configuration(&self) -> Configuration {
        let mut configuration = serde_json::Map::new();
        configuration.insert("labels".into(), self.labels.clone().into());
        configuration.insert("dtype".into(), self.names.0.clone().into());
        configuration.insert("astype".into(), self.names.1.clone().into());
        configuration.into()
    }

    fn encoded_data_type(&self, decoded: &DataType) -> Result<DataType, CodecError> {
        if decoded.name_v3().as_deref() != Some("fixed_length_utf32")
            || decoded.fixed_size() != Some(self.width * 4)
        {
            return Err(CodecError::UnsupportedDataType(
                decoded.clone(),
                format!("numcodecs.categorize (its dtype is {})", self.names.0),
            ));
        }
        Ok(self.astype.data_type())
    }

    fn encode(&self, decoded: &[u8], _: &DataType) -> Result<Vec<u8>, CodecError> {
        let codes = self.codes(&elements::<u32>(decoded));
        Ok(with_kind!(self.astype, T => codes_as::<T>(&codes)))
    }

    fn decode(&self, encoded: &[u8], _: &DataType, count: u64) -> Result<Vec<u8>, CodecError> {
        check_len("categorize", encoded, count, self.astype.size())?;
        let codes = with_kind!(self.astype, T => codes_from::<T>(encoded));
        let empty = vec![0u32; self.width];
        let labels: Vec<Vec<u32>> = self.labels.iter().map(|l| padded(l, self.width)).collect();
        let mut out = Vec::with_capacity(codes.len() * self.width);
        for code in codes {
            let label = (code >= 1.0 && code.fract() == 0.0)
                .then(|| labels.get(code as usize - 1))
                .flatten();
            out.extend_from_slice(label.unwrap_or(&empty));
        }
        Ok(to_bytes(&out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numcodecs() {
        // numcodecs.Categorize(["female", "male"], dtype="<U10").encode(
        //     np.array(["male", "female", "female", "male", "unexpected"])) == [2, 1, 1, 2, 0]
        let codec = Categorize::from_configuration(
            &serde_json::from_value(serde_json::json!({
                "labels": ["female", "male"], "dtype": "<U10", "astype": "|u1"
            }))
            .unwrap(),
        )
        .unwrap();
        let words = ["male", "female", "female", "male", "unexpected"];
        let units: Vec<u32> = words.iter().flat_map(|w| padded(w, 10)).collect();
        let dtype = DataType::from_metadata(
            &serde_json::from_str::<zarrs::metadata::v3::MetadataV3>(
                r#"{"name":"fixed_length_utf32","configuration":{"length_bytes":40}}"#,
            )
            .unwrap(),
        )
        .unwrap();
        codec.encoded_data_type(&dtype).unwrap();
        let encoded = codec.encode(&to_bytes(&units), &dtype).unwrap();
        assert_eq!(encoded, [2, 1, 1, 2, 0]);
        let decoded = elements::<u32>(&codec.decode(&encoded, &dtype, 5).unwrap());
        let mut expected = units.clone();
        expected[40..].fill(0);
        assert_eq!(decoded, expected);
        // Codes past the labels decode to the empty string.
        assert_eq!(codec.decode(&[9], &dtype, 1).unwrap(), vec![0; 40]);
    }
}
