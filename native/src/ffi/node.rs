//! Node exports: create, inspect, list and delete groups and arrays by path. Each is argument
//! checks, in one `unsafe` block, and one call into the core's node API.

use std::ffi::c_char;

use super::args::{handle_arg, out_arg, str_arg, string_out};
use super::boundary::guard;
use super::status::{ZARRLIB_NODE_ARRAY, ZARRLIB_NODE_GROUP, ZARRLIB_NODE_NONE};
use super::store::zarrlib_store;
use crate::array::create_array;
use crate::attributes;
use crate::consolidated::{self, Use};
use crate::error::{Error, Result};
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
/// "attributes"). `*out_json` receives a string to free with `zarrlib_string_free`; its
/// attributes may hold bare NaN, Infinity and -Infinity (see the notes on metadata documents at
/// the top). ZARRLIB_ERR_NOT_FOUND if there is no node.
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
/// Answered from consolidated metadata when a group at or above `path` has some that lists it
/// (ZARRLIB_CONSOLIDATED_IF_PRESENT), otherwise by listing the store.
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
        let children = consolidated::children(store, path, Use::IfPresent)?;
        string_out(out, node::children_to_json(&children))
    })
}

/// Change the attributes of the node at `path` without touching its data or other metadata:
/// merge the JSON object `attributes_json` into them key by key at the top level, or with
/// `replace` make it the whole set. Zarr v3 rewrites `zarr.json` with its other members as
/// stored; Zarr v2 writes `.zattrs` alone. `*out_json` receives the node's new metadata document,
/// to free with `zarrlib_string_free`. ZARRLIB_ERR_NOT_FOUND if there is no node,
/// ZARRLIB_ERR_INVALID_ARGUMENT if `attributes_json` is not a JSON object (bare NaN, Infinity
/// and -Infinity are accepted in it, and stored as given, as zarr-python writes non-finite
/// floats). Consolidated metadata that lists the node is not updated (call
/// `zarrlib_node_consolidate` again).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_node_update_attributes(
    store: *const zarrlib_store,
    path: *const c_char,
    attributes_json: *const c_char,
    replace: bool,
    out_json: *mut *mut c_char,
) -> i32 {
    guard(|| {
        // SAFETY: the arguments are as the header documents them (see `args`).
        let (store, path, attributes, out) = unsafe {
            (
                handle_arg(store)?,
                str_arg(path, "path")?,
                str_arg(attributes_json, "attributes_json")?,
                out_arg(out_json, "out_json")?,
            )
        };
        let node = attributes::update(store, path, attributes, replace)?;
        string_out(out, node.to_json())
    })
}

/// Whether a read of node metadata may use consolidated metadata: the metadata of a whole
/// hierarchy that zarr-python (and `zarrlib_node_consolidate`) keeps at a group, so that a
/// hierarchy is read without listing the store (slow on object stores, impossible over HTTP).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum zarrlib_consolidated {
    /// Use the nearest group at or above the node whose consolidated metadata lists it, if any;
    /// otherwise the store (zarr-python's default, `use_consolidated=None`).
    ZARRLIB_CONSOLIDATED_IF_PRESENT = 0,
    /// Never: read the store.
    ZARRLIB_CONSOLIDATED_NEVER = 1,
    /// Only consolidated metadata: ZARRLIB_ERR_NOT_FOUND when none lists the node.
    ZARRLIB_CONSOLIDATED_REQUIRED = 2,
}

fn use_arg(consolidated: i32) -> Result<Use> {
    use zarrlib_consolidated::*;
    match consolidated {
        c if c == ZARRLIB_CONSOLIDATED_IF_PRESENT as i32 => Ok(Use::IfPresent),
        c if c == ZARRLIB_CONSOLIDATED_NEVER as i32 => Ok(Use::Never),
        c if c == ZARRLIB_CONSOLIDATED_REQUIRED as i32 => Ok(Use::Required),
        other => Err(Error::invalid_argument(format!(
            "consolidated is {other}, not a zarrlib_consolidated value"
        ))),
    }
}

/// `zarrlib_node_children` with a choice of whether consolidated metadata answers
/// (`consolidated`, a `zarrlib_consolidated` value).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_node_children_opt(
    store: *const zarrlib_store,
    path: *const c_char,
    consolidated: i32,
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
        let children = consolidated::children(store, path, use_arg(consolidated)?)?;
        string_out(out, node::children_to_json(&children))
    })
}

/// `zarrlib_node_metadata` with a choice of whether consolidated metadata answers
/// (`consolidated`, a `zarrlib_consolidated` value). Unless it is required, the node's own
/// document is read: one request either way, and never stale.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_node_metadata_opt(
    store: *const zarrlib_store,
    path: *const c_char,
    consolidated: i32,
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
        let node = consolidated::metadata(store, path, use_arg(consolidated)?)?;
        string_out(out, node.to_json())
    })
}

/// Write the consolidated metadata of the group at `path`: the metadata of every node below it,
/// found by listing the store, kept as zarr-python keeps it (Zarr v3: inside the group's
/// `zarr.json`; Zarr v2: `.zmetadata`). It is a snapshot: write it again after changing the
/// hierarchy. `*out_json` receives the group's new metadata document, to free with
/// `zarrlib_string_free`. ZARRLIB_ERR_NODE_KIND if the node is an array.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zarrlib_node_consolidate(
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
        string_out(out, consolidated::consolidate(store, path)?.to_json())
    })
}
