//! Reading runs of a local file straight into their places in the caller's buffer: the part of
//! an unencoded chunk that a region read needs, moved once through memory.
//!
//! Why: a raw chunk that was only part of the output used to be read whole into a fresh buffer
//! of the chunk's size, whose rows were then copied into place. Every byte went through memory
//! twice (the kernel's copy out of the page cache into the buffer, then the rows out of the
//! buffer), and each chunk's buffer was new pages to fault in. Here the file is read slab by
//! slab into a buffer the thread keeps, small enough to stay in the core's cache (`SLAB`), and
//! each slab's runs are copied into place while the slab is still there: what goes through
//! memory is the page cache read once and the output written once, as in a plain copy. Runs
//! long enough (`DIRECT_RUN`) are read by the kernel straight into their place.
//!
//! The kernel scattering every run itself (`preadv`, an iovec per run) was measured slower for
//! the 256-byte runs of 128³ uint16 chunks: its cost per iovec is more than a `memmove` of the
//! run (docs/benchmarks.md, "A raw whole-array read").

use std::cell::RefCell;
use std::fs::File;
use std::io;

use unsafe_cell_slice::UnsafeCellSlice;

use crate::box_copy::Run;

/// The most one read puts in the thread's slab. Well inside a core's L2 cache (512 KiB on the
/// project's machine), so the copies out of it never wait on memory.
pub(crate) const SLAB: usize = 128 << 10;

/// Runs at least this long go from the file straight to their place: one system call each
/// costs less than copying them again out of a slab.
const DIRECT_RUN: usize = 64 << 10;

/// Runs further apart than this are read by separate calls: one more system call costs less
/// than copying the bytes between them (the reasoning of `local_store::COALESCE_GAP`).
const MAX_GAP: usize = 4096;

thread_local! {
    /// Each thread's slab, allocated on its first read and kept: no page faults after that.
    static SLAB_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Targets at least this large are written with non-temporal stores (`copy_streaming`): far
/// larger than the last-level cache (8 MiB on the project's machine), so caching what is
/// written only evicts the slab and costs a read of every target line before it is written.
pub(crate) const STREAMING_TARGET: usize = 32 << 20;

/// Read each run of `runs` from `file` (source offsets are file offsets) into `target` (at the
/// run's target offset). Runs come in increasing source order, as `Runs` and `PackedRuns`
/// give them. A file
/// that ends before a run does is `UnexpectedEof`; what was read so far stays in `target`.
///
/// # Safety
/// Every run lies inside `target`, and no other thread reads or writes the runs' bytes of
/// `target` during the call.
pub unsafe fn read_runs(
    file: &File,
    runs: impl Iterator<Item = Run>,
    target: &UnsafeCellSlice<'_, u8>,
) -> io::Result<()> {
    let streaming = target.len() >= STREAMING_TARGET;
    let read = SLAB_BUFFER.with_borrow_mut(|slab| {
        let mut runs = runs.peekable();
        let mut batch: Vec<Run> = Vec::new();
        while let Some(first) = runs.next() {
            if first.len >= DIRECT_RUN {
                // SAFETY: the caller's promise.
                let to = unsafe { target.index_mut(first.target..first.target + first.len) };
                read_exact_at(file, to, first.source as u64)?;
                continue;
            }
            // The runs that fit in one slab from `first` on, none of them far from the last.
            batch.clear();
            batch.push(first);
            let mut end = first.source + first.len;
            while let Some(&next) = runs.peek() {
                if next.len >= DIRECT_RUN
                    || next.source + next.len - first.source > SLAB
                    || next.source.saturating_sub(end) > MAX_GAP
                {
                    break;
                }
                end = next.source + next.len;
                batch.push(next);
                runs.next();
            }
            if slab.len() < SLAB {
                *slab = vec![0; SLAB];
            }
            let span = &mut slab[..end - first.source];
            read_exact_at(file, span, first.source as u64)?;
            for run in &batch {
                let from = run.source - first.source;
                // SAFETY: the caller's promise.
                let to = unsafe { target.index_mut(run.target..run.target + run.len) };
                let from = &span[from..from + run.len];
                if streaming {
                    copy_streaming(to, from);
                } else {
                    to.copy_from_slice(from);
                }
            }
        }
        Ok(())
    });
    if streaming {
        store_fence();
    }
    read
}

/// `to` = `from` (of the same length), written around the caches where the machine allows:
/// non-temporal stores (x86-64's SSE2, which every x86-64 has) when `to` is 16-byte aligned
/// and a whole number of 64-byte lines long; otherwise a plain copy. Callers end with
/// `store_fence`, which orders these stores before whatever follows.
#[inline]
fn copy_streaming(to: &mut [u8], from: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
        if (to.as_ptr() as usize).is_multiple_of(16)
            && to.len().is_multiple_of(64)
            && from.len() == to.len()
        {
            let lanes = to.len() / 16;
            let source = from.as_ptr().cast::<__m128i>();
            let target = to.as_mut_ptr().cast::<__m128i>();
            for lane in 0..lanes {
                // SAFETY: `lane` < `lanes`, so both 16 bytes lie inside their slices (of the
                // same length); the load is unaligned, the store's target 16-byte aligned.
                unsafe { _mm_stream_si128(target.add(lane), _mm_loadu_si128(source.add(lane))) };
            }
            return;
        }
    }
    to.copy_from_slice(from);
}

