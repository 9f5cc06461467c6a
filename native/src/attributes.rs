//! Attributes of a node, changed without touching anything else: for Zarr v3 the `attributes`
//! member of `zarr.json` (the document is rewritten with every other member as stored), for
//! Zarr v2 the `.zattrs` document alone (`.zarray`/`.zgroup` and chunks are not written).
//!
//! The change is a read-modify-write of one document. Writers in one process that update the
//! same node's attributes are serialised here, so no update is lost between them; writers in
//! other processes are not (the store has no compare-and-swap), as in zarr-python.

use std::sync::Mutex;

use serde_json::{Map, Value};
use zarrs::node::{meta_key_v2_attributes, meta_key_v3};

use crate::error::{Error, ErrorKind, Result};
use crate::node::{NodeDoc, node_path, require_node, write_json};
use crate::store::Store;

/// Serialises attribute updates in this process (they are rare and each is a few small I/Os).
static UPDATES: Mutex<()> = Mutex::new(());

/// Merge `attributes_json` (a JSON object) into the attributes of the node at `path`, key by key
/// at the top level (as Python's `dict.update`), or with `replace` make it the whole set.
/// Returns the node's new metadata document. `NotFound` if there is no node.
pub fn update(store: &Store, path: &str, attributes_json: &str, replace: bool) -> Result<NodeDoc> {
    let Value::Object(changes) = serde_json::from_str::<Value>(attributes_json)
        .map_err(|err| Error::invalid_argument(format!("attributes are not valid JSON: {err}")))?
    else {
        return Err(Error::invalid_argument("attributes must be a JSON object"));
    };
    if let Some(literal) = wide_integer(attributes_json.as_bytes()) {
        return Err(Error::invalid_argument(format!(
            "the attributes hold the integer {literal}, beyond 64 bits: zarrlib keeps JSON \
             numbers as 64-bit integers or doubles, and would store a rounded value"
        )));
    }
    let path = node_path(path)?;
    let _serialised = UPDATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut node = require_node(&store.storage, &path)?;
    // Another writer (zarr-python keeps Python's integers whole) may have stored one: writing
    // the document back from its parsed form would replace it with a rounded double.
    let stored_key = if node.zarr_format == 3 {
        meta_key_v3(&path)
    } else {
        meta_key_v2_attributes(&path)
    };
    if let Some(bytes) = store.storage.get(&stored_key)?
        && let Some(literal) = wide_integer(&bytes)
    {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{stored_key} holds the integer {literal}, beyond 64 bits: zarrlib reads it as \
                 a rounded double, so it does not rewrite these attributes"
            ),
        ));
    }
    let attributes = merged(&node.doc, changes, replace);
    if node.zarr_format == 3 {
        node.doc
            .insert("attributes".into(), Value::Object(attributes));
        write_json(&store.storage, &meta_key_v3(&path), &node.doc)?;
    } else {
        write_json(&store.storage, &meta_key_v2_attributes(&path), &attributes)?;
        node.doc
            .insert("attributes".into(), Value::Object(attributes));
    }
    Ok(node)
}

fn merged(
    doc: &Map<String, Value>,
    changes: Map<String, Value>,
    replace: bool,
) -> Map<String, Value> {
    if replace {
        return changes;
    }
    let mut attributes = match doc.get("attributes") {
        Some(Value::Object(current)) => current.clone(),
        _ => Map::new(),
    };
    attributes.extend(changes);
    attributes
}

/// The first integer literal in the JSON `text` that no 64-bit integer holds. serde_json reads
/// such a number as the nearest double, so a document written back from its parsed form would
/// hold a different number.
pub(crate) fn wide_integer(text: &[u8]) -> Option<&str> {
    let is_number_byte = |b: &u8| matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9');
    let mut i = 0;
    let mut in_string = false;
    while i < text.len() {
        let b = text[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            i += 1;
        } else if b == b'-' || b.is_ascii_digit() {
            let length = text[i..].iter().take_while(|b| is_number_byte(b)).count();
            let literal = std::str::from_utf8(&text[i..i + length]).unwrap_or_default();
            i += length;
            let integer =
                literal.bytes().any(|b| b.is_ascii_digit()) && !literal.contains(['.', 'e', 'E']);
            if integer && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                return Some(literal);
            }
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_64_bits_are_found_outside_strings_only() {
        fn wide(text: &str) -> Option<&str> {
            wide_integer(text.as_bytes())
        }
        assert_eq!(
            wide(r#"{"n": 1180591620717411303424}"#),
            Some("1180591620717411303424")
        );
        assert_eq!(
            wide(r#"{"m": [1, -18446744073709551616]}"#),
            Some("-18446744073709551616")
        );
        assert_eq!(
            wide(r#"{"a": 18446744073709551615, "b": -9223372036854775808}"#),
            None
        );
        assert_eq!(
            wide(r#"{"f": 1e400, "g": 12345678901234567890123.5, "h": -0.0}"#),
            None
        );
        assert_eq!(
            wide(r#"{"s": "1180591620717411303424", "t": "\"99999999999999999999"}"#),
            None
        );
        assert_eq!(wide(r#"{"99999999999999999999": true}"#), None);
    }
}
