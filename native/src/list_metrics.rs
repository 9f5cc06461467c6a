//! Counting listings: zarrs' metrics adapter counts reads, writes and erasures but not listings,
//! and "this read listed nothing" is what proves consolidated metadata answered it. This adapter
//! sits around zarrs' and counts every listing request; everything else passes through.

use std::sync::atomic::{AtomicU64, Ordering};

use zarrs::storage::byte_range::ByteRangeIterator;
use zarrs::storage::{
    Bytes, ListableStorageTraits, MaybeBytes, MaybeBytesIterator, OffsetBytesIterator,
    ReadableStorageTraits, ReadableWritableListableStorage, StorageError, StoreKey, StoreKeys,
    StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

pub(crate) struct ListCounter {
    pub inner: ReadableWritableListableStorage,
    pub lists: AtomicU64,
}

type StorageResult<T> = Result<T, StorageError>;

impl ListCounter {
    fn listing(&self) -> &ReadableWritableListableStorage {
        self.lists.fetch_add(1, Ordering::Relaxed);
        &self.inner
    }
}

impl ReadableStorageTraits for ListCounter {
    fn get(&self, key: &StoreKey) -> StorageResult<MaybeBytes> {
        self.inner.get(key)
    }

    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> StorageResult<MaybeBytesIterator<'a>> {
        self.inner.get_partial_many(key, byte_ranges)
    }

    fn size_key(&self, key: &StoreKey) -> StorageResult<Option<u64>> {
        self.inner.size_key(key)
    }

    fn supports_get_partial(&self) -> bool {
        self.inner.supports_get_partial()
    }
}

impl WritableStorageTraits for ListCounter {
    fn set(&self, key: &StoreKey, value: Bytes) -> StorageResult<()> {
        self.inner.set(key, value)
    }

    fn set_partial_many(&self, key: &StoreKey, values: OffsetBytesIterator) -> StorageResult<()> {
        self.inner.set_partial_many(key, values)
    }

    fn erase(&self, key: &StoreKey) -> StorageResult<()> {
        self.inner.erase(key)
    }

    fn erase_many(&self, keys: &[StoreKey]) -> StorageResult<()> {
        self.inner.erase_many(keys)
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> StorageResult<()> {
        self.inner.erase_prefix(prefix)
    }

    fn supports_set_partial(&self) -> bool {
        self.inner.supports_set_partial()
    }
}

impl ListableStorageTraits for ListCounter {
    fn list(&self) -> StorageResult<StoreKeys> {
        self.listing().list()
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> StorageResult<StoreKeys> {
        self.listing().list_prefix(prefix)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> StorageResult<StoreKeysPrefixes> {
        self.listing().list_dir(prefix)
    }

    fn size(&self) -> StorageResult<u64> {
        self.listing().size()
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> StorageResult<u64> {
        self.listing().size_prefix(prefix)
    }
}
