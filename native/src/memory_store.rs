//! The `memory://` store: zarrs' `MemoryStore` with the byte ranges it is asked for checked.
//!
//! zarrs' store slices a value with whatever range it is given and panics on one that starts
//! past the value's end (a partial decoder stripping a leading checksum asks for the value from
//! byte 4 on, whatever its length; found while testing the fuzzers' fixes), or whose arithmetic
//! overflows. Here such a range is the error every other store gives for it.
//!
//! It also keeps a generation per key (`value_versions`), moved after every write or erase, so
//! caches of decoded values (shard indexes) can tell when a value changed.

use std::sync::Arc;

use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator, InvalidByteRangeError};
use zarrs::storage::store::MemoryStore;
use zarrs::storage::{
    Bytes, ListableStorageTraits, MaybeBytes, MaybeBytesIterator, OffsetBytesIterator,
    ReadableStorageTraits, StorageError, StoreKey, StoreKeys, StoreKeysPrefixes, StorePrefix,
    WritableStorageTraits,
};

use crate::value_versions::Generations;

type StorageResult<T> = Result<T, StorageError>;

pub(crate) struct CheckedMemoryStore {
    inner: MemoryStore,
    generations: Arc<Generations>,
}

impl CheckedMemoryStore {
    /// A new, empty in-memory store.
    pub(crate) fn new() -> Self {
        Self {
            inner: MemoryStore::new(),
            generations: Arc::default(),
        }
    }

    /// The generations of this store's keys.
    pub(crate) fn generations(&self) -> Arc<Generations> {
        self.generations.clone()
    }
}

/// Whether `range` lies within a value of `len` bytes.
fn fits(range: &ByteRange, len: u64) -> bool {
    match *range {
        ByteRange::FromStart(offset, None) => offset <= len,
        ByteRange::FromStart(offset, Some(length)) => {
            offset.checked_add(length).is_some_and(|end| end <= len)
        }
        ByteRange::Suffix(length) => length <= len,
    }
}

impl ReadableStorageTraits for CheckedMemoryStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> StorageResult<MaybeBytesIterator<'a>> {
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        // A value replaced by a shorter one between these two calls (a write racing a partial
        // read of the same key) still reaches zarrs' store unchecked.
        let Some(len) = self.inner.size_key(key)? else {
            return Ok(None);
        };
        if let Some(range) = ranges.iter().find(|range| !fits(range, len)) {
            return Err(InvalidByteRangeError::new(*range, len).into());
        }
        self.inner
            .get_partial_many(key, Box::new(ranges.into_iter()))
    }

    fn size_key(&self, key: &StoreKey) -> StorageResult<Option<u64>> {
        self.inner.size_key(key)
    }

    fn supports_get_partial(&self) -> bool {
        self.inner.supports_get_partial()
    }

    fn get(&self, key: &StoreKey) -> StorageResult<MaybeBytes> {
        self.inner.get(key)
    }
}

impl WritableStorageTraits for CheckedMemoryStore {
    // Each change moves the key's generation once the change is in place (see `value_versions`
    // for why after), even when it failed part way.
    fn set(&self, key: &StoreKey, value: Bytes) -> StorageResult<()> {
        let result = self.inner.set(key, value);
        self.generations.wrote(key);
        result
    }

    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> StorageResult<()> {
        let result = self.inner.set_partial_many(key, offset_values);
        self.generations.wrote(key);
        result
    }

    fn erase(&self, key: &StoreKey) -> StorageResult<()> {
        let result = self.inner.erase(key);
        self.generations.erased(key);
        result
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> StorageResult<()> {
        let result = self.inner.erase_prefix(prefix);
        self.generations.erased_prefix(prefix);
        result
    }

    fn supports_set_partial(&self) -> bool {
        self.inner.supports_set_partial()
    }
}

impl ListableStorageTraits for CheckedMemoryStore {
    fn list(&self) -> StorageResult<StoreKeys> {
        self.inner.list()
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> StorageResult<StoreKeys> {
        self.inner.list_prefix(prefix)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> StorageResult<StoreKeysPrefixes> {
        self.inner.list_dir(prefix)
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> StorageResult<u64> {
        self.inner.size_prefix(prefix)
    }
}

#[cfg(test)]
mod tests {
    use zarrs::storage::byte_range::ByteRange;
    use zarrs::storage::{ReadableStorageTraits, StoreKey, WritableStorageTraits};

    use crate::store::Store;

    #[test]
    fn ranges_past_a_value_are_errors_not_panics() {
        let store = Store::open("memory://", None).unwrap();
        let key = StoreKey::new("k").unwrap();
        store.storage.set(&key, vec![1u8, 2].into()).unwrap();
        for range in [
            ByteRange::FromStart(4, None),
            ByteRange::FromStart(3, Some(0)),
            ByteRange::FromStart(u64::MAX, Some(2)),
            ByteRange::Suffix(3),
        ] {
            let err = store
                .storage
                .get_partial(&key, range)
                .expect_err("out of range");
            assert!(err.to_string().contains("invalid byte range"), "{err}");
        }
        for (range, expected) in [
            (ByteRange::FromStart(2, None), &[][..]),
            (ByteRange::FromStart(1, Some(1)), &[2]),
            (ByteRange::Suffix(2), &[1, 2]),
        ] {
            let value = store.storage.get_partial(&key, range).unwrap().unwrap();
            assert_eq!(&value[..], expected);
        }
        let missing = StoreKey::new("m").unwrap();
        let range = ByteRange::FromStart(4, None);
        assert!(
            store
                .storage
                .get_partial(&missing, range)
                .unwrap()
                .is_none()
        );
    }
}
