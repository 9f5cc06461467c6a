//! The time libzstd alone needs to decode the zstd frames a benchmark row reads: the floor that
//! `docs/benchmarks.md` compares the zstd-bound rows with. `tools/zstd_floor.py` writes the job
//! file (one frame per line: `path<TAB>offset<TAB>length<TAB>decoded length<TAB>bytes wanted`),
//! this decodes every frame from memory (the files are read before timing) on N threads, each
//! with one reused context and output buffer, stopping at the bytes wanted as a prefix decode
//! would, and prints the best and every wall time in seconds as one line of JSON.
//!
//! Usage: `cargo run --release --example zstd_floor -- JOBS THREADS REPEATS`

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use zstd::zstd_safe::{DCtx, InBuffer, OutBuffer, ResetDirective};

struct Frame {
    bytes: Vec<u8>,
    decoded: usize,
    wanted: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, jobs, threads, repeats] = args.as_slice() else {
        eprintln!("usage: zstd_floor JOBS THREADS REPEATS");
        std::process::exit(2);
    };
    let threads: usize = threads.parse().expect("THREADS is a number");
    let repeats: usize = repeats.parse().expect("REPEATS is a number");
    let frames = load(jobs);
    let largest = frames.iter().map(|f| f.decoded).max().unwrap_or(0);
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let next = AtomicUsize::new(0);
        let start = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| decode_all(&frames, &next, largest));
            }
        });
        times.push(start.elapsed().as_secs_f64());
    }
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    let wanted: usize = frames.iter().map(|f| f.wanted).sum();
    let decoded: usize = frames.iter().map(|f| f.decoded).sum();
    println!(
        "{{\"best\": {best}, \"times\": {times:?}, \"frames\": {}, \"bytes_wanted\": {wanted}, \"bytes_in_frames\": {decoded}, \"threads\": {threads}}}",
        frames.len()
    );
}

/// Read every frame the job file lists into memory, each file once.
fn load(jobs: &str) -> Vec<Frame> {
    let text = std::fs::read_to_string(jobs).expect("the job file reads");
    let mut files: HashMap<&str, Vec<u8>> = HashMap::new();
    let mut frames = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [path, offset, length, decoded, wanted] = fields.as_slice() else {
            panic!("a job line has five fields: {line}");
        };
        let file = files
            .entry(path)
            .or_insert_with(|| std::fs::read(path).expect("a listed file reads"));
        let offset: usize = offset.parse().expect("offset");
        let length: usize = length.parse().expect("length");
        frames.push(Frame {
            bytes: file[offset..offset + length].to_vec(),
            decoded: decoded.parse().expect("decoded length"),
            wanted: wanted.parse().expect("bytes wanted"),
        });
    }
    frames
}

/// Take frames from the shared counter until none is left, decoding each into one buffer.
fn decode_all(frames: &[Frame], next: &AtomicUsize, largest: usize) {
    let mut context = DCtx::create();
    // Touched once, so page faults are not in the timed decodes.
    let mut out = vec![1u8; largest];
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(frame) = frames.get(i) else { return };
        if frame.wanted >= frame.decoded {
            let n = context
                .decompress(&mut out[..frame.decoded], &frame.bytes)
                .expect("the frame decodes");
            assert_eq!(n, frame.decoded, "the frame's decoded length");
            continue;
        }
        context
            .reset(ResetDirective::SessionOnly)
            .expect("the context resets");
        let mut output = OutBuffer::around(&mut out[..frame.wanted]);
        let mut input = InBuffer::around(&frame.bytes);
        while output.pos() < frame.wanted {
            context
                .decompress_stream(&mut output, &mut input)
                .expect("the frame decodes");
        }
    }
}
