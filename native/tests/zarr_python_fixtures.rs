//! Arrays and groups written by zarr-python (tests/data/zarr-python, made by
//! tools/make_fixtures.py) read back through the C ABI exactly: every fixed-size data type, the v2
//! compressors, F order, both separators, big-endian data, v3 codecs and sharding.

use std::ffi::{CStr, CString, c_char};
use std::path::{Path, PathBuf};

use serde_json::Value;
use zarrlib::ffi::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/zarr-python")
}

/// A JSON list of integers from the manifest.
fn u64s(list: &Value) -> Vec<u64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

fn check(status: i32, what: &str) {
    if status != ZARRLIB_OK as i32 {
        let mut buf = vec![0u8; zarrlib_last_error_length().max(1)];
        unsafe { zarrlib_last_error_message(buf.as_mut_ptr().cast(), buf.len()) };
        let message = CStr::from_bytes_until_nul(&buf)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        panic!("{what}: status {status}: {message}");
    }
}

fn take_string(ptr: *mut c_char) -> String {
    let text = unsafe { CStr::from_ptr(ptr) }.to_str().unwrap().to_owned();
    unsafe { zarrlib_string_free(ptr) };
    text
}

struct Store(*mut zarrlib_store);

impl Store {
    fn open(path: &Path) -> Self {
        let url = CString::new(path.to_str().unwrap()).unwrap();
        let mut store = std::ptr::null_mut();
        check(
            unsafe { zarrlib_store_open(url.as_ptr(), std::ptr::null(), &mut store) },
            "store_open",
        );
        Self(store)
    }

    fn json(
        &self,
        path: &str,
        call: unsafe extern "C" fn(*const zarrlib_store, *const c_char, *mut *mut c_char) -> i32,
    ) -> Value {
        let path = CString::new(path).unwrap();
        let mut out = std::ptr::null_mut();
        check(
            unsafe { call(self.0, path.as_ptr(), &mut out) },
            "node json",
        );
        serde_json::from_str(&take_string(out)).unwrap()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        unsafe { zarrlib_store_free(self.0) };
    }
}

#[test]
fn every_fixture_array_reads_back_exactly() {
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("manifest.json")).unwrap())
            .unwrap();
    assert!(
        manifest.len() >= 40,
        "manifest lists {} arrays",
        manifest.len()
    );
    for entry in manifest {
        let name = format!(
            "{}/{}",
            entry["store"].as_str().unwrap(),
            entry["path"].as_str().unwrap()
        );
        let store = Store::open(&fixtures().join(entry["store"].as_str().unwrap()));
        let path = CString::new(entry["path"].as_str().unwrap()).unwrap();
        let mut array = std::ptr::null_mut();
        check(
            unsafe { zarrlib_array_open(store.0, path.as_ptr(), &mut array) },
            &name,
        );

        let mut data_type = std::ptr::null_mut();
        check(
            unsafe { zarrlib_array_data_type(array, &mut data_type) },
            &name,
        );
        assert_eq!(
            take_string(data_type),
            entry["data_type"].as_str().unwrap(),
            "{name}"
        );
        let mut element_size = 0;
        check(
            unsafe { zarrlib_array_element_size(array, &mut element_size) },
            &name,
        );
        assert_eq!(
            element_size as u64,
            entry["element_size"].as_u64().unwrap(),
            "{name}"
        );

        let shape = u64s(&entry["shape"]);
        let chunks = u64s(&entry["chunks"]);
        let mut got_shape = vec![0u64; shape.len()];
        check(
            unsafe { zarrlib_array_shape(array, got_shape.as_mut_ptr(), got_shape.len()) },
            &name,
        );
        assert_eq!(got_shape, shape, "{name}");
        let mut got_chunks = vec![0u64; shape.len()];
        check(
            unsafe { zarrlib_array_chunk_shape(array, got_chunks.as_mut_ptr(), got_chunks.len()) },
            &name,
        );
        assert_eq!(got_chunks, chunks, "{name}");

        let expected = std::fs::read(fixtures().join(entry["expected"].as_str().unwrap())).unwrap();
        let mut got = vec![0u8; expected.len()];
        let start = vec![0u64; shape.len()];
        check(
            unsafe {
                zarrlib_array_read_region(
                    array,
                    start.as_ptr(),
                    shape.as_ptr(),
                    shape.len(),
                    got.as_mut_ptr().cast(),
                    got.len(),
                )
            },
            &name,
        );
        assert!(
            got == expected,
            "{name}: data differs from what zarr-python wrote"
        );

        // An interior sub-region crossing chunk boundaries matches the same slice of the whole.
        let (r0, r1, c0, c1) = (1u64, 6u64, 1u64, 4u64);
        let sub_shape = [r1 - r0, c1 - c0];
        let mut sub = vec![0u8; (sub_shape[0] * sub_shape[1]) as usize * element_size];
        check(
            unsafe {
                zarrlib_array_read_region(
                    array,
                    [r0, c0].as_ptr(),
                    sub_shape.as_ptr(),
                    2,
                    sub.as_mut_ptr().cast(),
                    sub.len(),
                )
            },
            &name,
        );
        let row = shape[1] as usize * element_size;
        for (k, r) in (r0..r1).enumerate() {
            let from = r as usize * row + c0 as usize * element_size;
            let want = &expected[from..from + sub_shape[1] as usize * element_size];
            let have = &sub[k * sub_shape[1] as usize * element_size
                ..(k + 1) * sub_shape[1] as usize * element_size];
            assert_eq!(have, want, "{name}: sub-region row {r}");
        }
        unsafe { zarrlib_array_free(array) };
    }
}

#[test]
fn hierarchies_and_attributes_read_as_zarr_python_wrote_them() {
    for (store_name, format) in [("v2.zarr", 2), ("v3.zarr", 3)] {
        let store = Store::open(&fixtures().join(store_name));
        let root = store.json("", zarrlib_node_metadata);
        assert_eq!(root["zarr_format"], format);
        assert_eq!(
            root["attributes"]["description"],
            format!("zarr-python v{format} fixtures")
        );

        let children = store.json("", zarrlib_node_children);
        let paths: Vec<&str> = children
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[0].as_str().unwrap())
            .collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted, "children come sorted");
        assert!(
            paths.contains(&"nested") && paths.contains(&"uint16") && paths.contains(&"complex128"),
            "{paths:?}"
        );

        let nested = store.json("nested", zarrlib_node_children);
        assert_eq!(nested[0][0], "nested/leaf");
        assert_eq!(nested[0][1]["attributes"]["units"], "m");
        assert_eq!(
            store.json("nested", zarrlib_node_metadata)["attributes"]["level"],
            1
        );
    }
}
