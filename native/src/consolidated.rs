//! Consolidated metadata: the metadata of a whole hierarchy kept in one document at a group, as
//! zarr-python writes it, so that a hierarchy can be read without listing the store (slow on
//! object stores, impossible over HTTP).
//!
//! - Zarr v3 (zarr-python's convention; not yet in the specification): the group's `zarr.json`
//!   holds `"consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata":
//!   {relative path: document}}` with every node below the group, flattened.
//! - Zarr v2: `.zmetadata` beside the group's `.zgroup` holds `{"zarr_consolidated_format": 1,
//!   "metadata": {"a/.zarray": {...}, "a/.zattrs": {...}, ...}}`, the group's own documents included.
//!
//! A listing is answered from the nearest group at or above the node whose consolidated
//! metadata lists the node. Consolidated metadata is a snapshot: nodes created or changed after
//! it was written are not in it until it is written again.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use zarrs::node::NodePath;
use zarrs::storage::{ReadableStorageTraits, ReadableWritableListableStorage, StoreKey};

use crate::error::{Error, ErrorKind, Result};
use crate::exact_json::{Members, needs_exact, non_finite, object_text, parseable};
use crate::node::{
    self, NodeDoc, NodeKind, list_children, list_children_of, node_path, read_node,
    refuse_non_finite, relative_path, require_node, write_json_text,
};
use crate::store::Store;

/// Whether a read may, must or must not be answered from consolidated metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// Answer from consolidated metadata when a group at or above the node has some listing it,
    /// otherwise from the store (zarr-python's `use_consolidated=None`, its default).
    IfPresent,
    /// Always from the store.
    Never,
    /// Only from consolidated metadata; `NotFound` if none lists the node.
    Required,
}

/// The flattened consolidated metadata of one group: each node below it by its path relative
/// to the group (sorted), with its metadata document in the form `node::read_node` returns.
type Entries = BTreeMap<String, NodeDoc>;

const V2_KEY: &str = ".zmetadata";

/// The consolidated metadata stored at the group `path` (whose document is `group`), if any.
fn entries_at(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
    group: &NodeDoc,
) -> Result<Option<Entries>> {
    if group.kind != NodeKind::Group {
        return Ok(None);
    }
    if group.zarr_format == 3 {
        return match group.doc.get("consolidated_metadata") {
            None | Some(Value::Null) => Ok(None),
            Some(inline) => {
                let exact = group.exact.get("consolidated_metadata");
                v3_entries(inline, exact, path).map(Some)
            }
        };
    }
    let key = v2_key(path)?;
    match storage.get(&key)? {
        None => Ok(None),
        Some(bytes) => {
            let doc: Value = serde_json::from_slice(&parseable(&bytes)).map_err(|err| {
                Error::invalid_metadata(format!("{key} is not valid JSON: {err}"))
            })?;
            v2_entries(&doc, &bytes, &key).map(Some)
        }
    }
}

fn v2_key(path: &NodePath) -> Result<StoreKey> {
    let rel = relative_path(path);
    let key = if rel.is_empty() {
        V2_KEY.to_owned()
    } else {
        format!("{rel}/{V2_KEY}")
    };
    StoreKey::new(key).map_err(|err| Error::invalid_argument(err.to_string()))
}

/// The nodes the inline consolidated metadata `inline` lists; `exact` is its text when parsing
/// it lost a number (which the nodes' documents then keep exact).
fn v3_entries(inline: &Value, exact: Option<&str>, path: &NodePath) -> Result<Entries> {
    let bad = |what: &str| {
        Error::invalid_metadata(format!(
            "the consolidated metadata of the group at {:?} {what}",
            relative_path(path)
        ))
    };
    if inline.get("kind").and_then(Value::as_str) != Some("inline") {
        return Err(bad("is not of kind \"inline\""));
    }
    let Some(Value::Object(metadata)) = inline.get("metadata") else {
        return Err(bad("has no \"metadata\" object"));
    };
    // The documents' exact text, when some number needs it.
    let exact = exact
        .and_then(Members::parse)
        .and_then(|inline| inline.get("metadata").and_then(Members::parse));
    let mut entries = Entries::new();
    for (child, doc) in metadata {
        let kind = match doc.get("node_type").and_then(Value::as_str) {
            Some("array") => NodeKind::Array,
            Some("group") => NodeKind::Group,
            _ => {
                return Err(bad(&format!(
                    "lists {child:?} without a valid \"node_type\""
                )));
            }
        };
        node_path(child)?;
        let text = match exact.as_ref().and_then(|exact| exact.get(child)) {
            Some(text) => text.to_owned(),
            None => doc.to_string(),
        };
        let source = format!(
            "the consolidated metadata of the group at {:?}, for {child:?},",
            relative_path(path)
        );
        let mut node = NodeDoc::parse_stored(&text, kind, &source)?;
        // Nested consolidated metadata is an artifact of consolidation, not the child's own.
        node.remove_member("consolidated_metadata");
        entries.insert(child.clone(), node);
    }
    Ok(entries)
}

