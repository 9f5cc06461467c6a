//! A read-only store: HTTP, a zip file, or any store opened with `read_only`. Every write is
//! refused with `StorageError::ReadOnly`, and a store that cannot list (HTTP) refuses listings,
//! so that each refusal is an error the caller can act on, never an empty answer that looks
//! like no data.

use zarrs::storage::byte_range::ByteRangeIterator;
use zarrs::storage::{
    Bytes, ListableStorageTraits, MaybeBytes, MaybeBytesIterator, OffsetBytesIterator,
    ReadableListableStorage, ReadableStorageTraits, StorageError, StoreKey, StoreKeys,
    StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

pub(crate) struct ReadOnly {
    pub inner: ReadableListableStorage,
    /// Why listing is refused, when it is.
    pub unlistable: Option<&'static str>,
}

type StorageResult<T> = Result<T, StorageError>;

impl ReadOnly {
    fn listing(&self) -> StorageResult<&ReadableListableStorage> {
        match self.unlistable {
            Some(why) => Err(StorageError::Unsupported(why.to_owned())),
            None => Ok(&self.inner),
        }
    }
}

impl ReadableStorageTraits for ReadOnly {
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

impl WritableStorageTraits for ReadOnly {
    fn set(&self, _key: &StoreKey, _value: Bytes) -> StorageResult<()> {
        Err(StorageError::ReadOnly)
    }

    fn set_partial_many(
        &self,
        _key: &StoreKey,
        _offset_values: OffsetBytesIterator,
    ) -> StorageResult<()> {
        Err(StorageError::ReadOnly)
    }

    fn erase(&self, _key: &StoreKey) -> StorageResult<()> {
        Err(StorageError::ReadOnly)
    }

    fn erase_prefix(&self, _prefix: &StorePrefix) -> StorageResult<()> {
        Err(StorageError::ReadOnly)
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}

impl ListableStorageTraits for ReadOnly {
    fn list(&self) -> StorageResult<StoreKeys> {
        self.listing()?.list()
    }

    fn list_prefix(&self, prefix: &StorePrefix) -> StorageResult<StoreKeys> {
        self.listing()?.list_prefix(prefix)
    }

    fn list_dir(&self, prefix: &StorePrefix) -> StorageResult<StoreKeysPrefixes> {
        self.listing()?.list_dir(prefix)
    }

    fn size_prefix(&self, prefix: &StorePrefix) -> StorageResult<u64> {
        self.listing()?.size_prefix(prefix)
    }
}
