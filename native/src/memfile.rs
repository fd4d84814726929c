//! The memory file: one memfd per sandbox that holds every byte of application memory.
//!
//! The Sentry maps it once into a large reserved range of its own address space and reads/writes
//! application memory through that mapping (copy-in/copy-out is a memcpy in JS, no process_vm_readv).
//! Platforms map ranges of the same file into application address spaces (ptrace: injected
//! `mmap(MAP_SHARED|MAP_FIXED, memfd, off)` in the stub; kvm: guest physical memory).
//!
//! The file is handed out to JS in chunks of [`CHUNK_SIZE`] bytes, each an external ArrayBuffer over
//! the Sentry's mapping of that chunk. The file is sparse: a chunk costs nothing until touched, and
//! `decommit` punches holes to return freed pages to the host.
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Bytes per chunk (1 GiB): the unit of growth and of the JS ArrayBuffers (Node 20 caps them at 4 GiB).
pub const CHUNK_SIZE: u64 = 1 << 30;
/// Maximum size of the memory file (64 GiB of sparse address space reserved in the Sentry).
pub const MAX_CHUNKS: u64 = 64;

struct State {
    fd: i32,
    base: usize,
    mapped_chunks: u64,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);
static FD: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Create the memory file (idempotent). Returns its host fd (close-on-exec in the Sentry).
#[napi]
pub fn memfile_init() -> Result<i32> {
    let mut st = STATE.lock().unwrap();
    if let Some(s) = st.as_ref() {
        return Ok(s.fd);
    }
    let fd = memfd_create("tsvisor-memory", "memfd_create")?;
    let len = (CHUNK_SIZE * MAX_CHUNKS) as usize;
    // SAFETY: an anonymous PROT_NONE reservation at an address of the kernel's choosing: it replaces no
    // existing mapping and passes no memory.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(Error::from_reason(format!("reserve memory file range: {}", std::io::Error::last_os_error())));
    }
    *st = Some(State { fd, base: base as usize, mapped_chunks: 0 });
    FD.store(fd as usize, Ordering::SeqCst);
    Ok(fd)
}

/// A new memfd named `name` (memfd_create(2), close-on-exec in the Sentry); errors say `what` failed.
pub(crate) fn memfd_create(name: &str, what: &str) -> Result<i32> {
    let name = std::ffi::CString::new(name).map_err(|e| Error::from_reason(format!("{what}: {e}")))?;
    // SAFETY: `name` is a NUL-terminated CString alive for the call.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(Error::from_reason(format!("{what}: {}", std::io::Error::last_os_error())));
    }
    Ok(fd)
}

pub(crate) fn memfile_fd() -> i32 {
    FD.load(Ordering::SeqCst) as i32
}

/// The Sentry's reserved range for the whole memory file: (host address, length in bytes). Chunks are
/// mapped into it at their file offsets as the file grows; the rest stays PROT_NONE. The KVM platform
/// registers this whole range as guest-physical memory once (see native/src/kvm).
pub(crate) fn reserved_range() -> Option<(usize, usize)> {
    STATE.lock().unwrap().as_ref().map(|s| (s.base, (CHUNK_SIZE * MAX_CHUNKS) as usize))
}

/// Make chunk `index` exist (the file grows to cover it) and return an ArrayBuffer over the Sentry's
/// mapping of it: bytes [index*CHUNK_SIZE, (index+1)*CHUNK_SIZE) of the memory file.
#[napi]
pub fn memfile_chunk(env: &Env, index: u32) -> Result<ArrayBuffer<'_>> {
    let mut guard = STATE.lock().unwrap();
    let st = guard.as_mut().ok_or_else(|| Error::from_reason("memfile_init not called"))?;
    let index = index as u64;
    if index >= MAX_CHUNKS {
        return Err(Error::from_reason("memory file is full"));
    }
    while st.mapped_chunks <= index {
        let c = st.mapped_chunks;
        let new_size = (c + 1) * CHUNK_SIZE;
        // SAFETY: `st.fd` is the memory file created by memfile_init, owned by STATE for the life of the
        // process; ftruncate takes no pointer.
        if unsafe { libc::ftruncate(st.fd, new_size as i64) } != 0 {
            return Err(Error::from_reason(format!("ftruncate memory file: {}", std::io::Error::last_os_error())));
        }
        let addr = st.base + (c * CHUNK_SIZE) as usize;
        // SAFETY: MAP_FIXED replaces only chunk `c` of our own PROT_NONE reservation ([base, base +
        // CHUNK_SIZE * MAX_CHUNKS), reserved in memfile_init and never unmapped; c < MAX_CHUNKS), which no
        // Rust or JS reference points into yet (chunks are handed out only once mapped).
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                CHUNK_SIZE as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_FIXED,
                st.fd,
                (c * CHUNK_SIZE) as i64,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Error::from_reason(format!("map memory file: {}", std::io::Error::last_os_error())));
        }
        st.mapped_chunks += 1;
    }
    let ptr = (st.base + (index * CHUNK_SIZE) as usize) as *mut u8;
    let mut value = std::ptr::null_mut();
    // The mapping lives for the life of the process, so the finalizer has nothing to free.
    // SAFETY: `ptr` is the start of chunk `index`, mapped read/write just above (or before) for CHUNK_SIZE
    // bytes and never unmapped, so the ArrayBuffer may outlive this call; no finalizer is needed; `value` is
    // a valid out-pointer; we are on the JS thread with its `env`.
    let status = unsafe {
        napi::sys::napi_create_external_arraybuffer(
            env.raw(),
            ptr.cast(),
            CHUNK_SIZE as usize,
            None,
            std::ptr::null_mut(),
            &mut value,
        )
    };
    if status != napi::sys::Status::napi_ok {
        return Err(Error::from_reason(format!("napi_create_external_arraybuffer failed: {status}")));
    }
    // SAFETY: `value` is the ArrayBuffer napi_create_external_arraybuffer just returned in this `env`.
    unsafe { ArrayBuffer::from_napi_value(env.raw(), value) }
}