/// The nodes `.zmetadata` lists: `doc` parsed from `text` (by way of `parseable`), whose
/// attributes are kept exact where parsing lost a number. A bare non-finite token elsewhere is
/// refused.
fn v2_entries(doc: &Value, text: &[u8], key: &StoreKey) -> Result<Entries> {
    let bad = |what: &str| Error::invalid_metadata(format!("{key} {what}"));
    if doc.get("zarr_consolidated_format").and_then(Value::as_u64) != Some(1) {
        return Err(bad("does not declare zarr_consolidated_format 1"));
    }
    let Some(Value::Object(metadata)) = doc.get("metadata") else {
        return Err(bad("has no \"metadata\" object"));
    };
    let exact = if needs_exact(text) {
        std::str::from_utf8(text)
            .ok()
            .and_then(Members::parse)
            .and_then(|doc| doc.get("metadata").and_then(Members::parse))
    } else {
        None
    };
    if non_finite(text).is_some() {
        let Some(exact) = &exact else {
            return Err(bad(
                "holds a bare non-finite token outside its \"metadata\"",
            ));
        };
        let documents = exact.iter().filter(|(name, _)| !name.ends_with(".zattrs"));
        refuse_non_finite(key.as_str(), documents, &[])?;
    }
    let mut entries = Entries::new();
    for (name, document) in metadata {
        let (parent, file) = name.rsplit_once('/').unwrap_or(("", name));
        let kind = match file {
            ".zarray" => NodeKind::Array,
            ".zgroup" => NodeKind::Group,
            _ => continue, // attributes (merged below)
        };
        if parent.is_empty() {
            continue; // the group's own documents
        }
        let Value::Object(document) = document else {
            return Err(bad(&format!(
                "lists {name:?} as something other than a JSON object"
            )));
        };
        node_path(parent)?;
        let mut document = document.clone();
        document.remove("consolidated_metadata");
        let attributes = match metadata.get(&format!("{parent}/.zattrs")) {
            Some(Value::Object(attributes)) => attributes.clone(),
            _ => Map::new(),
        };
        let mut node = NodeDoc {
            kind,
            zarr_format: 2,
            doc: document,
            exact: Members::default(),
        };
        node.set_value("attributes", Value::Object(attributes));
        let attributes_key = format!("{parent}/.zattrs");
        if let Some(text) = exact.as_ref().and_then(|exact| exact.get(&attributes_key))
            && needs_exact(text.as_bytes())
        {
            node.set_member("attributes", text)?;
        }
        entries.insert(parent.to_owned(), node);
    }
    Ok(entries)
}

/// The nearest group at or above `path` whose consolidated metadata lists `path` (or is at
/// `path`): that group's path relative to the store, and its entries.
/// `node` is the document at `path` when the caller has read it (so it is not read again).
fn covering(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
    node: Option<&NodeDoc>,
) -> Result<Option<(String, Entries)>> {
    let target = relative_path(path).to_owned();
    let mut current = Some(path.clone());
    while let Some(group) = current {
        let doc = match node.filter(|_| group == *path) {
            Some(node) => Some(node.clone()),
            None => read_node(storage, &group)?,
        };
        if let Some(doc) = doc
            && let Some(entries) = entries_at(storage, &group, &doc)?
        {
            let base = relative_path(&group).to_owned();
            if group == *path || entries.contains_key(below(&base, &target)) {
                return Ok(Some((base, entries)));
            }
        }
        current = group.parent();
    }
    Ok(None)
}

/// `target` relative to `base`, an ancestor of it or itself ("" for itself).
fn below<'a>(base: &str, target: &'a str) -> &'a str {
    if base.is_empty() {
        target
    } else {
        target
            .strip_prefix(base)
            .map_or(target, |rest| rest.trim_start_matches('/'))
    }
}

/// The consolidated entry for `own` (a key `covering` found).
fn entry<'a>(entries: &'a Entries, own: &str) -> Result<&'a NodeDoc> {
    entries.get(own).ok_or_else(|| {
        Error::new(
            ErrorKind::Internal,
            format!("consolidated entry {own:?} vanished"),
        )
    })
}

fn join(base: &str, child: &str) -> String {
    if base.is_empty() {
        child.to_owned()
    } else {
        format!("{base}/{child}")
    }
}

fn not_consolidated(path: &NodePath) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!(
            "no consolidated metadata at or above {:?} lists it",
            relative_path(path)
        ),
    )
}

/// The metadata document of the node at `path`. Unless consolidated metadata is required, it is
/// read from the node itself: one request either way, and never stale.
pub fn metadata(store: &Store, path: &str, using: Use) -> Result<NodeDoc> {
    let path = node_path(path)?;
    if using != Use::Required {
        return require_node(&store.storage, &path);
    }
    let Some((base, entries)) = covering(&store.storage, &path, None)? else {
        return Err(not_consolidated(&path));
    };
    let own = below(&base, relative_path(&path));
    if own.is_empty() {
        return require_node(&store.storage, &path);
    }
    entry(&entries, own).cloned()
}

