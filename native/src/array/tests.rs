//! Unit tests of array handles over a memory store.

use std::sync::Arc;

use super::*;
use crate::error::ErrorKind;
use crate::node;
use crate::selection::AxisSelection;

const UINT16_ZSTD: &str = r#"{"zarr_format":3,"node_type":"array","shape":[10,7],"data_type":"uint16",
    "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[4,3]}},
    "chunk_key_encoding":{"name":"default"},"fill_value":9,
    "codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":0,"checksum":false}}]}"#;

fn memory_array(metadata: &str) -> ArrayHandle {
    let store = Arc::new(Store::open("memory://", None).unwrap());
    create_array(&store, "a", metadata, false).unwrap();
    ArrayHandle::open(store, "a").unwrap()
}

fn to_bytes(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_ne_bytes()).collect()
}

fn from_bytes(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|b| u16::from_ne_bytes([b[0], b[1]]))
        .collect()
}

/// The array's elements at rows `rows` and columns `cols`, in that order.
fn pick(whole: &[u16], rows: &[usize], cols: &[usize]) -> Vec<u16> {
    rows.iter()
        .flat_map(|r| cols.iter().map(move |c| whole[r * 7 + c]))
        .collect()
}

#[test]
fn only_sharded_chunks_split_across_threads() {
    assert!(!memory_array(UINT16_ZSTD).layout.splits_chunks);
    let sharded = UINT16_ZSTD.replace(
        r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":0,"checksum":false}}]"#,
        r#"[{"name":"sharding_indexed","configuration":{"chunk_shape":[2,1],
            "codecs":[{"name":"bytes","configuration":{"endian":"little"}}],
            "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}}]}}]"#,
    );
    assert!(memory_array(&sharded).layout.splits_chunks);
}

#[test]
fn partial_reads_of_checksummed_chunks_validate_the_checksum() {
    use zarrs::storage::{ReadableStorageTraits, StoreKey, WritableStorageTraits};
    let metadata = UINT16_ZSTD.replace(
        r#"{"name":"zstd","configuration":{"level":0,"checksum":false}}"#,
        r#"{"name":"crc32c"}"#,
    );
    let array = memory_array(&metadata);
    assert!(array.layout.checksummed);
    array.write_chunk(&[0, 0], &to_bytes(&[1; 12])).unwrap();
    let key = StoreKey::new("a/c/0/0").unwrap();
    let mut stored = array.store.storage.get(&key).unwrap().unwrap().to_vec();
    stored[0] ^= 0xff; // a data byte: the length and the stored checksum stay as they were
    array.store.storage.set(&key, stored.into()).unwrap();

    // The default validates checksums: a region inside the chunk, a strided selection and
    // the whole chunk all decode the whole chunk and find the mismatch.
    let mut out = vec![0u8; 4 * 2];
    let err = array.read_region(&[1, 1], &[2, 2], &mut out).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CorruptData);
    let axes = [
        AxisSelection {
            start: 0,
            step: 2,
            count: 2,
        },
        AxisSelection {
            start: 0,
            step: 2,
            count: 2,
        },
    ];
    let err = array.read_selection(&axes, &mut out).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CorruptData);
    let mut chunk = vec![0u8; 12 * 2];
    let err = array.read_chunk(&[0, 0], &mut chunk).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CorruptData);
    assert!(!memory_array(UINT16_ZSTD).layout.checksummed);
}

