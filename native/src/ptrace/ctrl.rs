//! The batch control page: each stub process maps one page of a shared memfd read-only at
//! [`stub::CTRL_ADDR`]; the Sentry writes syscall records into it through its own mapping and the
//! stub's batch loop ([`stub::BATCH_ADDR`]) runs them, one ptrace round trip for many calls
//! ([`ptrace_inject_batch`]).
use super::{err, getregs, inject, run_to_trap, setregs, stub};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Mutex;

/// fd number of the batch-control file inside every stub (see [`ptrace_inject_batch`]).
pub(super) const STUB_CTRLFD: i32 = 101;

/// Pages of the control file: one per live stub process (address space).
const CTRL_SLOTS: usize = 16384;

/// The batch-control file: a memfd the stubs map one page each of, read-only, at
/// [`stub::CTRL_ADDR`]; the Sentry writes batch records into a stub's page through its own mapping.
struct Ctrl {
    fd: i32,
    base: usize,
    /// Slot (page index) of each stub process, and the free pages.
    slots: std::collections::HashMap<i32, usize>,
    free: Vec<usize>,
}
static CTRL: Mutex<Option<Ctrl>> = Mutex::new(None);

pub(super) fn ctrl_init() -> Result<i32> {
    let mut g = CTRL.lock().unwrap();
    if let Some(c) = g.as_ref() {
        return Ok(c.fd);
    }
    let fd = crate::memfile::memfd_create("tsvisor-stub-ctrl", "memfd_create (stub control)")?;
    let len = CTRL_SLOTS * stub::PAGE;
    // SAFETY: ftruncate and a fresh shared mapping of our own memfd (sparse: pages cost nothing
    // until written).
    let base = unsafe {
        if libc::ftruncate(fd, len as libc::off_t) != 0 {
            return Err(err("ftruncate (stub control)"));
        }
        libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
    };
    if base == libc::MAP_FAILED {
        return Err(err("mmap (stub control)"));
    }
    *g = Some(Ctrl { fd, base: base as usize, slots: Default::default(), free: (0..CTRL_SLOTS).rev().collect() });
    Ok(fd)
}

/// Run `records` (seven numbers each: syscall number and six arguments, exact below 2^53) in stopped
/// thread `tid` of stub process `pid`, in order, through the stub's batch loop ([`stub::BATCH_ADDR`]):
/// one ptrace round trip per [`stub::BATCH_MAX`] calls instead of one per call. Stops at the first
/// failing call. Returns `[ran, result]`: how many calls ran, and the last one's raw result (-errno
/// if it failed). Clobbers the thread's registers, as [`inject`] does.
#[napi]
pub fn ptrace_inject_batch(pid: i32, tid: i32, records: Vec<i64>) -> Result<Vec<i64>> {
    if !records.len().is_multiple_of(7) {
        return Err(Error::from_reason("batch records are 7 numbers each"));
    }
    let page = {
        let g = CTRL.lock().unwrap();
        let c = g.as_ref().ok_or_else(|| Error::from_reason("ptrace platform not initialised"))?;
        let slot = *c.slots.get(&pid).ok_or_else(|| Error::from_reason(format!("stub {pid} has no control page")))?;
        c.base + slot * stub::PAGE
    };
    let mut ran = 0i64;
    let mut last = 0i64;
    for chunk in records.chunks(7 * stub::BATCH_MAX) {
        let n = chunk.len() / 7;
        // SAFETY: `page` is this stub's page of the control mapping (PAGE bytes, writable, ours);
        // BATCH_MAX records of 56 bytes fit in it. The stub only reads it, and only while it runs
        // the batch below, synchronously.
        unsafe {
            let dst = page as *mut i64;
            std::ptr::copy_nonoverlapping(chunk.as_ptr(), dst, chunk.len());
        }
        let mut regs = getregs(tid)?;
        regs.orig_rax = u64::MAX;
        regs.rip = stub::BATCH_ADDR;
        regs.rbx = stub::CTRL_ADDR;
        regs.r12 = n as u64;
        setregs(tid, &regs)?;
        let r = run_to_trap(tid)?;
        let done = n as i64 - r.r12 as i64;
        ran += done;
        last = r.rax as i64;
        if done < n as i64 || (-4095..0).contains(&last) {
            break;
        }
    }
    Ok(vec![ran, last])
}

/// Give new stub process `pid` (stopped thread `tid`) its control page: a free slot of the control
/// file, mapped read-only at [`stub::CTRL_ADDR`].
pub(super) fn ctrl_attach(pid: i32, tid: i32) -> Result<()> {
    let slot = {
        let mut g = CTRL.lock().unwrap();
        let c = g.as_mut().ok_or_else(|| Error::from_reason("ptrace platform not initialised"))?;
        let slot = c.free.pop().ok_or_else(|| Error::from_reason("too many stub processes (control pages exhausted)"))?;
        c.slots.insert(pid, slot);
        slot
    };
    let prot = libc::PROT_READ as u64;
    let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
    let off = (slot * stub::PAGE) as u64;
    let r = inject(tid, libc::SYS_mmap, [stub::CTRL_ADDR, stub::PAGE as u64, prot, flags, STUB_CTRLFD as u64, off])?;
    if r as u64 != stub::CTRL_ADDR {
        ctrl_detach(pid);
        return Err(Error::from_reason(format!("stub {pid}: mapping its control page failed: {r}")));
    }
    Ok(())
}

/// Return stub process `pid`'s control page (zeroed) to the free list.
pub(super) fn ctrl_detach(pid: i32) {
    let mut g = CTRL.lock().unwrap();
    if let Some(c) = g.as_mut() {
        if let Some(slot) = c.slots.remove(&pid) {
            // SAFETY: the slot's page lies inside our own writable control mapping.
            unsafe { std::ptr::write_bytes((c.base + slot * stub::PAGE) as *mut u8, 0, stub::PAGE) };
            c.free.push(slot);
        }
    }
}
