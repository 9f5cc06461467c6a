//! Opening arrays: the zarrs array a metadata document describes, checked for what zarrlib needs
//! of it, and array nodes created from a document.

use std::sync::Arc;

use zarrs::array::{Array, ArrayMetadata};
use zarrs::metadata::v2::ArrayMetadataV2;
use zarrs::metadata::v3::ArrayMetadataV3;
use zarrs::node::NodePath;

use super::layout::Layout;
use super::{ArrayHandle, ZarrsArray};
use crate::chunk_locks::ArrayLocks;
use crate::error::{Error, ErrorKind, Result};
use crate::node::{self, NodeDoc, NodeKind};
use crate::store::Store;

/// Build the zarrs array a document describes.
fn build_array(store: &Store, path: &NodePath, doc: &NodeDoc) -> Result<ZarrsArray> {
    crate::codecs::register();
    crate::dtypes::register();
    let mut value = doc.doc.clone();
    let metadata = if doc.zarr_format == 3 {
        crate::shard_index::insert_checks(&mut value);
        ArrayMetadata::V3(serde_json::from_value::<ArrayMetadataV3>(value.into())?)
    } else {
        crate::dtypes::prepare_v2(&mut value)?;
        if crate::blosc_v2::has_blosc(&value) {
            // The element size the bounded blosc compressor needs, from the data type zarrs
            // reads (it builds its own blosc compressor, unbounded, for this array).
            let metadata = serde_json::from_value::<ArrayMetadataV2>(value.clone().into())?;
            let unbounded = Array::new_with_metadata(
                store.storage.clone(),
                path.as_str(),
                ArrayMetadata::V2(metadata),
            )?;
            crate::blosc_v2::insert_bound(&mut value, unbounded.data_type().fixed_size());
        }
        ArrayMetadata::V2(serde_json::from_value::<ArrayMetadataV2>(value.into())?)
    };
    let array = Array::new_with_metadata(store.storage.clone(), path.as_str(), metadata)?;
    super::validate::check(&array, &doc.doc)?;
    Ok(array)
}

/// Create an array node from a metadata document (validated by building its codec chain first).
pub fn create_array(store: &Store, path: &str, metadata_json: &str, overwrite: bool) -> Result<()> {
    let path = node::node_path(path)?;
    let doc = NodeDoc::parse(metadata_json, NodeKind::Array)?;
    build_array(store, &path, &doc)?;
    node::create_node(&store.storage, &path, &doc, overwrite)
}

impl ArrayHandle {
    /// Open the array stored at `path`.
    pub fn open(store: Arc<Store>, path: &str) -> Result<Self> {
        let node_path = node::node_path(path)?;
        let doc = node::require_node(&store.storage, &node_path)?;
        if doc.kind != NodeKind::Array {
            return Err(Error::new(
                ErrorKind::NodeKind,
                format!("the node at {path:?} is a group, not an array"),
            ));
        }
        Self::with_doc(store, node_path, doc)
    }

    /// Open the array at `path` as described by the caller's document, which is authoritative:
    /// the store's own metadata is not read.
    pub fn open_with_metadata(store: Arc<Store>, path: &str, metadata_json: &str) -> Result<Self> {
        let node_path = node::node_path(path)?;
        let doc = NodeDoc::parse(metadata_json, NodeKind::Array)?;
        Self::with_doc(store, node_path, doc)
    }

    pub(super) fn with_doc(store: Arc<Store>, path: NodePath, doc: NodeDoc) -> Result<Self> {
        let array = build_array(&store, &path, &doc)?;
        let layout = Layout::of(&array, &doc.doc)?;
        let locks = ArrayLocks::of(store.id, path.as_str(), store.process_locks.as_ref());
        Ok(Self {
            array,
            store,
            doc,
            layout,
            locks,
            options: super::ArrayOptions::default(),
            shard_cache: Default::default(),
        })
    }
}
