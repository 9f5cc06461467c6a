//! Copying a box of elements between two C-order arrays of different shapes, as runs of
//! contiguous bytes.
//!
//! Why not zarrs' `ArrayBytesFixedDisjointView`: its copy walks the runs with an iterator that
//! unravels and ravels every run's indices (allocating on the way). Reading a 512³ uint16 array
//! of 128³ chunks through it spent 57 % of the time in that iterator and 9 % copying; a sharded
//! read, whose 32³ inner chunks have 64-byte runs, 52 %.

/// The byte stride of every axis of a C-order array of `shape`.
pub fn byte_strides(shape: &[u64], element_size: usize) -> Vec<u64> {
    let mut strides = vec![element_size as u64; shape.len()];
    for axis in (0..shape.len().saturating_sub(1)).rev() {
        strides[axis] = strides[axis + 1] * shape[axis + 1];
    }
    strides
}

/// One C-order array taking part in a copy: its shape, and where the box starts in it.
#[derive(Clone, Copy, Debug)]
pub struct Place<'a> {
    pub shape: &'a [u64],
    pub start: &'a [u64],
}

/// Call `copy(source_offset, target_offset, length)` (in bytes) for every run of the box of
/// shape `extent` at `source.start` in the source, going to `target.start` in the target.
/// Trailing axes that both arrays hold whole merge into longer runs. The caller checks that
/// the box lies inside both arrays.
pub fn for_each_run(
    source: Place<'_>,
    target: Place<'_>,
    extent: &[u64],
    element_size: usize,
    mut copy: impl FnMut(usize, usize, usize),
) {
    for run in Runs::new(source, target, extent, element_size) {
        copy(run.source, run.target, run.len);
    }
}

/// One run of a copy: `len` bytes from `source` in the source to `target` in the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub source: usize,
    pub target: usize,
    pub len: usize,
}

/// The runs of `for_each_run` as an iterator, in increasing source (and target) offsets: a
/// body streamed in order (a value read from a server frame by frame) is placed run by run as
/// its frames arrive.
pub struct Runs {
    source_strides: Vec<u64>,
    target_strides: Vec<u64>,
    extent: Vec<u64>,
    run: usize,
    source_offset: u64,
    target_offset: u64,
    /// An odometer over the outer axes (those above the run).
    index: Vec<u64>,
    done: bool,
}

impl Runs {
    pub fn new(source: Place<'_>, target: Place<'_>, extent: &[u64], element_size: usize) -> Self {
        let ndim = extent.len();
        debug_assert!(source.shape.len() == ndim && target.shape.len() == ndim);
        let source_strides = byte_strides(source.shape, element_size);
        let target_strides = byte_strides(target.shape, element_size);
        // The run covers the innermost axis plus every outer axis above it as long as the axes
        // below are whole in the box and in both arrays.
        let mut inner = ndim;
        while inner > 1
            && extent[inner - 1] == source.shape[inner - 1]
            && extent[inner - 1] == target.shape[inner - 1]
        {
            inner -= 1;
        }
        let run = if ndim == 0 {
            element_size
        } else {
            (extent[inner - 1] * source_strides[inner - 1]) as usize
        };
        let outer = inner.saturating_sub(1);
        let offset = |start: &[u64], strides: &[u64]| -> u64 {
            start.iter().zip(strides).map(|(s, t)| s * t).sum()
        };
        Self {
            source_offset: offset(source.start, &source_strides),
            target_offset: offset(target.start, &target_strides),
            source_strides,
            target_strides,
            extent: extent.to_vec(),
            run,
            index: vec![0; outer],
            done: extent.contains(&0),
        }
    }
}

impl Iterator for Runs {
    type Item = Run;

    // Inlined for the reason `StreamPlacer::place` is.
    #[inline(always)]
    fn next(&mut self) -> Option<Run> {
        if self.done {
            return None;
        }
        let run = Run {
            source: self.source_offset as usize,
            target: self.target_offset as usize,
            len: self.run,
        };
        let mut axis = self.index.len();
        loop {
            if axis == 0 {
                self.done = true;
                break;
            }
            axis -= 1;
            self.index[axis] += 1;
            self.source_offset += self.source_strides[axis];
            self.target_offset += self.target_strides[axis];
            if self.index[axis] < self.extent[axis] {
                break;
            }
            self.source_offset -= self.extent[axis] * self.source_strides[axis];
            self.target_offset -= self.extent[axis] * self.target_strides[axis];
            self.index[axis] = 0;
        }
        Some(run)
    }
}

/// Places the source's bytes as they arrive in order, piece by piece (a value's body read from
/// a server frame by frame), into the target, run by run: no buffer for the whole source.
pub struct StreamPlacer {
    runs: Runs,
    current: Option<Run>,
}

impl StreamPlacer {
    pub fn new(runs: Runs) -> Self {
        let mut runs = runs;
        let current = runs.next();
        Self { runs, current }
    }