/// Return the pages of [offset, offset+length) to the host (they read as zeros afterwards).
/// Both must be page-aligned. Returns 0 or -errno.
#[napi]
pub fn memfile_decommit(offset: f64, length: f64) -> i64 {
    let fd = memfile_fd();
    // SAFETY: `fd` is our own memory file and fallocate takes no pointer; punching a hole never unmaps, so JS
    // views over those pages stay valid (the pages read as zeros).
    let r = unsafe {
        libc::fallocate(
            fd,
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset as i64,
            length as i64,
        )
    };
    if r != 0 {
        crate::neg_errno()
    } else {
        0
    }
}

/// Copy `length` bytes inside the memory file from `src` to `dst` offsets, skipping holes in the
/// source (SEEK_DATA/SEEK_HOLE) so that copying a sparse range touches only populated pages.
/// Used for fork's copy of private memory. Returns 0 or -errno.
#[napi]
pub fn memfile_copy(dst: f64, src: f64, length: f64) -> i64 {
    let guard = STATE.lock().unwrap();
    let Some(st) = guard.as_ref() else { return -(libc::EBADF as i64) };
    let (dst, src, len) = (dst as i64, src as i64, length as i64);
    // Both ranges must lie in the mapped part of the file and must not overlap (EINVAL otherwise):
    // checked here so the copy below is sound whatever the caller passes.
    let mapped = (st.mapped_chunks * CHUNK_SIZE) as i64;
    let inside = |off: i64| off >= 0 && len >= 0 && off.checked_add(len).is_some_and(|e| e <= mapped);
    if !inside(src) || !inside(dst) || (src < dst + len && dst < src + len && len > 0) {
        return -(libc::EINVAL as i64);
    }
    let end = src + len;
    let mut pos = src;
    while pos < end {
        // SAFETY: lseek on our own memory file takes no pointer.
        let data = unsafe { libc::lseek(st.fd, pos, libc::SEEK_DATA) };
        if data < 0 || data >= end {
            break;
        }
        // SAFETY: lseek on our own memory file takes no pointer.
        let hole = unsafe { libc::lseek(st.fd, data, libc::SEEK_HOLE) };
        let hole = if hole < 0 { end } else { hole.min(end) };
        // SAFETY: checked above: [src, src+length) and [dst, dst+length) both lie inside the mapping
        // [base, base + mapped_chunks * CHUNK_SIZE) and are disjoint. [data, hole) lies within
        // [src, src+length) and its image at dst + (data - src) within the destination, so both
        // pointers are valid for `hole - data` bytes and do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (st.base as i64 + data) as *const u8,
                (st.base as i64 + dst + (data - src)) as *mut u8,
                (hole - data) as usize,
            );
        }
        pos = hole;
    }
    0
}

/// Bytes of [offset, offset+length) of the memory file that are populated (SEEK_DATA/SEEK_HOLE),
/// i.e. resident application memory. Returns 0 on error.
#[napi]
pub fn memfile_populated(offset: f64, length: f64) -> f64 {
    let fd = memfile_fd();
    let (start, end) = (offset as i64, offset as i64 + length as i64);
    let mut pos = start;
    let mut total = 0i64;
    while pos < end {
        // SAFETY: lseek on the memory file takes no pointer (a bad fd before memfile_init fails with EBADF).
        let data = unsafe { libc::lseek(fd, pos, libc::SEEK_DATA) };
        if data < 0 || data >= end {
            break;
        }
        // SAFETY: lseek on the memory file takes no pointer.
        let hole = unsafe { libc::lseek(fd, data, libc::SEEK_HOLE) };
        let hole = if hole < 0 { end } else { hole.min(end) };
        total += hole - data;
        pos = hole;
    }
    total as f64
}
