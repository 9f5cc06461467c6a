//! Parts of blosc chunks decoded block by block: only the blocks holding the bytes a read needs.
//!
//! A c-blosc 1.x buffer is a 16-byte header, a table of where each block starts, then the blocks:
//! `blocksize` bytes of the chunk each (the last one may be shorter), compressed independently,
//! shuffled within themselves. An 8³ region of a 128³ uint16 chunk lies in one or two of its
//! sixteen 256 KiB blocks, and the rows an orthogonal selection picks (about 8 random planes of
//! 128) in about six: decoding the whole chunk for them was most of the read. zarrs' blosc
//! partial decoder does decode by blocks, but calls `blosc_getitem` once per byte range asked
//! for, each call decoding its block again: 64 block decodes for the 64 rows of an 8³ region.
//!
//! Here the blocks holding needed bytes are found first (from a region's runs, a strided or
//! orthogonal block's rows, a chunk's points), each is decoded once with
//! `blosc_getitem` over its whole item range, at its own place in a buffer of the chunk's size
//! the thread keeps (`with_scratch`); the caller then copies what it needs out of that buffer as
//! if the chunk had been decoded whole. When most blocks are needed, the chunk is decoded whole
//! into that buffer instead (`WHOLE_SHARE`): one call, and no copy out of blosc's block buffer.
//!
//! Hostile data: the header is checked before any block is decoded (`BloscBlocks::parse`). What
//! `blosc_getitem` itself checks, in the vendored c-blosc 1.21 (`blosc-src` 0.3.8): the format
//! version, `0 < blocksize <= nbytes`, blocksize and typesize within c-blosc's limits, the
//! compressor's code and format version, that the block-start table fits in `cbytes`; for every
//! block decoded (`blosc_d`), that its start and each split's compressed length lie inside
//! `cbytes`, and that each split decodes to exactly its length. `cbytes` is the header's, so
//! it is checked here to be the buffer's length (`blosc_cbuffer_validate`); the item range
//! asked for is always a whole block inside `nbytes`. `blosc_getitem` is thread-safe: it keeps
//! its state in a local context and buffers it allocates, its codecs (lz4, zstd, zlib, snappy,
//! blosclz) are stateless, and the unshuffle's CPU dispatch is set up under `pthread_once`.
//! Headers `blosc_getitem` would refuse but the whole decode accepts (or reports in its own
//! words) are decoded whole, so no chunk reads differently on this path.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ops::Range;

use zarrs::array::codec::api::CodecError;

use super::direct::blosc_decode_exact_into;

/// c-blosc 1.x's header: 16 bytes (`BLOSC_MIN_HEADER_LENGTH`).
const HEADER: usize = 16;
/// The format version c-blosc 1.x writes and reads (`BLOSC_VERSION_FORMAT`).
const VERSION_FORMAT: u8 = 2;
/// Header flag: the blocks are stored as they are, no table of starts (`BLOSC_MEMCPYED`).
const MEMCPYED: u8 = 0x2;
/// Header flag bit the whole decode refuses as "from the future".
const FUTURE_FLAG: u8 = 0x8;

/// Above this share of a chunk's blocks (as numerator, denominator), the chunk is decoded whole:
/// one call into blosc, with no copy out of its block buffer.
const WHOLE_SHARE: (usize, usize) = (3, 4);

/// The largest scratch buffer a thread keeps between reads. Larger chunks get a new buffer per
/// read (fresh pages from the allocator, only those of the decoded blocks touched).
const KEPT_SCRATCH: usize = 8 << 20;

thread_local! {
    /// Each thread's buffer of a chunk's size, kept so that its pages fault in once.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A blosc buffer whose header was checked for decoding block by block.
pub(super) struct BloscBlocks<'a> {
    encoded: &'a [u8],
    nbytes: usize,
    blocksize: usize,
    typesize: usize,
}