#[test]
fn strided_selections_read_and_write_numpys_elements() {
    let array = memory_array(UINT16_ZSTD);
    let values: Vec<u16> = (0..70).collect();
    array
        .write_region(&[0, 0], &[10, 7], &to_bytes(&values))
        .unwrap();

    // [9:0:-4, 1::3] selects rows 9, 5, 1 and columns 1, 4.
    let axes = [
        AxisSelection {
            start: 9,
            step: -4,
            count: 3,
        },
        AxisSelection {
            start: 1,
            step: 3,
            count: 2,
        },
    ];
    let mut out = vec![0u8; 6 * 2];
    array.read_selection(&axes, &mut out).unwrap();
    assert_eq!(from_bytes(&out), pick(&values, &[9, 5, 1], &[1, 4]));

    let new_values: Vec<u16> = (1000..1006).collect();
    array
        .write_selection(&axes, &to_bytes(&new_values))
        .unwrap();
    let mut whole = vec![0u8; 70 * 2];
    array.read_region(&[0, 0], &[10, 7], &mut whole).unwrap();
    let mut want = values.clone();
    for (i, r) in [9usize, 5, 1].iter().enumerate() {
        for (k, c) in [1usize, 4].iter().enumerate() {
            want[r * 7 + c] = new_values[i * 2 + k];
        }
    }
    assert_eq!(from_bytes(&whole), want);

    let mut wrong = vec![0u8; 5];
    let err = array.read_selection(&axes, &mut wrong).unwrap_err();
    assert_eq!(err.kind, ErrorKind::BufferSize);
    let err = array.read_selection(&axes[..1], &mut out).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidArgument);
}

#[test]
fn regions_round_trip_across_chunks_and_the_rest_reads_as_fill() {
    let array = memory_array(UINT16_ZSTD);
    let values: Vec<u16> = (0..5 * 4).map(|i| 100 + i).collect();
    array
        .write_region(&[3, 2], &[5, 4], &to_bytes(&values))
        .unwrap();

    let mut whole = vec![0u8; 10 * 7 * 2];
    array.read_region(&[0, 0], &[10, 7], &mut whole).unwrap();
    let whole = from_bytes(&whole);
    for r in 0..10 {
        for c in 0..7 {
            let inside = (3..8).contains(&r) && (2..6).contains(&c);
            let want = if inside {
                values[(r - 3) * 4 + (c - 2)]
            } else {
                9
            };
            assert_eq!(whole[r * 7 + c], want, "({r}, {c})");
        }
    }
}

#[test]
fn edge_chunks_read_at_full_chunk_shape() {
    let array = memory_array(UINT16_ZSTD);
    array
        .write_region(&[8, 6], &[2, 1], &to_bytes(&[1, 2]))
        .unwrap();
    // Chunk (2, 2) covers rows 8..12 and columns 6..9; only rows 8..10, column 6 are inside.
    let mut chunk = vec![0u8; 4 * 3 * 2];
    array.read_chunk(&[2, 2], &mut chunk).unwrap();
    assert_eq!(from_bytes(&chunk), [1, 9, 9, 2, 9, 9, 9, 9, 9, 9, 9, 9]);
}

#[test]
fn a_chunk_of_fill_value_is_not_stored() {
    let array = memory_array(UINT16_ZSTD);
    array.write_chunk(&[0, 0], &to_bytes(&[5; 12])).unwrap();
    assert!(array.read_encoded_chunk(&[0, 0]).unwrap().is_some());
    array.write_chunk(&[0, 0], &to_bytes(&[9; 12])).unwrap();
    assert_eq!(array.read_encoded_chunk(&[0, 0]).unwrap(), None);
}

#[test]
fn read_chunks_lays_chunks_out_in_the_order_given() {
    let array = memory_array(UINT16_ZSTD);
    array.write_chunk(&[0, 0], &to_bytes(&[1; 12])).unwrap();
    array.write_chunk(&[1, 2], &to_bytes(&[2; 12])).unwrap();
    let mut out = vec![0u8; 3 * 12 * 2];
    array
        .read_chunks(&[&[1, 2], &[2, 0], &[0, 0]], &mut out)
        .unwrap();
    let out = from_bytes(&out);
    assert_eq!(&out[..12], &[2; 12]);
    assert_eq!(&out[12..24], &[9; 12]);
    assert_eq!(&out[24..], &[1; 12]);
}

