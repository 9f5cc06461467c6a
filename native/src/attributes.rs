//! Attributes of a node, changed without touching anything else: for Zarr v3 the `attributes`
//! member of `zarr.json` (the document is rewritten with every other member as stored), for
//! Zarr v2 the `.zattrs` document alone (`.zarray`/`.zgroup` and chunks are not written).
//!
//! The change is a read-modify-write of one document. Writers in one process that update the
//! same node's attributes are serialised here, so no update is lost between them; writers in
//! other processes are not (the store has no compare-and-swap), as in zarr-python.

use std::sync::Mutex;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::exact_json::{Members, parseable};
use crate::node::{NodeDoc, node_path, require_node, write_attributes};
use crate::store::Store;

/// Serialises attribute updates in this process (they are rare and each is a few small I/Os).
static UPDATES: Mutex<()> = Mutex::new(());

/// Merge `attributes_json` (a JSON object) into the attributes of the node at `path`, key by key
/// at the top level (as Python's `dict.update`), or with `replace` make it the whole set.
/// Returns the node's new metadata document. `NotFound` if there is no node.
///
/// The merge is made on the members' text, so numbers that serde_json would round or refuse
/// (integers beyond 64 bits, which zarr-python keeps whole, and the bare `NaN`, `Infinity` and
/// `-Infinity` Python's json writes for non-finite floats) are written back as they were given
/// or stored.
pub fn update(store: &Store, path: &str, attributes_json: &str, replace: bool) -> Result<NodeDoc> {
    let Value::Object(_) = serde_json::from_slice::<Value>(&parseable(attributes_json.as_bytes()))
        .map_err(|err| Error::invalid_argument(format!("attributes are not valid JSON: {err}")))?
    else {
        return Err(Error::invalid_argument("attributes must be a JSON object"));
    };
    let changes = members(attributes_json)?;
    let path = node_path(path)?;
    let _serialised = UPDATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut node = require_node(&store.storage, &path)?;
    let mut attributes = match (replace, node.member_text("attributes")) {
        (false, Some(current)) => members(&current)?,
        _ => Members::default(),
    };
    attributes.update(changes);
    node.set_member("attributes", &attributes.to_text())?;
    write_attributes(&store.storage, &path, &node)?;
    Ok(node)
}

fn members(text: &str) -> Result<Members> {
    Members::parse(text).ok_or_else(|| Error::invalid_argument("attributes must be a JSON object"))
}
