//! Encoding a whole shard from the caller's elements: zarrs' `sharding_indexed` encoding, with
//! each inner chunk cut out of the shard run by run (`box_copy`).
//!
//! Why: zarrs' sharding codec cuts every inner chunk out of the shard with the iterator that
//! unravels and ravels every run (32³ uint16 inner chunks have 64-byte runs), and copies each
//! encoded inner chunk twice. perf on writing the bench's sharded layout (128³ shards of 32³
//! zstd inner chunks) put 6-7 % of the time in that iterator and 3-5 % in the copies.
//!
//! The shard is the one zarrs writes: inner chunks that are entirely the fill value are left
//! out, the others are encoded with the inner codecs and laid out one after another, and the
//! index (offset and length of each, `u64::MAX` twice for one left out) is encoded with the
//! index codecs at the start or end. Inner chunks are laid out in C order, as zarrs does when it
//! encodes them one at a time (in parallel it lays them out as they finish), so a shard's bytes
//! do not depend on the thread count.

use std::borrow::Cow;
use std::num::NonZeroU64;

use rayon::prelude::*;
use zarrs::array::{
    ArrayBytes, ArrayToBytesCodecTraits, BytesRepresentation, CodecOptions, DataType, FillValue,
};

use super::checks::internal;
use super::shard_codecs::ShardCodecs;
use crate::box_copy::{Place, for_each_run};
use crate::error::Result;

impl ShardCodecs {
    /// Encode the shard of `shape` whose elements (C order) are `data`. `None` when this shard
    /// does not divide into inner chunks or its index has no fixed size (zarrs then encodes it).
    pub fn encode(
        &self,
        data: &[u8],
        shape: &[NonZeroU64],
        data_type: &DataType,
        fill_value: &FillValue,
        options: &CodecOptions,
    ) -> Result<Option<Vec<u8>>> {
        let Some(element_size) = data_type.fixed_size() else {
            return Ok(None);
        };
        let ndim = shape.len();
        if self.inner_shape.len() != ndim
            || std::iter::zip(shape, &self.inner_shape).any(|(s, i)| s.get() % i.get() != 0)
        {
            return Ok(None);
        }
        let grid: Vec<u64> = std::iter::zip(shape, &self.inner_shape)
            .map(|(s, i)| s.get() / i.get())
            .collect();
        let count = usize::try_from(grid.iter().product::<u64>()).map_err(|e| internal(&e))?;
        let mut index_shape: Vec<NonZeroU64> = grid
            .iter()
            .map(|&n| NonZeroU64::new(n).ok_or_else(|| internal(&"an empty shard")))
            .collect::<Result<_>>()?;
        index_shape.push(NonZeroU64::MIN.saturating_add(1));
        let index_type = zarrs::array::data_type::uint64();
        let index_fill = FillValue::from(u64::MAX);
        let index_size =
            match self
                .index_codecs
                .encoded_representation(&index_shape, &index_type, &index_fill)
            {
                Ok(BytesRepresentation::FixedSize(size)) => {
                    usize::try_from(size).map_err(|e| internal(&e))?
                }
                _ => return Ok(None),
            };

        let shard_shape: Vec<u64> = shape.iter().map(|d| d.get()).collect();
        let inner_shape: Vec<u64> = self.inner_shape.iter().map(|d| d.get()).collect();
        let zeros = vec![0u64; ndim];
        let inner_options = if options.concurrent_target() > 1 {
            options.with_concurrent_target(1)
        } else {
            *options
        };
        let encode_one = |n: usize| -> Result<Option<Vec<u8>>> {
            // The inner chunk's position in the shard's grid of inner chunks (C order).
            let mut rest = n as u64;
            let mut start = vec![0u64; ndim];
            for axis in (0..ndim).rev() {
                start[axis] = (rest % grid[axis]) * inner_shape[axis];
                rest /= grid[axis];
            }
            let length = inner_shape.iter().product::<u64>() as usize * element_size;
            let mut elements = Vec::with_capacity(length);
            let from = Place {
                shape: &shard_shape,
                start: &start,
            };
            let to = Place {
                shape: &inner_shape,
                start: &zeros,
            };
            // Runs come in the inner chunk's C order, each where the last ended.
            for_each_run(from, to, &inner_shape, element_size, |from, _, len| {
                elements.extend_from_slice(&data[from..from + len]);
            });
            let bytes = ArrayBytes::new_flen(Cow::Owned(elements));
            if bytes.is_fill_value(fill_value) {
                return Ok(None);
            }
            let encoded = self
                .inner_codecs
                .encode(
                    bytes,
                    &self.inner_shape,
                    data_type,
                    fill_value,
                    &inner_options,
                )
                .map_err(zarrs::array::ArrayError::CodecError)?;
            Ok(Some(encoded.into_owned()))
        };
        let encoded: Vec<Option<Vec<u8>>> = if options.concurrent_target() > 1 {
            (0..count)
                .into_par_iter()
                .map(encode_one)
                .collect::<Result<_>>()?
        } else {
            (0..count).map(encode_one).collect::<Result<_>>()?
        };

        let mut index = vec![u64::MAX; 2 * count];
        let mut offset = if self.index_at_start { index_size } else { 0 };
        for (n, chunk) in encoded.iter().enumerate() {
            if let Some(chunk) = chunk {
                index[2 * n] = offset as u64;
                index[2 * n + 1] = chunk.len() as u64;
                offset += chunk.len();
            }
        }
        let index_bytes: Vec<u8> = index.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let index_encoded = self
            .index_codecs
            .encode(
                ArrayBytes::new_flen(Cow::Owned(index_bytes)),
                &index_shape,
                &index_type,
                &index_fill,
                options,
            )
            .map_err(zarrs::array::ArrayError::CodecError)?;
        if index_encoded.len() != index_size {
            return Err(internal(&format!(
                "a shard index encoded to {} bytes, not the {index_size} its codecs promise",
                index_encoded.len()
            )));
        }
        let mut shard = Vec::with_capacity(offset + index_size);
        if self.index_at_start {
            shard.extend_from_slice(&index_encoded);
        }
        for chunk in encoded.iter().flatten() {
            shard.extend_from_slice(chunk);
        }
        if !self.index_at_start {
            shard.extend_from_slice(&index_encoded);
        }
        Ok(Some(shard))
    }
}