/// The direct children of the node at `path`, sorted by path, from consolidated metadata as
/// `using` says, otherwise by listing the store.
pub fn children(store: &Store, path: &str, using: Use) -> Result<Vec<(String, NodeDoc)>> {
    let path = node_path(path)?;
    if using == Use::Never {
        return list_children(&store.storage, &path);
    }
    // Read once: it decides whether consolidated metadata starts here, and what to list if not.
    let node = read_node(&store.storage, &path)?;
    let Some((base, entries)) = covering(&store.storage, &path, node.as_ref())? else {
        return match (using, node) {
            (Use::Required, _) => Err(not_consolidated(&path)),
            (_, Some(node)) => list_children_of(&store.storage, &path, &node),
            (_, None) => list_children(&store.storage, &path), // NotFound, as listing says it
        };
    };
    let target = relative_path(&path);
    let own = below(&base, target);
    if !own.is_empty() && entry(&entries, own)?.kind == NodeKind::Array {
        return Ok(Vec::new());
    }
    let mut children = Vec::new();
    for (child, doc) in &entries {
        let name = if own.is_empty() {
            Some(child.as_str())
        } else {
            child.strip_prefix(&format!("{own}/"))
        };
        if let Some(name) = name.filter(|name| !name.contains('/')) {
            children.push((join(target, name), doc.clone()));
        }
    }
    // Entries are sorted, and a child's path sorts as its entry's name does.
    Ok(children)
}

/// Every node below `path`, by path relative to it, found by listing the store.
fn descendants(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
    format: u8,
) -> Result<Vec<(String, NodeDoc)>> {
    let base = relative_path(path).to_owned();
    let mut found = Vec::new();
    let mut pending = vec![path.clone()];
    while let Some(group) = pending.pop() {
        for (child, doc) in list_children(storage, &group)? {
            if doc.zarr_format != format {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "cannot consolidate Zarr v{} node {child:?} into a Zarr v{format} hierarchy",
                        doc.zarr_format
                    ),
                ));
            }
            let child_path = node_path(&child)?;
            if doc.kind == NodeKind::Group {
                pending.push(child_path);
            }
            found.push((below(&base, &child).to_owned(), doc));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// Write the consolidated metadata of the group at `path`: every node below it, found by
/// listing the store, in the group's own format. Returns the group's metadata document.
pub fn consolidate(store: &Store, path: &str) -> Result<NodeDoc> {
    let path = node_path(path)?;
    let mut group = require_node(&store.storage, &path)?;
    if group.kind != NodeKind::Group {
        return Err(Error::new(
            ErrorKind::NodeKind,
            format!(
                "the node at {:?} is an array; only groups hold consolidated metadata",
                relative_path(&path)
            ),
        ));
    }
    let nodes = descendants(&store.storage, &path, group.zarr_format)?;
    if group.zarr_format == 3 {
        group.set_member("consolidated_metadata", &v3_document(&nodes)?)?;
        node::write_metadata(&store.storage, &path, &group)?;
    } else {
        write_json_text(
            &store.storage,
            &v2_key(&path)?,
            &v2_document(&group, &nodes),
        )?;
    }
    Ok(group)
}

/// The text of zarr-python's inline consolidated metadata listing `nodes`.
fn v3_document(nodes: &[(String, NodeDoc)]) -> Result<String> {
    // As zarr-python writes them: groups below carry an empty inline document.
    let empty = r#"{"kind":"inline","must_understand":false,"metadata":{}}"#;
    let mut documents = Vec::with_capacity(nodes.len());
    for (own, node) in nodes {
        let mut node = node.clone();
        if node.kind == NodeKind::Group {
            node.set_member("consolidated_metadata", empty)?;
        }
        documents.push((own.as_str(), node.to_json()));
    }
    let metadata = object_text(documents.iter().map(|(own, doc)| (*own, doc.as_str())));
    Ok(object_text([
        ("kind", r#""inline""#),
        ("must_understand", "false"),
        ("metadata", metadata.as_str()),
    ]))
}

/// The text of the `.zmetadata` document of `group` listing `nodes`.
fn v2_document(group: &NodeDoc, nodes: &[(String, NodeDoc)]) -> String {
    let mut metadata: Vec<(String, String)> = Vec::with_capacity(2 * nodes.len() + 2);
    let own = std::iter::once((String::new(), group));
    for (own, node) in own.chain(nodes.iter().map(|(p, n)| (p.clone(), n))) {
        let prefix = if own.is_empty() {
            String::new()
        } else {
            format!("{own}/")
        };
        let mut doc = node.clone();
        let attributes = doc
            .member_text("attributes")
            .unwrap_or_else(|| "{}".to_owned());
        doc.remove_member("attributes");
        doc.remove_member("node_type");
        let name = if node.kind == NodeKind::Array {
            ".zarray"
        } else {
            ".zgroup"
        };
        metadata.push((format!("{prefix}{name}"), doc.to_json()));
        metadata.push((format!("{prefix}.zattrs"), attributes));
    }
    let metadata = object_text(metadata.iter().map(|(n, t)| (n.as_str(), t.as_str())));
    object_text([
        ("metadata", metadata.as_str()),
        ("zarr_consolidated_format", "1"),
    ])
}
