//! Nodes of a hierarchy: paths, metadata documents, creation, deletion and listing.
//!
//! Metadata travels as JSON documents in zarr-python's shape: the Zarr v3 `zarr.json` document
//! as stored, or for Zarr v2 the `.zarray`/`.zgroup` document with `.zattrs` merged in under
//! `"attributes"`. Documents are written as the caller gave them (after validation), so reading
//! a node's metadata returns what created it.

use serde_json::{Map, Value};
use zarrs::node::{
    NodePath, meta_key_v2_array, meta_key_v2_attributes, meta_key_v2_group, meta_key_v3,
};
use zarrs::storage::{
    ListableStorageTraits, ReadableStorageTraits, ReadableWritableListableStorage, StoreKey,
    StorePrefix, WritableStorageTraits,
};

use crate::error::{Error, ErrorKind, Result};
use crate::exact_json::{self, Members, needs_exact, non_finite, parseable, wide_integer};
use crate::store::Store;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Array,
    Group,
}

impl NodeKind {
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Array => "array",
            NodeKind::Group => "group",
        }
    }
}

/// A node's metadata document (a JSON object) and what it describes.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeDoc {
    pub kind: NodeKind,
    pub zarr_format: u8,
    /// The document as parsed. Change members through `set_member`/`set_value`/`remove_member`
    /// so that `exact` stays in step.
    pub doc: Map<String, Value>,
    /// The exact text of the members whose parsed form loses a number, usually none: an integer
    /// beyond 64 bits (zarr-python keeps Python's integers whole), or a bare `NaN`, `Infinity`
    /// or `-Infinity` (which Python's json writes for non-finite floats, and `doc` holds as
    /// `null`). Written and handed out in place of the parsed form, so the number survives.
    pub(crate) exact: Members,
}

impl NodeDoc {
    /// The document as compact JSON text, exact members spliced in.
    pub fn to_json(&self) -> String {
        if self.exact.is_empty() {
            return serde_json::to_string(&self.doc).expect("a JSON map always serialises");
        }
        let texts: Vec<(&str, String)> = self
            .doc
            .iter()
            .map(|(name, value)| {
                let text = match self.exact.get(name) {
                    Some(exact) => exact.to_owned(),
                    None => value.to_string(),
                };
                (name.as_str(), text)
            })
            .collect();
        exact_json::object_text(texts.iter().map(|(n, t)| (*n, t.as_str())))
    }

    /// The document as stored: laid out as serde_json's pretty printer does.
    pub(crate) fn to_stored_json(&self) -> Vec<u8> {
        if self.exact.is_empty() {
            return serde_json::to_vec_pretty(&self.doc).expect("a JSON map always serialises");
        }
        exact_json::pretty(&self.to_json()).into_bytes()
    }

    /// The JSON text of member `name` (its exact text when it has one).
    pub(crate) fn member_text(&self, name: &str) -> Option<String> {
        match self.exact.get(name) {
            Some(exact) => Some(exact.to_owned()),
            None => self.doc.get(name).map(Value::to_string),
        }
    }

    /// Set member `name` to the JSON `text` (valid JSON, bare non-finite tokens allowed), keeping
    /// it exact if parsing loses a number.
    pub(crate) fn set_member(&mut self, name: &str, text: &str) -> Result<()> {
        let value: Value = serde_json::from_slice(&parseable(text.as_bytes()))?;
        self.doc.insert(name.to_owned(), value);
        if needs_exact(text.as_bytes()) {
            self.exact
                .insert(name.to_owned(), exact_json::compact(text));
        } else {
            self.exact.remove(name);
        }
        Ok(())
    }

    /// Set member `name` to `value` (which loses no number: nothing beyond 64 bits, no `null`
    /// read from a non-finite token).
    pub(crate) fn set_value(&mut self, name: &str, value: Value) {
        self.doc.insert(name.to_owned(), value);
        self.exact.remove(name);
    }

    pub(crate) fn remove_member(&mut self, name: &str) {
        self.doc.remove(name);
        self.exact.remove(name);
    }

