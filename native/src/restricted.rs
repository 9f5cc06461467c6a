//! A store that refuses what it cannot or may not do: writes to a read-only store (HTTP, a zip
//! file, any store opened with `read_only`), listings of a store that cannot list (HTTP). Each
//! refusal is an error the caller can act on, never an empty answer that looks like no data.

use zarrs::storage::byte_range::ByteRangeIterator;
use zarrs::storage::{
    Bytes, ListableStorageTraits, MaybeBytes, MaybeBytesIterator, OffsetBytesIterator,
    ReadableStorageTraits, ReadableWritableListableStorage, StorageError, StoreKey, StoreKeys,
    StoreKeysPrefixes, StorePrefix, WritableStorageTraits,
};

pub(crate) struct Restricted {
    pub inner: ReadableWritableListableStorage,
    pub writable: bool,
    /// Why listing is refused, when it is.
    pub unlistable: Option<&'static str>,
}

type StorageResult<T> = Result<T, StorageError>;

impl Restricted {
    fn writing(&self) -> StorageResult<&ReadableWritableListableStorage> {
        if self.writable {
            Ok(&self.inner)
        } else {
            Err(StorageError::ReadOnly)
        }
    }

    fn listing(&self) -> StorageResult<&ReadableWritableListableStorage> {
        match self.unlistable {
            Some(why) => Err(StorageError::Unsupported(why.to_owned())),
            None => Ok(&self.inner),
        }
    }
}

impl ReadableStorageTraits for Restricted {
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

impl WritableStorageTraits for Restricted {
    fn set(&self, key: &StoreKey, value: Bytes) -> StorageResult<()> {
        self.writing()?.set(key, value)
    }

    fn set_partial_many(
        &self,
        key: &StoreKey,
        offset_values: OffsetBytesIterator,
    ) -> StorageResult<()> {
        self.writing()?.set_partial_many(key, offset_values)
    }

    fn erase(&self, key: &StoreKey) -> StorageResult<()> {
        self.writing()?.erase(key)
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> StorageResult<()> {
        self.writing()?.erase_prefix(prefix)
    }

    fn supports_set_partial(&self) -> bool {
        self.writable && self.inner.supports_set_partial()
    }
}

impl ListableStorageTraits for Restricted {
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