/// Order the non-temporal stores of `copy_streaming` before the stores that follow (which
/// tell other threads the target is written).
#[inline]
fn store_fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `sfence` has no preconditions; SSE is part of x86-64.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

/// Fill `buffer` from `file` at `offset`: short reads are continued, the end of the file
/// before the buffer is full is `UnexpectedEof`.
#[cfg(unix)]
fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buffer: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buffer.is_empty() {
        match file.seek_read(buffer, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buffer = &mut buffer[n..];
                offset += n as u64;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::box_copy::{Place, Runs, for_each_run};

    /// Boxes of a file whose runs are short, long, straddle slabs or lie far apart land where
    /// an in-memory copy of the same runs puts them.
    #[test]
    fn runs_read_from_a_file_land_as_copied_from_memory() {
        let dir = temp_dir::TempDir::new().unwrap();
        // Source shape, source start, target shape, target start, extent.
        type Case<'a> = (&'a [u64], &'a [u64], &'a [u64], &'a [u64], &'a [u64]);
        let cases: [Case<'_>; 7] = [
            // A target of `STREAMING_TARGET` bytes or more: written with non-temporal stores,
            // runs aligned or not.
            (
                &[4, 64, 64],
                &[0, 0, 0],
                &[4, 2048, 1024],
                &[0, 7, 64],
                &[4, 64, 64],
            ),
            (
                &[16, 16, 16],
                &[0, 0, 0],
                &[16, 16, 16],
                &[0, 0, 0],
                &[16, 16, 16],
            ),
            (
                &[16, 16, 16],
                &[3, 2, 1],
                &[20, 20, 20],
                &[1, 5, 9],
                &[9, 13, 7],
            ),
            // 4-byte elements: 200 KiB planes, runs of 800 bytes straddling slabs.
            (
                &[3, 256, 200],
                &[0, 0, 0],
                &[4, 256, 210],
                &[1, 0, 5],
                &[3, 256, 200],
            ),
            // Whole planes: one run of 400 KiB, read straight into place.
            (
                &[3, 256, 100],
                &[1, 0, 0],
                &[2, 256, 100],
                &[0, 0, 0],
                &[2, 256, 100],
            ),
            // Runs far apart: one element of each 8 KiB row.
            (
                &[4, 16, 2048],
                &[0, 0, 5],
                &[4, 16, 1],
                &[0, 0, 0],
                &[4, 16, 1],
            ),
            (&[1], &[0], &[1], &[0], &[1]),
        ];
        for (n, (shape, start, target_shape, target_start, extent)) in cases.into_iter().enumerate()
        {
            let elements: u64 = shape.iter().product();
            let value: Vec<u8> = (0..elements * 4).map(|i| (i * 7 % 251) as u8).collect();
            let path = dir.path().join(format!("v{n}"));
            std::fs::write(&path, &value).unwrap();
            let source = Place { shape, start };
            let target = Place {
                shape: target_shape,
                start: target_start,
            };
            let len = target_shape.iter().product::<u64>() as usize * 4;
            let mut expected = vec![0xEEu8; len];
            for_each_run(source, target, extent, 4, |s, t, l| {
                expected[t..t + l].copy_from_slice(&value[s..s + l]);
            });
            let mut got = vec![0xEEu8; len];
            let cells = UnsafeCellSlice::new(&mut got);
            let file = File::open(&path).unwrap();
            // SAFETY: one thread; the runs are inside the target.
            unsafe { read_runs(&file, Runs::new(source, target, extent, 4), &cells) }.unwrap();
            assert!(got == expected, "case {n}");
            // A file cut short is an error, not a partial read.
            std::fs::write(&path, &value[..value.len() - 1]).unwrap();
            let file = File::open(&path).unwrap();
            let cells = UnsafeCellSlice::new(&mut got);
            // SAFETY: as above.
            let err =
                unsafe { read_runs(&file, Runs::new(source, target, extent, 4), &cells) }.err();
            let ends_last = extent
                .iter()
                .zip(start)
                .zip(shape.iter())
                .all(|((e, s), n)| e + s == *n);
            if ends_last {
                assert_eq!(
                    err.map(|e| e.kind()),
                    Some(io::ErrorKind::UnexpectedEof),
                    "case {n}"
                );
            }
        }
    }
}
