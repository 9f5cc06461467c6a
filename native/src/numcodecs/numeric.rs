//! The numbers numcodecs' filters work on: numpy dtype strings (`"<i4"`, `"|u1"`, `"f8"`) as
//! element kinds, zarrs data types for them, and numpy's casts between them.
//!
//! Elements cross zarrs' array-to-array codecs in native byte order (the `bytes` codec swaps
//! them), so a filter reads and writes native-order values whatever byte order its dtype
//! string names, as zarrs' own `fixedscaleoffset` does.

use num_traits::AsPrimitive;
use zarrs::array::codec::api::CodecError;
use zarrs::array::{DataType, data_type};
use zarrs::plugin::PluginCreateError;

/// A numeric element kind numcodecs' filters take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    F32,
    F64,
}

impl Kind {
    /// Parse a numpy dtype string of a number (`"<i4"`, `">f8"`, `"|u1"`, `"i2"`, `"float32"`).
    pub fn parse(dtype: &str) -> Option<Self> {
        let named = match dtype {
            "int8" => Some(Self::I8),
            "int16" => Some(Self::I16),
            "int32" => Some(Self::I32),
            "int64" => Some(Self::I64),
            "uint8" => Some(Self::U8),
            "uint16" => Some(Self::U16),
            "uint32" => Some(Self::U32),
            "uint64" => Some(Self::U64),
            "float16" => Some(Self::F16),
            "float32" => Some(Self::F32),
            "float64" => Some(Self::F64),
            _ => None,
        };
        if named.is_some() {
            return named;
        }
        let code = dtype.trim_start_matches(['<', '>', '|', '=']);
        Some(match code {
            "i1" => Self::I8,
            "i2" => Self::I16,
            "i4" => Self::I32,
            "i8" => Self::I64,
            "u1" => Self::U8,
            "u2" => Self::U16,
            "u4" => Self::U32,
            "u8" => Self::U64,
            "f2" => Self::F16,
            "f4" => Self::F32,
            "f8" => Self::F64,
            _ => return None,
        })
    }

    /// Parse a codec's dtype field, or say which codec cannot take it.
    pub fn parse_for(codec: &str, field: &str, dtype: &str) -> Result<Self, PluginCreateError> {
        Self::parse(dtype).ok_or_else(|| {
            PluginCreateError::Other(format!(
                "numcodecs {codec} {field} {dtype:?} is not a numeric dtype zarrlib supports \
                 (signed and unsigned integers, float16/32/64)"
            ))
        })
    }

    pub fn size(self) -> usize {
        match self {
            Self::I8 | Self::U8 => 1,
            Self::I16 | Self::U16 | Self::F16 => 2,
            Self::I32 | Self::U32 | Self::F32 => 4,
            Self::I64 | Self::U64 | Self::F64 => 8,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Self::F16 | Self::F32 | Self::F64)
    }

    /// The zarrs data type of this kind.
    pub fn data_type(self) -> DataType {
        match self {
            Self::I8 => data_type::int8(),
            Self::I16 => data_type::int16(),
            Self::I32 => data_type::int32(),
            Self::I64 => data_type::int64(),
            Self::U8 => data_type::uint8(),
            Self::U16 => data_type::uint16(),
            Self::U32 => data_type::uint32(),
            Self::U64 => data_type::uint64(),
            Self::F16 => data_type::float16(),
            Self::F32 => data_type::float32(),
            Self::F64 => data_type::float64(),
        }
    }

    /// Check that elements of `data_type` have this kind's size: numcodecs views whatever it
    /// is given as its own dtype, so only the size must agree.
    pub fn check_size(self, codec: &str, data_type: &DataType) -> Result<(), CodecError> {
        if data_type.fixed_size() == Some(self.size()) {
            Ok(())
        } else {
            Err(CodecError::UnsupportedDataType(
                data_type.clone(),
                format!(
                    "numcodecs.{codec} (its dtype has {}-byte elements)",
                    self.size()
                ),
            ))
        }
    }
}

/// Run `$body` with `$t` the Rust type of the kind `$kind`.
macro_rules! with_kind {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            Kind::I8 => {
                type $t = i8;
                $body
            }
            Kind::I16 => {
                type $t = i16;
                $body
            }
            Kind::I32 => {
                type $t = i32;
                $body
            }
            Kind::I64 => {
                type $t = i64;
                $body
            }
            Kind::U8 => {
                type $t = u8;
                $body
            }
            Kind::U16 => {
                type $t = u16;
                $body
            }
            Kind::U32 => {
                type $t = u32;
                $body
            }
            Kind::U64 => {
                type $t = u64;
                $body
            }
            Kind::F16 => {
                type $t = half::f16;
                $body
            }
            Kind::F32 => {
                type $t = f32;
                $body
            }
            Kind::F64 => {
                type $t = f64;
                $body
            }
        }
    };
}
pub(super) use with_kind;

/// The native-order elements in `bytes` (whose length is a multiple of `T`'s size).
pub(super) fn elements<T: bytemuck::Pod>(bytes: &[u8]) -> Vec<T> {
    bytemuck::allocation::pod_collect_to_vec(bytes)
}

/// The native-order bytes of `elements`.
pub(super) fn to_bytes<T: bytemuck::Pod>(elements: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(elements).to_vec()
}

/// numpy's `astype` from `from` to `to` on native-order elements: integers wrap, floats round
/// to nearest, floats truncate toward zero into integers (Rust saturates where C, and so numpy,
/// leaves out-of-range values undefined).
pub(super) fn cast(bytes: &[u8], from: Kind, to: Kind) -> Vec<u8> {
    with_kind!(from, A => with_kind!(to, B => cast_as::<A, B>(bytes)))
}

fn cast_as<A, B>(bytes: &[u8]) -> Vec<u8>
where
    A: bytemuck::Pod + AsPrimitive<B>,
    B: bytemuck::Pod,
{
    let out: Vec<B> = elements::<A>(bytes)
        .into_iter()
        .map(AsPrimitive::as_)
        .collect();
    to_bytes(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_dtype_strings() {
        assert_eq!(Kind::parse("<i4"), Some(Kind::I32));
        assert_eq!(Kind::parse("|u1"), Some(Kind::U8));
        assert_eq!(Kind::parse(">f2"), Some(Kind::F16));
        assert_eq!(Kind::parse("float64"), Some(Kind::F64));
        assert_eq!(Kind::parse("<U5"), None);
        assert_eq!(Kind::parse("<c16"), None);
    }

    #[test]
    fn casts_as_numpy_does() {
        // np.array([300, -1], "<i4").astype("u1") == [44, 255]
        let ints = to_bytes(&[300i32, -1]);
        assert_eq!(cast(&ints, Kind::I32, Kind::U8), vec![44, 255]);
        // np.array([2.5, -1.75], "<f8").astype("<i2") == [2, -1]
        let floats = to_bytes(&[2.5f64, -1.75]);
        assert_eq!(cast(&floats, Kind::F64, Kind::I16), to_bytes(&[2i16, -1]));
        // np.array([1/3], "<f8").astype("<f2").view("<u2") == [13653]
        let third = to_bytes(&[1.0f64 / 3.0]);
        assert_eq!(cast(&third, Kind::F64, Kind::F16), to_bytes(&[13653u16]));
    }
}