impl<'a> BloscBlocks<'a> {
    /// Check the header of `encoded` (a whole blosc buffer) against the chunk's `chunk_bytes`.
    /// An invalid buffer, or one that decodes to another size, is an error; `None` when the
    /// header is valid but not one to decode by blocks (decode it whole).
    pub fn parse(encoded: &'a [u8], chunk_bytes: usize) -> Result<Option<Self>, CodecError> {
        let mut nbytes: usize = 0;
        // SAFETY: `encoded` is valid for `encoded.len()` bytes; blosc reads the 16-byte header
        // only after checking the length is at least that.
        let valid = unsafe {
            blosc_src::blosc_cbuffer_validate(
                encoded.as_ptr().cast::<c_void>(),
                encoded.len(),
                &raw mut nbytes,
            )
        } == 0;
        if !valid {
            return Err(CodecError::Other(
                "blosc encoded value is invalid".to_owned(),
            ));
        }
        if nbytes != chunk_bytes {
            // The whole decode words this error (`blosc_decode_exact_into`).
            return Ok(None);
        }
        let header = &encoded[..HEADER];
        let flags = header[2];
        let typesize = usize::from(header[3]);
        let blocksize = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        let blocksize = usize::try_from(blocksize).unwrap_or(usize::MAX);
        let sane = header[0] == VERSION_FORMAT
            && flags & FUTURE_FLAG == 0
            && typesize > 0
            && blocksize > 0
            && blocksize <= nbytes
            && blocksize.is_multiple_of(typesize)
            && nbytes.is_multiple_of(typesize)
            // `blosc_getitem` takes item counts as `int`; `nbytes` fits (`validate` bounds it).
            && i32::try_from(nbytes).is_ok();
        if !sane {
            return Ok(None);
        }
        let blocks = Self {
            encoded,
            nbytes,
            blocksize,
            typesize,
        };
        // `blosc_getitem` wants the block-start table strictly shorter than the rest of the
        // buffer (the whole decode allows it equal); a memcpyed buffer holds the chunk as it is.
        let table_fits = if flags & MEMCPYED != 0 {
            nbytes.checked_add(HEADER) == Some(encoded.len())
        } else {
            blocks.count() < (encoded.len() - HEADER) / 4
        };
        Ok(table_fits.then_some(blocks))
    }

    /// The number of blocks.
    pub fn count(&self) -> usize {
        self.nbytes.div_ceil(self.blocksize)
    }

    /// The chunk's bytes that block `block` holds.
    fn range(&self, block: usize) -> Range<usize> {
        let start = block * self.blocksize;
        start..(start + self.blocksize).min(self.nbytes)
    }

    /// Decode block `block` into `out`, which is exactly the block's bytes.
    fn decode_block(&self, block: usize, out: &mut [u8]) -> Result<(), CodecError> {
        let range = self.range(block);
        debug_assert_eq!(out.len(), range.len());
        // Whole items: both ends are multiples of the typesize (checked in `parse`), and fit
        // in an `int` (`nbytes` does).
        let start = range.start / self.typesize;
        let items = range.len() / self.typesize;
        let (Ok(start), Ok(items)) = (i32::try_from(start), i32::try_from(items)) else {
            return Err(CodecError::Other(
                "a blosc block is out of range".to_owned(),
            ));
        };
        #[cfg(test)]
        tests::count_block();
        // SAFETY: the header was checked against `encoded`'s length (`parse`), and blosc checks
        // every block start and compressed length against it; it writes `items * typesize` bytes,
        // `out.len()`, into `out`.
        let written = unsafe {
            blosc_src::blosc_getitem(
                self.encoded.as_ptr().cast::<c_void>(),
                start,
                items,
                out.as_mut_ptr().cast::<c_void>(),
            )
        };
        if usize::try_from(written).ok() != Some(out.len()) {
            return Err(CodecError::Other(format!(
                "blosc block {block} did not decode to its {} bytes",
                out.len()
            )));
        }
        Ok(())
    }
}

/// The blocks of a chunk a read needs, marked from the byte ranges it reads.
pub(super) struct NeededBlocks {
    blocksize: usize,
    nbytes: usize,
    needed: Vec<bool>,
    marked: usize,
}

impl NeededBlocks {
    fn new(blocks: &BloscBlocks<'_>) -> Self {
        Self {
            blocksize: blocks.blocksize,
            nbytes: blocks.nbytes,
            needed: vec![false; blocks.count()],
            marked: 0,
        }
    }

