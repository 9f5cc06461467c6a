//! Zarr v2 structured data types (numpy records, `[["a", "<i4"], ["b", "<f8", [2]]]`, nested
//! ones `[["n", [["x", "<f4"]]]]` too) carried by
//! zarrs as raw bits (`|V<itemsize>`, `r<bits>` in Zarr v3 terms): each element is the record's
//! bytes, fields packed in order as numpy lays them out. The engine does not reorder bytes
//! within raw bits, so fields must be in this machine's byte order (or single-byte); Python
//! views the bytes as the structured dtype the document names.

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

/// The bytes of one field of numpy type string `dtype` (`"<i4"`, `"|S6"`, `"<U3"`, `"<M8[ns]"`),
/// refused unless its byte order is this machine's.
fn field_size(name: &str, dtype: &str) -> Result<u64> {
    let unsupported = |why: &str| {
        Error::new(
            ErrorKind::Unsupported,
            format!("the structured data type's field {name:?} of dtype {dtype:?} {why}"),
        )
    };
    let (order, code) = dtype.split_at(dtype.chars().next().map_or(0, char::len_utf8));
    let kind = code.chars().next().unwrap_or_default();
    let digits: String = code
        .chars()
        .skip(1)
        .take_while(char::is_ascii_digit)
        .collect();
    let rest = &code[1 + digits.len()..];
    let count: u64 = digits
        .parse()
        .map_err(|_| unsupported("is not a numpy type zarrlib reads"))?;
    let datetime = matches!(kind, 'M' | 'm') && rest.starts_with('[') && rest.ends_with(']');
    if !(datetime || "biufcSUV".contains(kind) && rest.is_empty()) {
        return Err(unsupported("is not a numpy type zarrlib reads"));
    }
    let size = if kind == 'U' { count * 4 } else { count };
    let native = if cfg!(target_endian = "little") {
        "<"
    } else {
        ">"
    };
    let single = size <= 1 || matches!(kind, 'S' | 'V');
    if !(single || order == native || order == "=") || !"<>|=".contains(order) {
        return Err(unsupported("is not in this machine's byte order"));
    }
    Ok(size)
}

/// The record size of a structured dtype's field list, or why zarrlib cannot read it.
pub(super) fn record_size(fields: &[Value]) -> Result<u64> {
    let mut size = 0u64;
    for field in fields {
        let parts = field.as_array().map(Vec::as_slice).unwrap_or_default();
        let (name, dtype, shape) = match parts {
            [
                Value::String(name),
                dtype @ (Value::String(_) | Value::Array(_)),
            ] => (name, dtype, None),
            [
                Value::String(name),
                dtype @ (Value::String(_) | Value::Array(_)),
                shape,
            ] => (name, dtype, Some(shape)),
            _ => {
                return Err(Error::invalid_metadata(format!(
                    "a structured data type's field must be [name, dtype] or [name, dtype, shape], not {field}"
                )));
            }
        };
        let count = match shape {
            None => Some(1),
            Some(shape) => shape.as_array().and_then(|dims| {
                dims.iter()
                    .try_fold(1u64, |n, d| n.checked_mul(d.as_u64()?))
            }),
        }
        .ok_or_else(|| Error::invalid_metadata(format!("field {name:?} has an invalid shape")))?;
        let one = match dtype {
            // A nested record: its own fields, packed in place (bounded by the JSON parser's
            // nesting limit).
            Value::Array(fields) => record_size(fields)?,
            _ => field_size(name, dtype.as_str().unwrap_or_default())?,
        };
        let field = one
            .checked_mul(count)
            .ok_or_else(|| Error::invalid_metadata(format!("field {name:?} is too large")))?;
        size = size
            .checked_add(field)
            .ok_or_else(|| Error::invalid_metadata("the structured data type is too large"))?;
    }
    if size == 0 {
        return Err(Error::invalid_metadata(
            "a structured data type needs fields",
        ));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(fields: Value) -> Result<u64> {
        record_size(fields.as_array().unwrap())
    }

    #[test]
    fn records_are_packed_as_numpy_packs_them() {
        // np.dtype([("a", "<i4"), ("b", "<f8"), ("c", "|S3"), ("d", "<U2", [2, 2]),
        //           ("e", "<M8[ns]")]).itemsize == 4 + 8 + 3 + 32 + 8
        let fields = serde_json::json!([
            ["a", "<i4"],
            ["b", "<f8"],
            ["c", "|S3"],
            ["d", "<U2", [2, 2]],
            ["e", "<M8[ns]"]
        ]);
        assert_eq!(size(fields).unwrap(), 55);
        // np.dtype([("a", [("x", "<i4"), ("y", "|u1")], (2,)), ("b", "<u2")]).itemsize == 12
        let nested = serde_json::json!([["a", [["x", "<i4"], ["y", "|u1"]], [2]], ["b", "<u2"]]);
        assert_eq!(size(nested).unwrap(), 12);
        let inner = size(serde_json::json!([["a", [["x", "|O"]]]])).unwrap_err();
        assert_eq!(inner.kind, ErrorKind::Unsupported);
        assert!(inner.message.contains("\"x\""), "{}", inner.message);
        let swapped = if cfg!(target_endian = "little") {
            ">f8"
        } else {
            "<f8"
        };
        let foreign = size(serde_json::json!([["b", swapped]])).unwrap_err();
        assert_eq!(foreign.kind, ErrorKind::Unsupported);
        assert!(foreign.message.contains(swapped), "{}", foreign.message);
        assert_eq!(
            size(serde_json::json!([["o", "|O"]])).unwrap_err().kind,
            ErrorKind::Unsupported
        );
    }
}
