//! The trait methods a codec wrapping one of zarrs' codecs hands to it unchanged.
//!
//! zarrlib wraps zarrs' codecs to bound or check what they decode (`codecs::Bounded`,
//! `checksums::Checked`), and wraps the encoded bytes given to zarrs' partial decoders to check
//! them first (`checksums::HoldsChecksum`, `codecs::BloscHeaderChecked`, the zstd prefix decoder).
//! Each wrapper writes only what it changes; these macros write the rest: the methods that pass
//! straight through to the wrapped codec (`self.inner`) or the wrapped bytes (`self.input`).

/// `ExtensionName` of a codec wrapper, and the `CodecTraits` and `BytesToBytesCodecTraits`
/// methods it does not change, all handed to `self.inner` (an `Arc<dyn BytesToBytesCodecTraits>`).
/// Use: `name_of_inner!(Wrapper);` at module level, `codec_traits_of_inner!();` inside
/// `impl CodecTraits`, and `bytes_to_bytes_traits_of_inner!();` inside
/// `impl BytesToBytesCodecTraits`.
macro_rules! name_of_inner {
    ($wrapper:ty) => {
        impl ::zarrs::plugin::ExtensionName for $wrapper {
            fn name(
                &self,
                version: ::zarrs::plugin::ZarrVersion,
            ) -> Option<::std::borrow::Cow<'static, str>> {
                self.inner.name(version)
            }
        }
    };
}

/// See [`name_of_inner`]: `as_any`, `configuration` and `partial_encoder_capability`.
macro_rules! codec_traits_of_inner {
    () => {
        fn as_any(&self) -> &dyn ::std::any::Any {
            self.inner.as_any()
        }

        fn configuration(
            &self,
            version: ::zarrs::plugin::ZarrVersion,
            options: &::zarrs::array::codec::api::CodecMetadataOptions,
        ) -> Option<::zarrs::metadata::Configuration> {
            self.inner.configuration(version, options)
        }

        fn partial_encoder_capability(
            &self,
        ) -> ::zarrs::array::codec::api::PartialEncoderCapability {
            self.inner.partial_encoder_capability()
        }
    };
}

/// See [`name_of_inner`]: `into_dyn`, `recommended_concurrency`, `encoded_representation` and
/// `encode`.
macro_rules! bytes_to_bytes_traits_of_inner {
    () => {
        fn into_dyn(
            self: ::std::sync::Arc<Self>,
        ) -> ::std::sync::Arc<dyn ::zarrs::array::codec::api::BytesToBytesCodecTraits> {
            self
        }

        fn recommended_concurrency(
            &self,
            decoded_representation: &::zarrs::array::codec::api::BytesRepresentation,
        ) -> Result<
            ::zarrs::array::codec::api::RecommendedConcurrency,
            ::zarrs::array::codec::api::CodecError,
        > {
            self.inner.recommended_concurrency(decoded_representation)
        }

        fn encoded_representation(
            &self,
            decoded_representation: &::zarrs::array::codec::api::BytesRepresentation,
        ) -> ::zarrs::array::codec::api::BytesRepresentation {
            self.inner.encoded_representation(decoded_representation)
        }

        fn encode<'a>(
            &self,
            decoded_value: ::zarrs::array::ArrayBytesRaw<'a>,
            options: &::zarrs::array::codec::api::CodecOptions,
        ) -> Result<::zarrs::array::ArrayBytesRaw<'a>, ::zarrs::array::codec::api::CodecError> {
            self.inner.encode(decoded_value, options)
        }
    };
}

/// Inside `impl BytesPartialDecoderTraits` of a wrapper of encoded bytes (`self.input`, an
/// `Arc<dyn BytesPartialDecoderTraits>`): `exists` and `size_held`, handed to the input.
macro_rules! partial_decoder_traits_of_input {
    () => {
        fn exists(&self) -> Result<bool, ::zarrs::storage::StorageError> {
            self.input.exists()
        }

        fn size_held(&self) -> usize {
            self.input.size_held()
        }
    };
}

pub(crate) use {
    bytes_to_bytes_traits_of_inner, codec_traits_of_inner, name_of_inner,
    partial_decoder_traits_of_input,
};