    /// Mark the blocks holding the chunk's bytes `start..end`; whether every block is marked
    /// now (a caller may stop marking). Bytes past the chunk's end are an engine fault, caught
    /// by the callers' copies; they mark nothing here.
    pub fn mark(&mut self, start: usize, end: usize) -> bool {
        let end = end.min(self.nbytes);
        if start < end && self.marked < self.needed.len() {
            for block in start / self.blocksize..=(end - 1) / self.blocksize {
                if !self.needed[block] {
                    self.needed[block] = true;
                    self.marked += 1;
                }
            }
        }
        self.marked == self.needed.len()
    }
}

/// Decode the blocks of blosc buffer `encoded` (a chunk of `chunk_bytes` bytes) holding the
/// bytes `mark` marks, and call `read` with the chunk's bytes, whose marked bytes are the
/// decoded ones (others are stale). Any block a read needs is decoded, however the bytes were
/// marked; the chunk is decoded whole when most of its blocks are needed, or its header is not
/// one to decode by blocks.
pub(super) fn read_blocks<R>(
    encoded: &[u8],
    chunk_bytes: usize,
    mark: impl FnOnce(&mut NeededBlocks),
    read: impl FnOnce(&[u8]) -> R,
) -> Result<R, CodecError> {
    let blocks = BloscBlocks::parse(encoded, chunk_bytes)?;
    let needed = blocks.as_ref().map(|blocks| {
        let mut needed = NeededBlocks::new(blocks);
        mark(&mut needed);
        needed
    });
    with_scratch(chunk_bytes, |scratch| {
        match (&blocks, &needed) {
            (Some(blocks), Some(needed))
                if needed.marked * WHOLE_SHARE.1 < blocks.count() * WHOLE_SHARE.0 =>
            {
                for (block, _) in needed.needed.iter().enumerate().filter(|(_, n)| **n) {
                    let range = blocks.range(block);
                    blocks.decode_block(block, &mut scratch[range])?;
                }
            }
            _ => {
                #[cfg(test)]
                tests::count_whole();
                blosc_decode_exact_into(encoded, scratch)?;
            }
        }
        Ok(read(&*scratch))
    })
}

/// Call `work` with a buffer of `len` bytes: this thread's kept buffer when `len` is at most
/// `KEPT_SCRATCH`, else a new one. Its contents are whatever was there before.
fn with_scratch<R>(len: usize, work: impl FnOnce(&mut [u8]) -> R) -> R {
    if len > KEPT_SCRATCH {
        let mut fresh = vec![0; len];
        return work(fresh.as_mut_slice());
    }
    // Taken out while in use: a nested use (none is expected) gets a buffer of its own.
    let mut scratch = SCRATCH.take();
    if scratch.len() < len {
        scratch.resize(len, 0);
    }
    let result = work(&mut scratch[..len]);
    SCRATCH.set(scratch);
    result
}