#[test]
fn bad_arguments_get_precise_errors() {
    let array = memory_array(UINT16_ZSTD);
    let mut chunk = vec![0u8; 24];
    assert_eq!(
        array.read_chunk(&[3, 0], &mut chunk).unwrap_err().kind,
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        array.read_chunk(&[0], &mut chunk).unwrap_err().kind,
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        array
            .read_chunk(&[0, 0], &mut chunk[..23])
            .unwrap_err()
            .kind,
        ErrorKind::BufferSize
    );
    let mut region = vec![0u8; 4];
    assert_eq!(
        array
            .read_region(&[9, 6], &[2, 1], &mut region)
            .unwrap_err()
            .kind,
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        array
            .read_region(&[u64::MAX, 0], &[2, 1], &mut region)
            .unwrap_err()
            .kind,
        ErrorKind::OutOfBounds
    );
    assert_eq!(
        array
            .write_region(&[0, 0], &[1, 1], &region)
            .unwrap_err()
            .kind,
        ErrorKind::BufferSize
    );
    assert_eq!(
        array.read_chunks(&[&[0, 0]], &mut region).unwrap_err().kind,
        ErrorKind::BufferSize
    );
}

#[test]
fn invalid_array_documents_write_nothing() {
    let store = Arc::new(Store::open("memory://", None).unwrap());
    let unknown_codec = UINT16_ZSTD.replace(r#""name":"zstd""#, r#""name":"nosuch""#);
    assert_eq!(
        create_array(&store, "a", &unknown_codec, false)
            .unwrap_err()
            .kind,
        ErrorKind::Unsupported
    );
    let bad_type = UINT16_ZSTD.replace("uint16", "uint17");
    assert_eq!(
        create_array(&store, "a", &bad_type, false)
            .unwrap_err()
            .kind,
        ErrorKind::Unsupported
    );
    let no_shape = UINT16_ZSTD.replace(r#""shape":[10,7],"#, "");
    assert_eq!(
        create_array(&store, "a", &no_shape, false)
            .unwrap_err()
            .kind,
        ErrorKind::InvalidMetadata
    );
    assert!(
        node::read_node(&store.storage, &node::node_path("a").unwrap())
            .unwrap()
            .is_none()
    );
}

#[test]
fn concurrent_partial_writes_to_one_chunk_all_land() {
    let array = Arc::new(memory_array(UINT16_ZSTD));
    // 12 writers, one element each, all inside chunk (0, 0): each is a read-modify-write.
    std::thread::scope(|scope| {
        for i in 0..12u64 {
            let array = array.clone();
            scope.spawn(move || {
                array
                    .write_region(&[i / 3, i % 3], &[1, 1], &to_bytes(&[i as u16]))
                    .unwrap()
            });
        }
    });
    let mut chunk = vec![0u8; 24];
    array.read_chunk(&[0, 0], &mut chunk).unwrap();
    assert_eq!(from_bytes(&chunk), (0..12).collect::<Vec<u16>>());
}

#[test]
fn v2_names_and_fill_values_match_v3() {
    let array = memory_array(
        r#"{"zarr_format":2,"shape":[4],"chunks":[2],"dtype":"<f4","compressor":null,
            "fill_value":1.5,"order":"C","filters":null}"#,
    );
    assert_eq!(array.data_type_name(), "float32");
    assert_eq!(array.element_size(), 4);
    assert_eq!(array.fill_value(), 1.5f32.to_ne_bytes());
    assert_eq!(array.regular_chunk_shape().unwrap(), [2]);
}

#[test]
fn a_read_plan_never_reads_inner_chunks_without_their_locks() {
    let sharded = UINT16_ZSTD.replace(
        r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":0,"checksum":false}}]"#,
        r#"[{"name":"sharding_indexed","configuration":{"chunk_shape":[2,1],
            "codecs":[{"name":"bytes","configuration":{"endian":"little"}}],
            "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}]}}]"#,
    );
    let array = memory_array(&sharded);
    for validate_checksums in [true, false] {
        let settings = crate::config::Settings {
            validate_checksums,
            ..crate::config::Settings::current()
        };
        let plan = array.read_plan_with(settings);
        assert_eq!(plan.inner_chunks, validate_checksums);
        assert!(!plan.whole_chunks);
        // Inner-chunk reads or zarrs' partial decoder: several requests either way, so locked.
        assert!(plan.locks_partial_reads);
        let inner = array.layout.inner_chunk_grid.as_ref().unwrap();
        let grid_is_inner = std::ptr::eq(plan.grid, inner);
        assert_eq!(grid_is_inner, plan.inner_chunks);
    }
}

#[test]
fn documents_zarrs_would_fail_on_later_are_invalid_at_create() {
    let sharded = |inner: &str, index: &str| {
        UINT16_ZSTD.replace(
            r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":0,"checksum":false}}]"#,
            &format!(
                r#"[{{"name":"sharding_indexed","configuration":{{"chunk_shape":{inner},
                "codecs":[{{"name":"bytes","configuration":{{"endian":"little"}}}}],
                "index_codecs":[{index}]}}}}]"#
            ),
        )
    };
    let bytes = r#"{"name":"bytes","configuration":{"endian":"little"}}"#;
    let cases = [
        // A shard chunk shape of the wrong rank, or one that does not divide the shard [4, 3].
        sharded("[2]", bytes),
        sharded("[2,1,1]", bytes),
        sharded("[3,1]", bytes),
        sharded("[0,1]", bytes),
        // A compressor inside the fixed-size shard index.
        sharded(
            "[2,1]",
            &format!(r#"{bytes},{{"name":"zstd","configuration":{{"level":0,"checksum":false}}}}"#),
        ),
        // A transpose order of the wrong length, or not a permutation.
        UINT16_ZSTD.replace(
            r#"[{"name":"bytes""#,
            r#"[{"name":"transpose","configuration":{"order":[0]}},{"name":"bytes""#,
        ),
        UINT16_ZSTD.replace(
            r#"[{"name":"bytes""#,
            r#"[{"name":"transpose","configuration":{"order":[1,1]}},{"name":"bytes""#,
        ),
        // No endian for a two-byte type.
        UINT16_ZSTD.replace(
            r#"{"name":"bytes","configuration":{"endian":"little"}}"#,
            r#"{"name":"bytes"}"#,
        ),
        // Chunks whose size overflows.
        UINT16_ZSTD.replace(
            r#""chunk_shape":[4,3]"#,
            r#""chunk_shape":[4294967296,4294967296]"#,
        ),
        UINT16_ZSTD.replace(
            r#""chunk_shape":[4,3]"#,
            r#""chunk_shape":[4611686018427387904,1]"#,
        ),
    ];
    for metadata in cases {
        let store = Arc::new(Store::open("memory://", None).unwrap());
        let err = create_array(&store, "a", &metadata, false).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::InvalidMetadata,
            "{metadata}: {}",
            err.message
        );
        let err = ArrayHandle::open_with_metadata(store, "a", &metadata)
            .err()
            .unwrap();
        assert_eq!(
            err.kind,
            ErrorKind::InvalidMetadata,
            "{metadata}: {}",
            err.message
        );
    }
    // The valid forms of the same documents still open; raw bits have no byte order.
    for metadata in [
        UINT16_ZSTD
            .replace(r#""uint16""#, r#""r16""#)
            .replace(r#""fill_value":9"#, r#""fill_value":[0,9]"#)
            .replace(
                r#"{"name":"bytes","configuration":{"endian":"little"}}"#,
                r#"{"name":"bytes"}"#,
            ),
        sharded("[2,1]", &format!(r#"{bytes},{{"name":"crc32c"}}"#)),
        UINT16_ZSTD.replace(
            r#"[{"name":"bytes""#,
            r#"[{"name":"transpose","configuration":{"order":[1,0]}},{"name":"bytes""#,
        ),
    ] {
        memory_array(&metadata);
    }
}

#[test]
fn corrupt_inner_chunks_of_checksummed_shards_are_found_by_every_read() {
    use zarrs::storage::{ReadableStorageTraits, StoreKey, WritableStorageTraits};
    let sharded = UINT16_ZSTD.replace(
        r#"[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":0,"checksum":false}}]"#,
        r#"[{"name":"sharding_indexed","configuration":{"chunk_shape":[2,1],
            "codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}],
            "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}]}}]"#,
    );
    let array = memory_array(&sharded);
    let values: Vec<u16> = (0..70).collect();
    array
        .write_region(&[0, 0], &[10, 7], &to_bytes(&values))
        .unwrap();
    // The shard (0, 0) covers rows 0..4, columns 0..3; its first inner chunk is rows 0..2 of
    // column 0. Flip a data byte of element (1, 0), keeping its stored checksum.
    let key = StoreKey::new("a/c/0/0").unwrap();
    let mut stored = array.store.storage.get(&key).unwrap().unwrap().to_vec();
    stored[2] ^= 0xff;
    array.store.storage.set(&key, stored.into()).unwrap();

    let mut one = vec![0u8; 2];
    let err = array.read_region(&[1, 0], &[1, 1], &mut one).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
    let mut whole = vec![0u8; 140];
    let err = array
        .read_region(&[0, 0], &[10, 7], &mut whole)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
    let axes = [
        AxisSelection {
            start: 0,
            step: 2,
            count: 5,
        },
        AxisSelection {
            start: 0,
            step: 3,
            count: 3,
        },
    ];
    let mut strided = vec![0u8; 30];
    let err = array.read_selection(&axes, &mut strided).unwrap_err();
    assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
    // Shards that are intact still read.
    let mut other = vec![0u8; 2];
    array.read_region(&[5, 4], &[1, 1], &mut other).unwrap();
    assert_eq!(from_bytes(&other), [5 * 7 + 4]);
}

/// CRC-32C (Castagnoli), as the `crc32c` codec appends it.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0x82F6_3B78 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[test]
fn shard_index_entries_whose_end_overflows_are_corrupt_data() {
    use zarrs::storage::{ReadableStorageTraits, StoreKey, WritableStorageTraits};
    let array = memory_array(
        r#"{"zarr_format":3,"node_type":"array","shape":[4],"data_type":"uint8",
        "chunk_grid":{"name":"regular","configuration":{"chunk_shape":[4]}},
        "chunk_key_encoding":{"name":"default"},"fill_value":0,
        "codecs":[{"name":"sharding_indexed","configuration":{"chunk_shape":[2],
            "codecs":[{"name":"bytes"}],
            "index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}]}}]}"#,
    );
    array.write_region(&[0], &[4], &[1, 2, 3, 4]).unwrap();
    // The shard: two 2-byte inner chunks, then the index (two 16-byte entries) and its CRC.
    // The first entry's offset becomes 2^64 - 2, under a valid checksum.
    let key = StoreKey::new("a/c/0").unwrap();
    let mut shard = array.store.storage.get(&key).unwrap().unwrap().to_vec();
    assert_eq!(shard.len(), 4 + 32 + 4);
    shard[4..12].copy_from_slice(&(u64::MAX - 1).to_le_bytes());
    let crc = crc32c(&shard[4..36]);
    shard[36..].copy_from_slice(&crc.to_le_bytes());
    array.store.storage.set(&key, shard.into()).unwrap();

    let mut out = [0u8; 4];
    let errors = [
        array.read_chunk(&[0], &mut out).unwrap_err(),
        array.read_region(&[0], &[4], &mut out).unwrap_err(),
        array.read_region(&[0], &[1], &mut out[..1]).unwrap_err(),
        array.write_region(&[1], &[1], &[9]).unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err.kind, ErrorKind::CorruptData, "{}", err.message);
        assert!(err.message.contains("shard index"), "{}", err.message);
    }
}
