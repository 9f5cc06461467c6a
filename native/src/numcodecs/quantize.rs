//! numcodecs' `quantize`: floats rounded to a power-of-two grid fine enough for `digits` decimal
//! digits (`round(scale * x) / scale`, computed in `dtype`, ties to even as `numpy.around`), then
//! stored as `astype`. Lossy; decoding only casts back.

use half::f16;
use zarrs::array::DataType;
use zarrs::array::codec::api::CodecError;
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;

use super::filter::{Filter, check_len, config_str};
use super::numeric::{Kind, cast, elements, to_bytes};

#[derive(Debug)]
pub(super) struct Quantize {
    digits: i64,
    dtype: Kind,
    astype: Kind,
    names: (String, Option<String>),
}

/// numcodecs' scale for `digits`: 2 to the number of bits that resolve 10^-digits.
fn scale(digits: i64) -> f64 {
    let exp = 10f64.powf(-(digits as f64)).log10();
    let exp = if exp < 0.0 { exp.floor() } else { exp.ceil() };
    let bits = 10f64.powf(-exp).log2().ceil();
    2f64.powf(bits)
}

fn round_f64(bytes: &[u8], scale: f64) -> Vec<u8> {
    let values: Vec<f64> = elements(bytes);
    let out: Vec<f64> = values
        .iter()
        .map(|x| (scale * x).round_ties_even() / scale)
        .collect();
    to_bytes(&out)
}

fn round_f32(bytes: &[u8], scale: f32) -> Vec<u8> {
    let values: Vec<f32> = elements(bytes);
    let out: Vec<f32> = values
        .iter()
        .map(|x| (scale * x).round_ties_even() / scale)
        .collect();
    to_bytes(&out)
}

/// numpy computes float16 arithmetic in float32 and rounds each result to float16.
fn round_f16(bytes: &[u8], scale: f16) -> Vec<u8> {
    let values: Vec<f16> = elements(bytes);
    let out: Vec<f16> = values
        .iter()
        .map(|&x| {
            let scaled = f16::from_f32((scale * x).to_f32().round_ties_even());
            scaled / scale
        })
        .collect();
    to_bytes(&out)
}

impl Filter for Quantize {
    const ID: &'static str = "quantize";

    fn from_configuration(configuration: &Configuration) -> Result<Self, PluginCreateError> {
        let digits = configuration
            .get("digits")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| {
                PluginCreateError::Other("numcodecs quantize needs integer digits".into())
            })?;
        let dtype = config_str("quantize", configuration, "dtype")?;
        let astype = configuration
            .get("astype")
            .and_then(serde_json::Value::as_str);
        let codec = Self {
            digits,
            dtype: Kind::parse_for("quantize", "dtype", dtype)?,
            astype: Kind::parse_for("quantize", "astype", astype.unwrap_or(dtype))?,
            names: (dtype.to_owned(), astype.map(str::to_owned)),
        };
        if !codec.dtype.is_float() || !codec.astype.is_float() {
            return Err(PluginCreateError::Other(
                "numcodecs quantize takes floating point dtypes only".into(),
            ));
        }
        Ok(codec)
    }

    fn configuration(&self) -> Configuration {
        let mut configuration = serde_json::Map::new();
        configuration.insert("digits".into(), self.digits.into());
        configuration.insert("dtype".into(), self.names.0.clone().into());
        if let Some(astype) = &self.names.1 {
            configuration.insert("astype".into(), astype.clone().into());
        }
        configuration.into()
    }

    fn encoded_data_type(&self, decoded: &DataType) -> Result<DataType, CodecError> {
        self.dtype.check_size("quantize", decoded)?;
        Ok(self.astype.data_type())
    }

    fn encode(&self, decoded: &[u8], _: &DataType) -> Result<Vec<u8>, CodecError> {
        let scale = scale(self.digits);
        let rounded = match self.dtype {
            Kind::F64 => round_f64(decoded, scale),
            Kind::F32 => round_f32(decoded, scale as f32),
            _ => round_f16(decoded, f16::from_f64(scale)),
        };
        Ok(cast(&rounded, self.dtype, self.astype))
    }

    fn decode(&self, encoded: &[u8], _: &DataType, count: u64) -> Result<Vec<u8>, CodecError> {
        check_len("quantize", encoded, count, self.astype.size())?;
        Ok(cast(encoded, self.astype, self.dtype))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numcodecs() {
        // numcodecs.Quantize(digits=2, dtype="<f8").encode(np.linspace(0, 1, 10)), as its
        // docstring shows it.
        let codec = Quantize::from_configuration(
            &serde_json::from_value(serde_json::json!({"digits": 2, "dtype": "<f8"})).unwrap(),
        )
        .unwrap();
        let x: Vec<f64> = (0..10).map(|i| f64::from(i) / 9.0).collect();
        let expected = [
            0.0, 0.109375, 0.21875, 0.3359375, 0.4453125, 0.5546875, 0.6640625, 0.78125, 0.890625,
            1.0,
        ];
        let float64 = Kind::F64.data_type();
        let encoded = codec.encode(&to_bytes(&x), &float64).unwrap();
        assert_eq!(elements::<f64>(&encoded), expected);
        assert_eq!(codec.decode(&encoded, &float64, 10).unwrap(), encoded);
        assert_eq!(scale(1), 16.0);
        assert_eq!(scale(3), 1024.0);
    }
}