    /// A document read from `text` (a JSON object, already parsed into `doc` by way of
    /// `parseable`): the members whose parsed form loses a number, kept exact. `source` names
    /// the document for errors: a bare non-finite token outside the attributes (and the
    /// consolidated metadata, which holds other nodes' attributes) is refused, since zarrs
    /// would read that member with a `null` in its place.
    fn with_exact_members(
        kind: NodeKind,
        zarr_format: u8,
        doc: Map<String, Value>,
        text: &str,
        source: &str,
    ) -> Result<Self> {
        let mut exact = Members::default();
        if needs_exact(text.as_bytes())
            && let Some(members) = Members::parse(text)
        {
            for (name, member) in members.iter() {
                if needs_exact(member.as_bytes()) {
                    exact.insert(name.to_owned(), member.to_owned());
                }
            }
        }
        refuse_non_finite(
            source,
            exact.iter(),
            &["attributes", "consolidated_metadata"],
        )?;
        Ok(Self {
            kind,
            zarr_format,
            doc,
            exact,
        })
    }

    /// Parse and check a caller's document for a node of `kind`. Integers beyond 64 bits and
    /// bare non-finite tokens are kept exact in the attributes and refused elsewhere (zarrs
    /// would read them rounded, or as `null`).
    pub fn parse(text: &str, kind: NodeKind) -> Result<Self> {
        let node = Self::parse_stored(text, kind, "the metadata")?;
        let wide = node
            .exact
            .iter()
            .filter(|(name, _)| *name != "attributes")
            .find_map(|(_, member)| wide_integer(member.as_bytes()));
        if let Some(literal) = wide {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "the metadata holds the integer {literal}, beyond 64 bits, outside its \
                     attributes: zarrlib keeps JSON numbers there as 64-bit integers or doubles"
                ),
            ));
        }
        Ok(node)
    }

    /// `parse` for a document another writer stored, named `source` in errors: every member is
    /// kept exact when it needs to be (consolidated metadata holds whole documents).
    pub(crate) fn parse_stored(text: &str, kind: NodeKind, source: &str) -> Result<Self> {
        let Value::Object(doc) = serde_json::from_slice::<Value>(&parseable(text.as_bytes()))?
        else {
            return Err(Error::invalid_metadata("metadata must be a JSON object"));
        };
        let zarr_format = match doc.get("zarr_format").and_then(Value::as_u64) {
            Some(2) => 2,
            Some(3) => 3,
            Some(other) => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("unsupported zarr_format {other}"),
                ));
            }
            None => {
                return Err(Error::invalid_metadata(
                    "metadata has no integer \"zarr_format\"",
                ));
            }
        };
        match (doc.get("node_type"), zarr_format) {
            (Some(Value::String(t)), _) if t == kind.name() => {}
            (None, 2) => {}
            (Some(other), _) => {
                return Err(Error::invalid_metadata(format!(
                    "metadata has node_type {other}, expected \"{}\"",
                    kind.name()
                )));
            }
            (None, _) => {
                return Err(Error::invalid_metadata(
                    "Zarr v3 metadata has no \"node_type\"",
                ));
            }
        }
        match doc.get("attributes") {
            None | Some(Value::Object(_)) => {}
            Some(_) => {
                return Err(Error::invalid_metadata(
                    "\"attributes\" must be a JSON object",
                ));
            }
        }
        Self::with_exact_members(kind, zarr_format, doc, text, source)
    }
}

/// Refuse a bare `NaN`, `Infinity` or `-Infinity` in any of `members` (names and JSON texts of
/// the document `source`) but those named in `allowed`, naming the token and the member.
pub(crate) fn refuse_non_finite<'a>(
    source: &str,
    members: impl IntoIterator<Item = (&'a str, &'a str)>,
    allowed: &[&str],
) -> Result<()> {
    for (name, member) in members {
        if allowed.contains(&name) {
            continue;
        }
        if let Some(token) = non_finite(member.as_bytes()) {
            return Err(Error::invalid_metadata(format!(
                "{source} holds the bare token {token} in {name:?}, which is not JSON: only \
                 attributes may hold NaN, Infinity or -Infinity unquoted (as zarr-python writes \
                 non-finite floats there); a fill value names them in quotes (\"NaN\")"
            )));
        }
    }
    Ok(())
}