    /// The source bytes `piece`, starting at byte `at` of the source (each piece starting where
    /// the one before ended): `copy(target_offset, bytes)` for each part of a run in it.
    // Inlined into each caller: called from two instantiations of a remote read (a task, or
    // polled on a pool thread), LLVM kept it (and `Runs::next`) out of line, with the run state
    // going through memory for every run of the frame (128-byte runs for a 64³ uint16 chunk):
    // a whole raw read over loopback spent a third more CPU.
    #[inline(always)]
    pub fn place(&mut self, at: usize, piece: &[u8], mut copy: impl FnMut(usize, &[u8])) {
        let end = at + piece.len();
        while let Some(run) = self.current {
            if run.source >= end {
                return;
            }
            let from = run.source.max(at);
            let to = (run.source + run.len).min(end);
            if from < to {
                copy(run.target + (from - run.source), &piece[from - at..to - at]);
            }
            if run.source + run.len > end {
                return;
            }
            self.current = self.runs.next();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: element by element.
    fn naive(source: Place<'_>, target: Place<'_>, extent: &[u64], from: &[u32], to: &mut [u32]) {
        let count: u64 = extent.iter().product();
        let linear = |shape: &[u64], index: &[u64]| {
            index
                .iter()
                .zip(shape)
                .fold(0u64, |acc, (i, n)| acc * n + i) as usize
        };
        for n in 0..count {
            let mut rest = n;
            let mut index = vec![0u64; extent.len()];
            for axis in (0..extent.len()).rev() {
                index[axis] = rest % extent[axis];
                rest /= extent[axis];
            }
            let at = |start: &[u64]| -> Vec<u64> {
                index.iter().zip(start).map(|(i, s)| i + s).collect()
            };
            to[linear(target.shape, &at(target.start))] =
                from[linear(source.shape, &at(source.start))];
        }
    }

    fn check(
        source_shape: &[u64],
        source_start: &[u64],
        target_shape: &[u64],
        target_start: &[u64],
        extent: &[u64],
    ) {
        let source = Place {
            shape: source_shape,
            start: source_start,
        };
        let target = Place {
            shape: target_shape,
            start: target_start,
        };
        let from: Vec<u32> = (0..source_shape.iter().product::<u64>() as u32).collect();
        let target_len = target_shape.iter().product::<u64>() as usize;
        let mut expected = vec![u32::MAX; target_len];
        naive(source, target, extent, &from, &mut expected);
        let from_bytes: Vec<u8> = from.iter().flat_map(|v| v.to_ne_bytes()).collect();
        let mut got = vec![0xffu8; target_len * 4];
        let mut runs = 0;
        for_each_run(source, target, extent, 4, |s, t, len| {
            got[t..t + len].copy_from_slice(&from_bytes[s..s + len]);
            runs += 1;
        });
        let got: Vec<u32> = got
            .chunks(4)
            .map(|b| u32::from_ne_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(
            got, expected,
            "{source_shape:?} {source_start:?} -> {target_shape:?} {target_start:?} {extent:?}"
        );
        let _ = runs;
    }

    #[test]
    fn boxes_land_where_element_by_element_copies_put_them() {
        check(&[], &[], &[], &[], &[]);
        check(&[5], &[1], &[7], &[3], &[4]);
        check(&[4, 4], &[0, 0], &[8, 8], &[4, 0], &[4, 4]);
        check(&[4, 6], &[1, 2], &[3, 3], &[0, 0], &[3, 3]);
        check(&[2, 3, 4], &[0, 0, 0], &[4, 3, 4], &[2, 0, 0], &[2, 3, 4]);
        check(&[3, 3, 4], &[1, 0, 0], &[5, 6, 4], &[2, 3, 0], &[2, 3, 4]);
        check(
            &[3, 5, 2, 3],
            &[1, 2, 0, 1],
            &[4, 4, 4, 4],
            &[0, 1, 2, 1],
            &[2, 3, 2, 2],
        );
        check(&[4, 4], &[0, 0], &[4, 4], &[0, 0], &[0, 4]);
    }

    #[test]
    fn whole_trailing_axes_merge_into_one_run() {
        let mut runs = Vec::new();
        let place = Place {
            shape: &[4, 3, 2],
            start: &[1, 0, 0],
        };
        let target = Place {
            shape: &[2, 3, 2],
            start: &[0, 0, 0],
        };
        for_each_run(place, target, &[2, 3, 2], 1, |s, t, len| {
            runs.push((s, t, len))
        });
        assert_eq!(runs, [(6, 0, 12)]);
        let mut runs = Vec::new();
        let target = Place {
            shape: &[2, 4, 2],
            start: &[0, 1, 0],
        };
        for_each_run(place, target, &[2, 3, 2], 1, |s, t, len| {
            runs.push((s, t, len))
        });
        assert_eq!(runs, [(6, 2, 6), (12, 10, 6)]);
    }

    #[test]
    fn a_body_placed_piece_by_piece_lands_as_one_copied_whole() {
        let source_shape = [3u64, 5, 4];
        let target_shape = [4u64, 4, 6];
        let source = Place {
            shape: &source_shape,
            start: &[1, 1, 1],
        };
        let target = Place {
            shape: &target_shape,
            start: &[0, 2, 2],
        };
        let extent = [2u64, 2, 3];
        let body: Vec<u8> = (0..source_shape.iter().product::<u64>() * 2)
            .map(|n| n as u8)
            .collect();
        let mut expected = vec![0u8; target_shape.iter().product::<u64>() as usize * 2];
        for_each_run(source, target, &extent, 2, |s, t, len| {
            expected[t..t + len].copy_from_slice(&body[s..s + len]);
        });
        for piece_len in [1, 3, 7, 16, 1000] {
            let mut got = vec![0u8; expected.len()];
            let mut placer = StreamPlacer::new(Runs::new(source, target, &extent, 2));
            for (n, piece) in body.chunks(piece_len).enumerate() {
                placer.place(n * piece_len, piece, |t, bytes| {
                    got[t..t + bytes.len()].copy_from_slice(bytes);
                });
            }
            assert_eq!(got, expected, "pieces of {piece_len}");
        }
    }
}
