//! The core's error type: a kind the C ABI maps one-to-one onto a status code, and a message.
//!
//! Every zarrs error is classified here, once, so the FFI layer never inspects zarrs types.

use std::fmt;

use zarrs::array::{ArrayCreateError, ArrayError, CodecError};
use zarrs::plugin::PluginCreateError;
use zarrs::storage::StorageError;

/// What went wrong, in the terms a caller may want to handle. Each kind is one C status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidArgument,
    InvalidHandle,
    BufferSize,
    OutOfBounds,
    NotFound,
    AlreadyExists,
    NodeKind,
    InvalidMetadata,
    Unsupported,
    Storage,
    CorruptData,
    Internal,
    ReadOnly,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub fn invalid_metadata(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidMetadata, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<StorageError> for Error {
    fn from(err: StorageError) -> Self {
        let kind = match &err {
            StorageError::InvalidMetadata(..) => ErrorKind::InvalidMetadata,
            StorageError::StorePrefixError(_) | StorageError::InvalidStoreKey(_) => {
                ErrorKind::InvalidArgument
            }
            StorageError::Unsupported(_) => ErrorKind::Unsupported,
            StorageError::ReadOnly => ErrorKind::ReadOnly,
            // The engine asks only for ranges that metadata or a shard index place inside a
            // value: one that is not there means the value or the index is corrupt.
            StorageError::InvalidByteRangeError(_) => {
                return Self::new(
                    ErrorKind::CorruptData,
                    format!(
                        "a stored value is shorter than its shard index or metadata say: {err}"
                    ),
                );
            }
            _ => ErrorKind::Storage,
        };
        Self::new(kind, err.to_string())
    }
}

fn plugin_kind(err: &PluginCreateError) -> ErrorKind {
    match err {
        PluginCreateError::Unsupported(_) => ErrorKind::Unsupported,
        _ => ErrorKind::InvalidMetadata,
    }
}

impl From<ArrayCreateError> for Error {
    fn from(err: ArrayCreateError) -> Self {
        let kind = match &err {
            ArrayCreateError::StorageError(storage) => return storage.clone().into(),
            ArrayCreateError::DataTypeCreateError(p)
            | ArrayCreateError::CodecsCreateError(p)
            | ArrayCreateError::StorageTransformersCreateError(p)
            | ArrayCreateError::ChunkGridCreateError(p)
            | ArrayCreateError::ChunkKeyEncodingCreateError(p) => plugin_kind(p),
            ArrayCreateError::AdditionalFieldUnsupportedError(_)
            | ArrayCreateError::UnsupportedZarrV2Array(_) => ErrorKind::Unsupported,
            ArrayCreateError::NodePathError(_) => ErrorKind::InvalidArgument,
            ArrayCreateError::MissingMetadata => ErrorKind::NotFound,
            _ => ErrorKind::InvalidMetadata,
        };
        Self::new(kind, err.to_string()).without_parser_jargon()
    }
}

/// Classify a codec failure met while *decoding* stored bytes: the data is corrupt unless the
/// failure came from the store or from an unsupported combination.
fn codec_decode_kind(err: &CodecError) -> ErrorKind {
    match err {
        CodecError::StorageError(storage) => Error::from(storage.clone()).kind,
        CodecError::UnsupportedDataType(..) | CodecError::UnsupportedDataTypeCodec(_) => {
            ErrorKind::Unsupported
        }
        _ => ErrorKind::CorruptData,
    }
}

impl From<ArrayError> for Error {
    /// Array errors come from reads and writes whose arguments the core has already checked, so
    /// what remains is store trouble, undecodable chunks, or an engine fault.
    fn from(err: ArrayError) -> Self {
        let kind = match &err {
            ArrayError::StorageError(storage) => return storage.clone().into(),
            ArrayError::CodecError(codec) => codec_decode_kind(codec),
            ArrayError::InvalidChunkGridIndicesError(_)
            | ArrayError::InvalidArraySubset(..)
            | ArrayError::InvalidChunkSubset(..) => ErrorKind::OutOfBounds,
            ArrayError::UnexpectedChunkDecodedSize(..)
            | ArrayError::UnexpectedChunkDecodedShape(..) => ErrorKind::CorruptData,
            ArrayError::UnsupportedMethod(_) => ErrorKind::Unsupported,
            _ => ErrorKind::Internal,
        };
        Self::new(kind, err.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Self::invalid_metadata(err.to_string()).without_parser_jargon()
    }
}

impl Error {
    /// serde's message for an untagged enum none of whose variants matched names a Rust type of
    /// zarrs, not what the document holds. Name the codec (or part of the metadata) instead: its
    /// configuration is one zarrlib cannot read (invalid, or a form it does not know: the kind
    /// stays what zarrs said).
    fn without_parser_jargon(self) -> Self {
        const MARK: &str = "data did not match any variant of untagged enum ";
        let Some(at) = self.message.find(MARK) else {
            return self;
        };
        let type_name: String = self.message[at + MARK.len()..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let message = match type_name.strip_suffix("CodecConfiguration") {
            Some(codec) => format!(
                "the {} codec's configuration is not one zarrlib reads",
                codec.to_ascii_lowercase()
            ),
            None => format!("the metadata's {type_name} is not in a form zarrlib reads"),
        };
        Self::new(self.kind, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_errors_are_classified() {
        let err: Error =
            StorageError::InvalidMetadata("a/zarr.json".try_into().unwrap(), "x".into()).into();
        assert_eq!(err.kind, ErrorKind::InvalidMetadata);
        let err: Error = StorageError::ReadOnly.into();
        assert_eq!(err.kind, ErrorKind::ReadOnly);
    }

    #[test]
    fn parser_messages_name_the_codec() {
        let err = Error::invalid_metadata(
            "configuration is unsupported: data did not match any variant of untagged enum BloscCodecConfiguration",
        )
        .without_parser_jargon();
        assert_eq!(err.kind, ErrorKind::InvalidMetadata);
        assert_eq!(
            err.message,
            "the blosc codec's configuration is not one zarrlib reads"
        );
    }

    #[test]
    fn codec_failures_on_decode_are_corrupt_data() {
        let err: Error = ArrayError::CodecError(CodecError::InvalidChecksum).into();
        assert_eq!(err.kind, ErrorKind::CorruptData);
    }
}