/// The names of metadata documents, which no node may take.
const METADATA_NAMES: [&str; 5] = ["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"];

/// Turn a store-relative path ("", "a", "a/b"; a leading or trailing "/" is tolerated) into a
/// zarrs node path ("/", "/a", "/a/b").
pub fn node_path(path: &str) -> Result<NodePath> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Ok(NodePath::root());
    }
    if trimmed
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(Error::invalid_argument(format!(
            "invalid node path {path:?}: empty, \".\" and \"..\" components are not allowed"
        )));
    }
    // A node named after a metadata key would turn its parent's metadata into a directory.
    if let Some(key) = trimmed
        .split('/')
        .find(|part| METADATA_NAMES.contains(part))
    {
        return Err(Error::invalid_argument(format!(
            "invalid node path {path:?}: {key:?} is the name of a metadata document"
        )));
    }
    NodePath::new(&format!("/{trimmed}")).map_err(|err| Error::invalid_argument(err.to_string()))
}

/// The store-relative form of a node path, as callers see it ("" for the root).
pub fn relative_path(path: &NodePath) -> &str {
    path.as_str().trim_start_matches('/')
}

/// The prefix under which a node's children and chunks live.
pub(crate) fn node_prefix(path: &NodePath) -> Result<StorePrefix> {
    let rel = relative_path(path);
    let prefix = if rel.is_empty() {
        String::new()
    } else {
        format!("{rel}/")
    };
    StorePrefix::new(prefix).map_err(|err| Error::invalid_argument(err.to_string()))
}

/// The JSON object stored at `key`, bare non-finite tokens read as `null` (the caller keeps the
/// text of what holds one, or refuses it).
fn parse_object(key: &StoreKey, bytes: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(&parseable(bytes)) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid_metadata(format!(
            "{key} is not a JSON object"
        ))),
        Err(err) => Err(Error::invalid_metadata(format!(
            "{key} is not valid JSON: {err}"
        ))),
    }
}

/// Read the node at `path`, or `None` when nothing is there.
pub fn read_node(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
) -> Result<Option<NodeDoc>> {
    let key = meta_key_v3(path);
    if let Some(bytes) = storage.get(&key)? {
        let doc = parse_object(&key, &bytes)?;
        let kind = match doc.get("node_type").and_then(Value::as_str) {
            Some("array") => NodeKind::Array,
            Some("group") => NodeKind::Group,
            _ => {
                return Err(Error::invalid_metadata(format!(
                    "{key} has no valid \"node_type\""
                )));
            }
        };
        if doc.get("zarr_format").and_then(Value::as_u64) != Some(3) {
            return Err(Error::invalid_metadata(format!(
                "{key} does not declare zarr_format 3"
            )));
        }
        let text = std::str::from_utf8(&bytes).unwrap_or_default();
        let node = NodeDoc::with_exact_members(kind, 3, doc, text, key.as_str())?;
        return Ok(Some(node));
    }
    for (key, kind) in [
        (meta_key_v2_array(path), NodeKind::Array),
        (meta_key_v2_group(path), NodeKind::Group),
    ] {
        if let Some(bytes) = storage.get(&key)? {
            let mut doc = parse_object(&key, &bytes)?;
            if let Some(token) = non_finite(&bytes) {
                let text = std::str::from_utf8(&bytes).unwrap_or_default();
                let members = Members::parse(text).unwrap_or_default();
                refuse_non_finite(key.as_str(), members.iter(), &[])?;
                // Every token is in some member; this is for a document Members cannot split.
                return Err(Error::invalid_metadata(format!(
                    "{key} holds the bare token {token}, which is not JSON"
                )));
            }
            if doc.get("zarr_format").and_then(Value::as_u64) != Some(2) {
                return Err(Error::invalid_metadata(format!(
                    "{key} does not declare zarr_format 2"
                )));
            }
            // Not `doc`'s own members: `.zarray`/`.zgroup` hold no integer beyond 64 bits that
            // zarrs would accept, nor (refused above) a non-finite token.
            doc.remove("attributes");
            let mut node = NodeDoc {
                kind,
                zarr_format: 2,
                doc,
                exact: Members::default(),
            };
            let attrs_key = meta_key_v2_attributes(path);
            match storage.get(&attrs_key)? {
                Some(bytes) => {
                    let attributes = parse_object(&attrs_key, &bytes)?;
                    node.set_value("attributes", Value::Object(attributes));
                    if needs_exact(&bytes) {
                        let text = std::str::from_utf8(&bytes).unwrap_or_default();
                        node.set_member("attributes", text)?;
                    }
                }
                None => node.set_value("attributes", Value::Object(Map::new())),
            }
            return Ok(Some(node));
        }
    }
    Ok(None)
}

