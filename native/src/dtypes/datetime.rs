//! Zarr v2 `<M8[unit]` / `<m8[unit]` (numpy datetime64 / timedelta64, as zarr-python writes
//! them), which zarrs reads only in their Zarr v3 form: the same zarrs data types, named by the
//! v2 string. A v2 `null` fill value is NaT, as zarr-python reads it (see `super::prepare_v2`).

use zarrs::array::DataType;
use zarrs::metadata::v3::MetadataV3;
use zarrs::plugin::PluginCreateError;

/// The type a Zarr v2 datetime/timedelta string names, if `name` is one.
pub(super) fn from_v2_name(name: &str) -> Option<Result<DataType, PluginCreateError>> {
    let code = name.strip_prefix(['<', '>', '|', '='])?;
    let (v3_name, unit) = if let Some(unit) = code.strip_prefix("M8[") {
        ("numpy.datetime64", unit)
    } else if let Some(unit) = code.strip_prefix("m8[") {
        ("numpy.timedelta64", unit)
    } else {
        return None;
    };
    let unit = unit.strip_suffix(']')?;
    let digits = unit.chars().take_while(char::is_ascii_digit).count();
    let (scale, unit) = unit.split_at(digits);
    let scale: u32 = if scale.is_empty() {
        1
    } else {
        scale.parse().ok()?
    };
    let configuration = serde_json::json!({"unit": unit, "scale_factor": scale});
    let serde_json::Value::Object(configuration) = configuration else {
        unreachable!("a JSON object")
    };
    Some(DataType::from_metadata(
        &MetadataV3::new_with_configuration(v3_name, configuration),
    ))
}

/// Whether a Zarr v2 dtype string is a datetime or timedelta.
pub(super) fn is_v2_datetime(dtype: &str) -> bool {
    let code = dtype.trim_start_matches(['<', '>', '|', '=']);
    code.starts_with("M8") || code.starts_with("m8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_zarrs_types() {
        let ns = from_v2_name("<M8[ns]").unwrap().unwrap();
        assert_eq!(ns.name_v3().as_deref(), Some("numpy.datetime64"));
        assert_eq!(ns.fixed_size(), Some(8));
        let ms = from_v2_name(">m8[10ms]").unwrap().unwrap();
        assert_eq!(ms.name_v3().as_deref(), Some("numpy.timedelta64"));
        assert!(from_v2_name("<M8[fortnight]").unwrap().is_err());
        assert!(from_v2_name("<i8").is_none());
    }
}
