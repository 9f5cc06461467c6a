//! numcodecs' `delta`: the first element, then each element minus the one before it, computed in
//! `dtype` (integers wrap) and stored as `astype`. Decoding adds them up again in `dtype`, as
//! numpy's `cumsum` into a `dtype` output does.

use zarrs::array::DataType;
use zarrs::array::codec::api::CodecError;
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;

use super::filter::{Filter, check_len, config_str};
use super::numeric::{Kind, cast, elements, to_bytes, with_kind};

#[derive(Debug)]
pub(super) struct Delta {
    dtype: Kind,
    astype: Kind,
    /// The fields as the metadata spelled them (written back as they were read).
    names: (String, Option<String>),
}

/// Addition and subtraction as numpy does them on one dtype: integers wrap.
trait Step: Copy {
    fn add(self, other: Self) -> Self;
    fn sub(self, other: Self) -> Self;
}

macro_rules! wrapping_step {
    ($($t:ty),*) => {$(
        impl Step for $t {
            fn add(self, other: Self) -> Self { self.wrapping_add(other) }
            fn sub(self, other: Self) -> Self { self.wrapping_sub(other) }
        }
    )*};
}
wrapping_step!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! float_step {
    ($($t:ty),*) => {$(
        impl Step for $t {
            fn add(self, other: Self) -> Self { self + other }
            fn sub(self, other: Self) -> Self { self - other }
        }
    )*};
}
float_step!(half::f16, f32, f64);

fn differences<T: Step + bytemuck::Pod>(bytes: &[u8]) -> Vec<u8> {
    let values: Vec<T> = elements(bytes);
    let mut out = values.clone();
    for i in 1..values.len() {
        out[i] = values[i].sub(values[i - 1]);
    }
    to_bytes(&out)
}

fn running_sums<T: Step + bytemuck::Pod>(bytes: &[u8]) -> Vec<u8> {
    let mut values: Vec<T> = elements(bytes);
    for i in 1..values.len() {
        values[i] = values[i].add(values[i - 1]);
    }
    to_bytes(&values)
}

impl Filter for Delta {
    const ID: &'static str = "delta";

    fn from_configuration(configuration: &Configuration) -> Result<Self, PluginCreateError> {
        let dtype = config_str("delta", configuration, "dtype")?;
        let astype = configuration
            .get("astype")
            .and_then(serde_json::Value::as_str);
        Ok(Self {
            dtype: Kind::parse_for("delta", "dtype", dtype)?,
            astype: Kind::parse_for("delta", "astype", astype.unwrap_or(dtype))?,
            names: (dtype.to_owned(), astype.map(str::to_owned)),
        })
    }

    fn configuration(&self) -> Configuration {
        let mut configuration = serde_json::Map::new();
        configuration.insert("dtype".into(), self.names.0.clone().into());
        if let Some(astype) = &self.names.1 {
            configuration.insert("astype".into(), astype.clone().into());
        }
        configuration.into()
    }

    fn encoded_data_type(&self, decoded: &DataType) -> Result<DataType, CodecError> {
        self.dtype.check_size("delta", decoded)?;
        Ok(self.astype.data_type())
    }

    fn encode(&self, decoded: &[u8], _: &DataType) -> Result<Vec<u8>, CodecError> {
        let differences = with_kind!(self.dtype, T => differences::<T>(decoded));
        Ok(cast(&differences, self.dtype, self.astype))
    }

    fn decode(&self, encoded: &[u8], _: &DataType, count: u64) -> Result<Vec<u8>, CodecError> {
        check_len("delta", encoded, count, self.astype.size())?;
        let steps = cast(encoded, self.astype, self.dtype);
        Ok(with_kind!(self.dtype, T => running_sums::<T>(&steps)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(dtype: &str, astype: &str) -> Delta {
        let configuration = serde_json::json!({"dtype": dtype, "astype": astype});
        Delta::from_configuration(&serde_json::from_value(configuration).unwrap()).unwrap()
    }

    #[test]
    fn matches_numcodecs() {
        // numcodecs.Delta(dtype="<i2", astype="<i1").encode(np.arange(100, 120, 2, "<i2")),
        // and int32 values whose differences wrap around.
        let codec = delta("<i2", "<i1");
        let data: Vec<i16> = (100..120).step_by(2).collect();
        let mut expected = vec![100u8];
        expected.extend([2u8; 9]);
        let int16 = Kind::I16.data_type();
        assert_eq!(codec.encode(&to_bytes(&data), &int16).unwrap(), expected);
        assert_eq!(
            codec.decode(&expected, &int16, 10).unwrap(),
            to_bytes(&data)
        );
        let wrapping = delta("<i4", "<i4");
        let values = to_bytes(&[i32::MAX, i32::MIN, 0]);
        let int32 = Kind::I32.data_type();
        let encoded = wrapping.encode(&values, &int32).unwrap();
        assert_eq!(encoded, to_bytes(&[i32::MAX, 1, i32::MIN]));
        assert_eq!(wrapping.decode(&encoded, &int32, 3).unwrap(), values);
        assert!(wrapping.decode(&encoded, &int32, 4).is_err());
    }
}