pub(crate) fn require_node(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
) -> Result<NodeDoc> {
    read_node(storage, path)?.ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!("no node at {:?}", relative_path(path)),
        )
    })
}

fn metadata_keys(path: &NodePath) -> [StoreKey; 4] {
    [
        meta_key_v3(path),
        meta_key_v2_array(path),
        meta_key_v2_group(path),
        meta_key_v2_attributes(path),
    ]
}

fn node_exists(storage: &ReadableWritableListableStorage, path: &NodePath) -> Result<bool> {
    for key in &metadata_keys(path)[..3] {
        if storage.size_key(key)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A node cannot live inside an array.
fn check_ancestors(storage: &ReadableWritableListableStorage, path: &NodePath) -> Result<()> {
    let mut ancestor = path.parent();
    while let Some(current) = ancestor {
        if let Some(node) = read_node(storage, &current)?
            && node.kind == NodeKind::Array
        {
            return Err(Error::new(
                ErrorKind::NodeKind,
                format!(
                    "cannot create a node inside the array at {:?}",
                    relative_path(&current)
                ),
            ));
        }
        ancestor = current.parent();
    }
    Ok(())
}

/// Erase the node at `path` and everything under it. Erasing nothing is not an error here.
fn erase_node(storage: &ReadableWritableListableStorage, path: &NodePath) -> Result<()> {
    storage.erase_prefix(&node_prefix(path)?)?;
    for key in metadata_keys(path) {
        storage.erase(&key)?;
    }
    Ok(())
}

pub(crate) fn write_json(
    storage: &ReadableWritableListableStorage,
    key: &StoreKey,
    doc: &Map<String, Value>,
) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(doc).expect("a JSON map always serialises");
    storage.set(key, bytes.into())?;
    Ok(())
}

/// Write JSON `text` laid out as `write_json` lays out a document.
pub(crate) fn write_json_text(
    storage: &ReadableWritableListableStorage,
    key: &StoreKey,
    text: &str,
) -> Result<()> {
    storage.set(key, exact_json::pretty(text).into_bytes().into())?;
    Ok(())
}

/// Zarr v2 attributes: the `.zattrs` document of `node`.
fn write_v2_attributes(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
    node: &NodeDoc,
) -> Result<()> {
    let key = meta_key_v2_attributes(path);
    match node.exact.get("attributes") {
        Some(text) => write_json_text(storage, &key, text),
        None => {
            let attributes = match node.doc.get("attributes") {
                Some(Value::Object(map)) => map.clone(),
                _ => Map::new(),
            };
            write_json(storage, &key, &attributes)
        }
    }
}

fn write_node(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
    node: &NodeDoc,
) -> Result<()> {
    write_metadata(storage, path, node)?;
    if node.zarr_format == 3 {
        return Ok(());
    }
    // Zarr v2 keeps attributes in their own document, written even when empty (as zarr-python does).
    write_v2_attributes(storage, path, node)
}

/// Write a node's metadata document: `zarr.json` (attributes included), or for Zarr v2
/// `.zarray`/`.zgroup` without the attributes, which live in `.zattrs` (not written here).
pub(crate) fn write_metadata(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
    node: &NodeDoc,
) -> Result<()> {
    if node.zarr_format == 3 {
        storage.set(&meta_key_v3(path), node.to_stored_json().into())?;
        return Ok(());
    }
    let mut doc = node.clone();
    doc.remove_member("node_type");
    doc.remove_member("attributes");
    let key = match node.kind {
        NodeKind::Array => meta_key_v2_array(path),
        NodeKind::Group => meta_key_v2_group(path),
    };
    storage.set(&key, doc.to_stored_json().into())?;
    Ok(())
}

/// Write the attributes of `node` where its format keeps them: `zarr.json` for Zarr v3 (the
/// whole document), `.zattrs` for Zarr v2 (nothing else).
pub(crate) fn write_attributes(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
    node: &NodeDoc,
) -> Result<()> {
    if node.zarr_format == 3 {
        write_metadata(storage, path, node)
    } else {
        write_v2_attributes(storage, path, node)
    }
}

/// Create the node described by `node` at `path`. Without `overwrite`, fails if a node is there;
/// with it, replaces that node and everything under it.
pub fn create_node(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
    node: &NodeDoc,
    overwrite: bool,
) -> Result<()> {
    check_ancestors(storage, path)?;
    if overwrite {
        erase_node(storage, path)?;
    } else if node_exists(storage, path)? {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!("a node already exists at {:?}", relative_path(path)),
        ));
    }
    write_node(storage, path, node)
}

