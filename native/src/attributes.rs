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

use crate::error::{Error, Result};
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
    let path = node_path(path)?;
    let _serialised = UPDATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut node = require_node(&store.storage, &path)?;
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