#[cfg(test)]
pub(super) mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        static BLOCKS_DECODED: Cell<usize> = const { Cell::new(0) };
        static WHOLE_DECODES: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn count_block() {
        BLOCKS_DECODED.set(BLOCKS_DECODED.get() + 1);
    }

    pub(super) fn count_whole() {
        WHOLE_DECODES.set(WHOLE_DECODES.get() + 1);
    }

    /// The blocks decoded one by one and the chunks decoded whole on this thread since the last
    /// call.
    pub(in crate::array) fn take_counts() -> (usize, usize) {
        (BLOCKS_DECODED.take(), WHOLE_DECODES.take())
    }

    /// A blosc buffer of `data` with lz4, byte shuffle, `typesize` and a forced `blocksize`.
    fn compress(data: &[u8], typesize: usize, blocksize: usize) -> Vec<u8> {
        let mut out = vec![0u8; data.len() + HEADER];
        let cname = c"lz4";
        // SAFETY: buffers valid for the lengths given; blosc writes at most `out.len()` bytes.
        let written = unsafe {
            blosc_src::blosc_compress_ctx(
                5,
                1,
                typesize,
                data.len(),
                data.as_ptr().cast(),
                out.as_mut_ptr().cast(),
                out.len(),
                cname.as_ptr(),
                blocksize,
                1,
            )
        };
        assert!(written > 0);
        out.truncate(written as usize);
        out
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 / 3 % 251) as u8).collect()
    }

    #[test]
    fn only_the_marked_blocks_are_decoded() {
        let data = pattern(64 << 10);
        let encoded = compress(&data, 2, 4096);
        take_counts();
        let got = read_blocks(
            &encoded,
            data.len(),
            |needed| {
                needed.mark(5000, 5010);
                needed.mark(9000, 13000);
            },
            |bytes| (bytes[5000..5010].to_vec(), bytes[9000..13000].to_vec()),
        )
        .unwrap();
        assert_eq!(got.0, data[5000..5010]);
        assert_eq!(got.1, data[9000..13000]);
        // Block 1 for the first range, blocks 2 and 3 for the second.
        assert_eq!(take_counts(), (3, 0));
    }

    #[test]
    fn most_blocks_needed_decode_the_chunk_whole() {
        let data = pattern(64 << 10);
        let encoded = compress(&data, 2, 4096);
        take_counts();
        let got = read_blocks(
            &encoded,
            data.len(),
            |n| {
                n.mark(0, 60 << 10);
            },
            <[u8]>::to_vec,
        );
        assert_eq!(got.unwrap(), data);
        assert_eq!(take_counts(), (0, 1));
    }

    #[test]
    fn hostile_headers_are_errors_never_reads_out_of_bounds() {
        let data = pattern(64 << 10);
        let encoded = compress(&data, 2, 4096);
        let read = |encoded: &[u8]| {
            read_blocks(
                encoded,
                data.len(),
                |n| {
                    n.mark(20000, 20002);
                },
                |b| b[20000],
            )
        };
        assert_eq!(read(&encoded).unwrap(), data[20000]);
        // Truncated: cbytes no longer matches the length.
        assert!(read(&encoded[..encoded.len() - 1]).is_err());
        // A header claiming more bytes than the chunk has.
        let mut more = encoded.clone();
        more[4..8].copy_from_slice(&(data.len() as u32 + 2).to_le_bytes());
        assert!(read(&more).is_err());
        // The start of block 4 (which holds byte 20000) pointing past the end.
        let mut past = encoded.clone();
        past[HEADER + 16..HEADER + 20].copy_from_slice(&(encoded.len() as u32 + 100).to_le_bytes());
        assert!(read(&past).is_err());
        // ... or at its last bytes, so the compressed length read there runs past the end.
        let mut late = encoded.clone();
        late[HEADER + 16..HEADER + 20].copy_from_slice(&(encoded.len() as u32 - 2).to_le_bytes());
        assert!(read(&late).is_err());
        // A compressed length claiming more than the buffer holds.
        let mut long = encoded.clone();
        let at = u32::from_le_bytes(encoded[HEADER + 16..HEADER + 20].try_into().unwrap()) as usize;
        long[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read(&long).is_err());
        // A zero blocksize, and a typesize that does not divide it: decoded whole (which
        // refuses the first) rather than by blocks.
        let mut zero = encoded.clone();
        zero[8..12].copy_from_slice(&0u32.to_le_bytes());
        assert!(read(&zero).is_err());
        let mut odd = encoded;
        odd[3] = 3;
        let _ = read(&odd);
    }

    #[test]
    fn memcpyed_chunks_decode_by_blocks() {
        // Random bytes do not compress: blosc stores them as they are.
        let mut state = 1u64;
        let data: Vec<u8> = (0..(32 << 10))
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 56) as u8
            })
            .collect();
        let encoded = compress(&data, 1, 4096);
        assert_ne!(encoded[2] & MEMCPYED, 0);
        take_counts();
        let got = read_blocks(
            &encoded,
            data.len(),
            |n| {
                n.mark(100, 200);
            },
            |b| b[100..200].to_vec(),
        );
        assert_eq!(got.unwrap(), data[100..200]);
        assert_eq!(take_counts(), (1, 0));
    }
}