/// Delete the node at `path` and everything under it.
fn delete_node(storage: &ReadableWritableListableStorage, path: &NodePath) -> Result<()> {
    if !node_exists(storage, path)? {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!("no node at {:?}", relative_path(path)),
        ));
    }
    erase_node(storage, path)
}

/// The direct children of the node at `path`, sorted by path: each one's store-relative path and
/// metadata document. An array has no children; prefixes holding no node are skipped.
pub(crate) fn list_children(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
) -> Result<Vec<(String, NodeDoc)>> {
    list_children_of(storage, path, &require_node(storage, path)?)
}

/// `list_children` for the node at `path` whose document the caller has already read.
pub(crate) fn list_children_of(
    storage: &ReadableWritableListableStorage,
    path: &NodePath,
    node: &NodeDoc,
) -> Result<Vec<(String, NodeDoc)>> {
    if node.kind == NodeKind::Array {
        return Ok(Vec::new());
    }
    let parent = node_prefix(path)?;
    let listing = storage.list_dir(&parent)?;
    let mut children = Vec::new();
    for prefix in listing.prefixes() {
        // Only direct sub-prefixes of the node's own are children. A store that answers with
        // others (a host's callback or a server that ignores the prefix) would otherwise make a
        // node its own child, and walks over the hierarchy (consolidation) would never end.
        let is_child = prefix
            .as_str()
            .strip_prefix(parent.as_str())
            .and_then(|rest| rest.strip_suffix('/'))
            .is_some_and(|name| !name.is_empty() && !name.contains('/'));
        if !is_child {
            continue;
        }
        let name = prefix.as_str().trim_end_matches('/');
        let child = node_path(name)?;
        if let Some(doc) = read_node(storage, &child)? {
            children.push((relative_path(&child).to_owned(), doc));
        }
    }
    children.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(children)
}

/// Serialise a children listing as `[[path, metadata], ...]`.
pub(crate) fn children_to_json(children: &[(String, NodeDoc)]) -> String {
    let entries: Vec<String> = children
        .iter()
        .map(|(path, node)| {
            let path = serde_json::to_string(path).expect("a string always serialises");
            format!("[{path},{}]", node.to_json())
        })
        .collect();
    format!("[{}]", entries.join(","))
}

// --- The node API over a store and a store-relative path, one call per C export ---------------

