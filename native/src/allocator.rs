//! The engine's global allocator: mimalloc, or the system allocator when the environment
//! variable `ZARRLIB_ALLOCATOR` is `system`.
//!
//! mimalloc for speed: chunk-sized buffers (a stored chunk read from a file, an encoded chunk)
//! are freed and allocated again for every chunk, and glibc's malloc hands them back to the
//! kernel and page-faults them in anew each time. The system allocator for memory checkers:
//! valgrind's memcheck and AddressSanitizer's leak checker see `malloc` and `free`, not the
//! pages mimalloc maps itself, so under mimalloc they cannot tell a leak from a cached page.
//!
//! The choice is made once, by the first allocation, before anything is allocated, and never
//! changes: every block is freed by the allocator that made it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{CStr, c_char};
use std::sync::atomic::{AtomicU8, Ordering};

const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

static CHOICE: AtomicU8 = AtomicU8::new(UNDECIDED);

unsafe extern "C" {
    /// The C library's `getenv`: it reads the environment without allocating, which
    /// `std::env::var_os` would do, from inside the allocator.
    fn getenv(name: *const c_char) -> *const c_char;
}

/// mimalloc, or the system allocator (see the module documentation).
pub struct EngineAllocator;

#[inline]
fn use_system() -> bool {
    match CHOICE.load(Ordering::Relaxed) {
        UNDECIDED => decide(),
        choice => choice == SYSTEM,
    }
}

#[cold]
fn decide() -> bool {
    // SAFETY: the name is a NUL-terminated literal; getenv returns NULL or a NUL-terminated
    // string that stays valid while no one changes the environment, and it is read at once.
    let system = unsafe {
        let value = getenv(c"ZARRLIB_ALLOCATOR".as_ptr());
        !value.is_null() && CStr::from_ptr(value).to_bytes() == b"system"
    };
    let wanted = if system { SYSTEM } else { MIMALLOC };
    // Threads racing here read the same environment; whichever stores first decides for all.
    match CHOICE.compare_exchange(UNDECIDED, wanted, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => system,
        Err(decided) => decided == SYSTEM,
    }
}

// SAFETY: each call is forwarded to one allocator, the same one for every call of the process
// (`CHOICE` never changes once decided), so blocks are freed and resized by the allocator that
// made them; both allocators uphold `GlobalAlloc`'s contract themselves.
unsafe impl GlobalAlloc for EngineAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is forwarded unchanged.
        unsafe {
            if use_system() {
                System.alloc(layout)
            } else {
                mimalloc::MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is forwarded unchanged.
        unsafe {
            if use_system() {
                System.alloc_zeroed(layout)
            } else {
                mimalloc::MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from the same allocator (see the impl's comment).
        unsafe {
            if use_system() {
                System.dealloc(ptr, layout)
            } else {
                mimalloc::MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from the same allocator (see the impl's comment).
        unsafe {
            if use_system() {
                System.realloc(ptr, layout, new_size)
            } else {
                mimalloc::MiMalloc.realloc(ptr, layout, new_size)
            }
        }
    }
}
