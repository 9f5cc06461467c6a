//! Node exports: create, inspect, list and delete groups and arrays by path. Each is argument
//! checks, in one `unsafe` block, and one call into the core's node API.

use std::ffi::c_char;

use super::args::{handle_arg, out_arg, str_arg, string_out};
use super::boundary::guard;
use super::status::{ZARRLIB_NODE_ARRAY, ZARRLIB_NODE_GROUP, ZARRLIB_NODE_NONE};
use super::store::zarrlib_store;
use crate::array::create_array;
use crate::node::{self, NodeKind};

/// Create a group at `path` ("" is the store root) from a metadata document: Zarr v3
/// `{"zarr_format":3,"node_type":"group","attributes":{...}}` or Zarr v2
/// `{"zarr_format":2,"attributes":{...}}`. Without `overwrite`, fails with
/// ZARRLIB_ERR_ALREADY_EXISTS if a node is at `path`; with it, replaces that node and everything
/// under it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_group_create(
    store: *const zarrlib_store,
    path: *const c_char,
    metadata_json: *const c_char,
    overwrite: bool,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, path, metadata) = unsafe {
            (
                handle_arg(store)?,
                str_arg(path, "path")?,
                str_arg(metadata_json, "metadata_json")?,
            )
        };
        node::create_group(store, path, metadata, overwrite)
    })
}

/// Create an array at `path` from a metadata document: the Zarr v3 `zarr.json` document, or the
/// Zarr v2 `.zarray` document with optional `"attributes"`. The document is validated (data type,
/// chunk grid, codecs) before anything is written. `overwrite` as for `zarrlib_group_create`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_array_create(
    store: *const zarrlib_store,
    path: *const c_char,
    metadata_json: *const c_char,
    overwrite: bool,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, path, metadata) = unsafe {
            (
                handle_arg(store)?,
                str_arg(path, "path")?,
                str_arg(metadata_json, "metadata_json")?,
            )
        };
        create_array(store, path, metadata, overwrite)
    })
}

/// Read the metadata document of the node at `path` (Zarr v2 attributes merged in under
/// "attributes"). `*out_json` receives a string to free with `zarrlib_string_free`.
/// ZARRLIB_ERR_NOT_FOUND if there is no node.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_node_metadata(
    store: *const zarrlib_store,
    path: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, path, out) = unsafe {
            (
                handle_arg(store)?,
                str_arg(path, "path")?,
                out_arg(out_json, "out_json")?,
            )
        };
        string_out(out, node::metadata_json(store, path)?)
    })
}

/// Write the kind of the node at `path` to `*out_kind`: ZARRLIB_NODE_ARRAY, ZARRLIB_NODE_GROUP,
/// or ZARRLIB_NODE_NONE when nothing is there (which is not an error).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_node_kind(
    store: *const zarrlib_store,
    path: *const c_char,
    out_kind: *mut i32,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, path, out) = unsafe {
            (
                handle_arg(store)?,
                str_arg(path, "path")?,
                out_arg(out_kind, "out_kind")?,
            )
        };
        *out = match node::kind(store, path)? {
            Some(NodeKind::Array) => ZARRLIB_NODE_ARRAY,
            Some(NodeKind::Group) => ZARRLIB_NODE_GROUP,
            None => ZARRLIB_NODE_NONE,
        } as i32;
        Ok(())
    })
}

/// Delete the node at `path` and everything under it. ZARRLIB_ERR_NOT_FOUND if there is no node.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_node_delete(
    store: *const zarrlib_store,
    path: *const c_char,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, path) = unsafe { (handle_arg(store)?, str_arg(path, "path")?) };
        node::delete(store, path)
    })
}

/// List the direct children of the node at `path` as a JSON array of `[path, metadata]` pairs
/// sorted by path; paths are store-relative without a leading "/". An array has no children.
/// `*out_json` receives a string to free with `zarrlib_string_free`. ZARRLIB_ERR_NOT_FOUND if
/// there is no node.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_node_children(
    store: *const zarrlib_store,
    path: *const c_char,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, path, out) = unsafe {
            (
                handle_arg(store)?,
                str_arg(path, "path")?,
                out_arg(out_json, "out_json")?,
            )
        };
        string_out(out, node::children_json(store, path)?)
    })
}