/// Create a group at `path` from its metadata document.
pub fn create_group(store: &Store, path: &str, metadata_json: &str, overwrite: bool) -> Result<()> {
    let doc = NodeDoc::parse(metadata_json, NodeKind::Group)?;
    create_node(&store.storage, &node_path(path)?, &doc, overwrite)
}

/// The metadata document of the node at `path`, as JSON; `NotFound` if there is none.
pub fn metadata_json(store: &Store, path: &str) -> Result<String> {
    Ok(require_node(&store.storage, &node_path(path)?)?.to_json())
}

/// The kind of the node at `path`, or `None` when nothing is there.
pub fn kind(store: &Store, path: &str) -> Result<Option<NodeKind>> {
    Ok(read_node(&store.storage, &node_path(path)?)?.map(|node| node.kind))
}

/// Delete the node at `path` and everything under it; `NotFound` if there is none.
pub fn delete(store: &Store, path: &str) -> Result<()> {
    delete_node(&store.storage, &node_path(path)?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use zarrs::storage::store::MemoryStore;

    use super::*;

    fn memory() -> ReadableWritableListableStorage {
        Arc::new(MemoryStore::new())
    }

    fn group(format: u8) -> NodeDoc {
        let text = if format == 3 {
            r#"{"zarr_format":3,"node_type":"group","attributes":{"k":1}}"#
        } else {
            r#"{"zarr_format":2,"attributes":{"k":1}}"#
        };
        NodeDoc::parse(text, NodeKind::Group).unwrap()
    }

    #[test]
    fn paths_normalise_and_reject_bad_components() {
        assert_eq!(node_path("").unwrap().as_str(), "/");
        assert_eq!(node_path("/").unwrap().as_str(), "/");
        assert_eq!(node_path("a/b").unwrap().as_str(), "/a/b");
        assert_eq!(node_path("/a/b/").unwrap().as_str(), "/a/b");
        for bad in [
            "a//b",
            "a/../b",
            "./a",
            ".zarray",
            "g/.zattrs",
            "zarr.json/x",
            ".zmetadata",
        ] {
            assert_eq!(
                node_path(bad).unwrap_err().kind,
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
    }

    #[test]
    fn documents_are_checked() {
        let parse = |t: &str| NodeDoc::parse(t, NodeKind::Group).unwrap_err().kind;
        assert_eq!(parse("[]"), ErrorKind::InvalidMetadata);
        assert_eq!(parse("{"), ErrorKind::InvalidMetadata);
        assert_eq!(
            parse(r#"{"node_type":"group"}"#),
            ErrorKind::InvalidMetadata
        );
        assert_eq!(
            parse(r#"{"zarr_format":4,"node_type":"group"}"#),
            ErrorKind::Unsupported
        );
        assert_eq!(
            parse(r#"{"zarr_format":3,"node_type":"array"}"#),
            ErrorKind::InvalidMetadata
        );
        assert_eq!(parse(r#"{"zarr_format":3}"#), ErrorKind::InvalidMetadata);
        assert_eq!(
            parse(r#"{"zarr_format":2,"attributes":3}"#),
            ErrorKind::InvalidMetadata
        );
    }

    #[test]
    fn create_read_list_delete_round_trip_in_both_formats() {
        for format in [2, 3] {
            let storage = memory();
            let root = node_path("").unwrap();
            create_node(&storage, &root, &group(format), false).unwrap();
            create_node(&storage, &node_path("b").unwrap(), &group(format), false).unwrap();
            create_node(&storage, &node_path("a").unwrap(), &group(format), false).unwrap();
            create_node(&storage, &node_path("a/x").unwrap(), &group(format), false).unwrap();

            let read = require_node(&storage, &root).unwrap();
            assert_eq!(read, group(format));
            let children = list_children(&storage, &root).unwrap();
            let names: Vec<&str> = children.iter().map(|c| c.0.as_str()).collect();
            assert_eq!(names, ["a", "b"]);
            assert_eq!(
                list_children(&storage, &node_path("a").unwrap()).unwrap()[0].0,
                "a/x"
            );

            let err =
                create_node(&storage, &node_path("a").unwrap(), &group(format), false).unwrap_err();
            assert_eq!(err.kind, ErrorKind::AlreadyExists);
            create_node(&storage, &node_path("a").unwrap(), &group(format), true).unwrap();
            assert!(
                list_children(&storage, &node_path("a").unwrap())
                    .unwrap()
                    .is_empty()
            );

            delete_node(&storage, &node_path("a").unwrap()).unwrap();
            assert_eq!(
                delete_node(&storage, &node_path("a").unwrap())
                    .unwrap_err()
                    .kind,
                ErrorKind::NotFound
            );
            assert_eq!(
                list_children(&storage, &node_path("a").unwrap())
                    .unwrap_err()
                    .kind,
                ErrorKind::NotFound
            );
        }
    }

    #[test]
    fn v2_attributes_live_in_zattrs() {
        let storage = memory();
        let path = node_path("g").unwrap();
        create_node(&storage, &path, &group(2), false).unwrap();
        let zgroup = storage.get(&meta_key_v2_group(&path)).unwrap().unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&zgroup).unwrap(),
            serde_json::json!({"zarr_format": 2})
        );
        let zattrs = storage
            .get(&meta_key_v2_attributes(&path))
            .unwrap()
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&zattrs).unwrap(),
            serde_json::json!({"k": 1})
        );
    }

    #[test]
    fn non_finite_tokens_are_kept_in_attributes_and_refused_elsewhere() {
        let storage = memory();
        let key = |k: &str| StoreKey::new(k).unwrap();
        let stored = "{\n  \"zarr_format\": 3,\n  \"node_type\": \"group\",\n  \"attributes\": {\n    \"a\": [\n      NaN,\n      -Infinity\n    ]\n  }\n}";
        storage
            .set(&key("g/zarr.json"), stored.as_bytes().to_vec().into())
            .unwrap();
        let node = require_node(&storage, &node_path("g").unwrap()).unwrap();
        assert_eq!(
            node.doc["attributes"],
            serde_json::json!({"a": [null, null]})
        );
        assert_eq!(
            node.to_json(),
            r#"{"zarr_format":3,"node_type":"group","attributes":{"a":[NaN,-Infinity]}}"#
        );
        assert_eq!(node.to_stored_json(), stored.as_bytes());

        storage
            .set(&key("v2/.zgroup"), br#"{"zarr_format": 2}"#.to_vec().into())
            .unwrap();
        storage
            .set(&key("v2/.zattrs"), br#"{"x": Infinity}"#.to_vec().into())
            .unwrap();
        let node = require_node(&storage, &node_path("v2").unwrap()).unwrap();
        assert_eq!(node.member_text("attributes").unwrap(), r#"{"x":Infinity}"#);

        for (path, text) in [
            (
                "b/zarr.json",
                r#"{"zarr_format":3,"node_type":"group","x":{"y":NaN}}"#,
            ),
            ("c/.zgroup", r#"{"zarr_format":2,"x":-Infinity}"#),
        ] {
            storage
                .set(&key(path), text.as_bytes().to_vec().into())
                .unwrap();
            let node = path.split('/').next().unwrap();
            let err = read_node(&storage, &node_path(node).unwrap()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidMetadata);
            assert!(err.message.contains(path), "{}", err.message);
            assert!(err.message.contains(r#"bare token"#), "{}", err.message);
            assert!(err.message.contains(r#"in "x""#), "{}", err.message);
        }
        let err = NodeDoc::parse(
            r#"{"zarr_format":3,"node_type":"group","x":NaN}"#,
            NodeKind::Group,
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidMetadata);
        assert!(err.message.contains(r#"NaN in "x""#), "{}", err.message);
    }

    #[test]
    fn corrupt_stored_metadata_is_reported() {
        let storage = memory();
        storage
            .set(
                &"x/zarr.json".try_into().unwrap(),
                b"{not json".to_vec().into(),
            )
            .unwrap();
        let err = read_node(&storage, &node_path("x").unwrap()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidMetadata);
        assert!(err.message.contains("x/zarr.json"), "{}", err.message);
    }
}
