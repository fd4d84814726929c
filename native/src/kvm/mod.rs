//! The KVM platform's mechanisms: one VM per sandbox whose guest-physical memory is the memory
//! file, guest page tables written by the host, and vCPUs that run application code in guest user
//! mode and come back to the Sentry on every syscall, fault or kick.
//!
//! ## Privilege map (what runs where, and why the application cannot escape)
//! * **Host, JS thread (the Sentry + this module)**: writes the page tables, GDT/IDT/TSS and the
//!   entry code, all in the *system region* — an anonymous mapping private to the Sentry that is
//!   guest-physical slot 0. Guest-physical slot 1 is the memory file. Nothing else is guest memory.
//! * **Guest CPL 0 ("supervisor")**: only the 16-byte exception stubs and the common tail in the code
//!   page ([`guest::code_page`]): `push rax; mov rax, cr2; push rax; out 0x80; add rsp, 32; iretq`.
//!   They run on the vCPU's own exception stack (TSS.RSP0) and touch nothing else. On VMX/SVM
//!   hosts also the syscall page's one store (a user `syscall` enters CPL 0 there; see below).
//! * **Guest CPL 3**: the application, plus the syscall page (read+exec, user) and the exit page.
//!
//! On this PVM host both guest modes run in hardware ring 3; PVM keeps them apart with two shadow
//! page tables per guest CR3, and the one used in guest user mode has no entry for a page whose
//! guest PTE lacks the U bit (PVM spec, "Paging"). On VMX/SVM the CPU's own CPL and U/S checks do.
//!
//! Why that holds: the user half of each address space maps only memory-file pages the
//! MemoryManager gave it (plus the two platform pages above `USER_TOP`); the IDT, code page, GDT/TSS
//! and stacks are supervisor-only pages in the upper half (on this PVM host user mode cannot reach
//! the upper half at all — a user fetch there faults not-present — and on VMX/SVM the U/S bit
//! forbids it); the page tables and the rest of the system region are not mapped at any virtual
//! address, so no guest code (not even CPL 0) can write them; the syscall page is read-only; the
//! exit page has no memory behind it (stores there are MMIO exits the host treats as a syscall of the
//! task, so the application can only affect its own registers); IOPL is forced to 0 and NT/VM
//! cleared in every rflags we load; only #BP/#OF gates are DPL 3. The application's only ways out of
//! user mode are exceptions (into the stubs, which exit to the host) and the syscall page. Page
//! tables replaced by path copying are zeroed at once and reachable from no root.
//!
//! ## Page-table coherence and TLB shootdown (probe: `kvm_spike_coherence`)
//! KVM here shadows guest page tables (PVM has no EPT/NPT) and write-protects them against *guest*
//! writes only: host edits of entries KVM has already shadowed are **not** seen, not even after a
//! CR3 reload of the same root. Entries going from not-present to present (or gaining rights) are
//! seen, because a shadow miss makes KVM re-walk our tables. So additions are plain host writes,
//! and removals and narrowings (munmap, mprotect, a new frame behind an address after a
//! copy-on-write fault) are made by **path copying** ([`pt`]): the leaf table and the tables above
//! it are replaced by edited copies and the address space gets a new root, so the next entry of any
//! vCPU into it loads a CR3 KVM has never seen; KVM builds a new shadow root and finds the shadow
//! pages of every unchanged subtree again by guest-physical address. Only the edited range loses its
//! translations, only in that address space. Replaced pages are retired until a full zap (the system
//! slot deleted and re-added, ≈ 0.75 ms plus re-faulting every working set), which now only reclaims
//! retired pages in bulk ([`pt::DIRTY_ZAP_PAGES`]) instead of following every munmap.
//!
//! Why no vCPU keeps a stale translation (the TLB shootdown). vCPUs of one address space run
//! at the same time on their own threads ([`threads`]) while the JS thread edits the tables, so:
//! (1) every edit runs on the JS thread, and one that takes something away publishes a *new root*
//! (path copying); (2) each vCPU thread announces the root it enters the guest with
//! (`guest_root`, set before KVM_RUN and re-checked against the address space's current root
//! afterwards, Dekker-style, so an edit either sees the vCPU or the vCPU sees the new root);
//! (3) after publishing, the edit kicks every vCPU whose `guest_root` is the old root
//! (`immediate_exit` + a signal to its thread) and **waits until it has left the guest**
//! ([`threads::shootdown`]) before munmap/mprotect returns to the Sentry; the kicked thread
//! re-enters at once with the new root (a CR3 change through KVM_SYNC_X86_SREGS →
//! kvm_mmu_reset_context, a guest TLB flush), unseen by the Sentry; (4) the tables the edit
//! replaced stay intact (old translations, consistent) until that wait is over and are zeroed and
//! retired only then ([`pt::Sys::finish_edit`]): a vCPU still on the old root never walks a
//! half-edited or zeroed table; (5) while any vCPU runs, no table counts as "fresh" (editable in
//! place when narrowing), since a running vCPU may walk it at any time; (6) a full zap (deleting
//! and re-adding the memory slot that holds the tables) runs with every vCPU out of the guest
//! ([`threads::quiesced`]), because a guest walk in the gap would find no memory behind a table and
//! inject a bogus page fault. Additions (not-present → present, more rights) need no shootdown: a
//! vCPU that misses re-walks our tables. On VMX/SVM with EPT/NPT the same holds without shadows: the
//! CR3 switch flushes the guest TLB.

//! ## Syscall path: the measured shapes (benchmarks/kvm-spike.mjs, 5 000 syscalls × 5, medians)
//! On this PVM KVM a user `syscall` jumps to LSTAR *still in user mode* (rcx/r11 set). Shapes tried:
//! | shape | µs / syscall |
//! |---|---|
//! | LSTAR page stores to the exit page → KVM_EXIT_MMIO from user mode; registers through KVM_SYNC_REGS, resume by writing them back (no iretq, no mode switch) — **chosen** | 32–47 |
//! | same exit but KVM_GET_REGS/KVM_SET_REGS per syscall | ≈ 88 |
//! | LSTAR page `ud2` → #UD → CPL 0 stub → `out` → host → `iretq` (DESIGN.md's spike layout) | 56–72 |
//! | reference: an exit-page store from user mode without `syscall` | 32–44 |
//! | reference: `out` or MMIO store from CPL 0 in a loop | 10–13 |
//! So the `syscall` emulation itself is cheap; an exit taken *from user mode* costs ≈ 20–30 µs more
//! than one from CPL 0, and every user↔supervisor switch (exception delivery, iretq) about as much.
//! One exit per syscall, no mode switch, no register ioctl is the minimum this host allows.
//!
//! Through the JS hot path (then a synchronous `kvm_run` on the JS thread, since replaced by the
//! vCPU threads, see "Threads"; loop served with setImmediate when kicked),
//! same process, same getpid loop, medians of 5 × 3 000: **kvm ≈ 32–44 µs, ptrace ≈ 12 µs**
//! unpinned; pinned to one CPU (`taskset -c 0`) kvm ≈ 64 µs, ptrace ≈ 22 µs. Through
//! `KvmPlatform.switch` (test/unit/platform-kvm.test.ts) ≈ 42 µs. On this PVM host the KVM platform
//! is therefore ≈ 3× slower per syscall than ptrace; it is the isolation mechanism, not the fast one.
//! The numbers are noisy here (2 shared CPUs, nested): compare within one run of the benchmark.
//!
//! ### VMX/SVM hosts (hardware virtualization): the same layout, a second resume path
//! There a user `syscall` enters CPL 0 at LSTAR (CS from STAR, rflags masked by SFMASK, rsp still
//! the application's): the syscall page then runs in supervisor mode, and its store to the exit
//! page still exits (no memory slot behind it: KVM_EXIT_MMIO), with rcx/r11/rsp holding the
//! application's return rip, rflags and stack exactly as here. What differs is the way back: the
//! vCPU is at CPL 0, so writing user registers is not enough. The path is selected per exit by
//! probing the privilege the store ran at (the synced CS, [`vm::Vcpu::run`]): CPL 3 → resume by
//! writing the registers (this host); CPL 0 → `Mode::Syscall0`, resumed like an exception, by
//! entering `resume` on the vCPU's own stack with an iret frame to user mode. It needs CR4.SMEP and
//! CR4.SMAP off (supervisor code fetches the user syscall page and stores to the user exit page),
//! which `initial_sregs` guarantees. Nothing else depends on the host: exceptions already go
//! through the IDT and the entry stubs, and path copying gives a CR3 switch (a guest TLB flush)
//! for every narrowing, with or without shadow paging. **Tested here only by simulation**: this
//! host never enters CPL 0 on `syscall`, so `kvm_spike_cpl0_syscall` (run by
//! test/unit/platform-kvm.test.ts) puts a vCPU at CPL 0 in the exit-page store with syscall-entry
//! registers and checks that the platform's ordinary exit/load/run path returns to user mode at
//! rcx with the result; the first instruction sequence of a real hardware `syscall` (STAR/SFMASK
//! loading) has not run on a VMX/SVM machine. PVM vs hardware is not probed up front: the same
//! code runs on both and the per-exit CPL check chooses.
//!
//! ## Threads: one host thread per vCPU, and why that is the fast design
//! Every vCPU (one per task, reused after the task ends) has its own host thread, created with it,
//! that makes all of its KVM_RUN calls ([`threads`]); KVM wants a vCPU driven by one thread (a
//! KVM_RUN from a different thread pays a `synchronize_rcu` for the pid change). The JS thread
//! hands a run over with [`kvm_resume`] and collects stops with [`kvm_wait`], which blocks like the
//! ptrace platform's `wait4` and is kicked out by [`crate::eventloop`]'s watcher when libuv has
//! work; the Sentry serves the stop and resumes. So application threads compute in parallel on the
//! host's CPUs while the Sentry handles another task's syscall, and a task computing for minutes
//! never delays the Sentry (no time slices, no round-robin on the JS thread).
//!
//! The previous design ran KVM_RUN on the JS thread itself to avoid a thread hand-off per syscall
//! (≈ 55 µs for a napi ThreadsafeFunction round trip here). The hand-off used now is not that one:
//! one FUTEX_WAKE each way, paid only when the other side really sleeps, and no trip through libuv
//! or a JS callback. Measured alternately in one session (benchmarks/kvm-spike.mjs, JS-driven getpid
//! loop, medians of 5 × 3 000, unpinned, 2 loaded CPUs): vCPU threads ≈ 49–51 µs per round trip,
//! JS-thread KVM_RUN ≈ 38–44 µs, ptrace ≈ 12 µs. So the single-thread syscall round trip pays
//! ≈ 10 µs (≈ 20 %) for the hand-off — the exit itself, ≈ 30 µs from user mode on this PVM host,
//! dominates either way — and in exchange application threads compute in parallel (the JS-thread
//! design ran one vCPU at a time, time-sliced), the Sentry is never held up by a computing vCPU
//! (before, it ran only when the watcher kicked KVM_RUN out), and a syscall of one task is served
//! while others compute. For any program with two busy threads this is the fast design; for a
//! single-threaded syscall-bound one it costs the 20 % above. Spinning instead of sleeping (to
//! avoid the wake-up) was measured and made things worse here (see [`threads::spin_ns`]).
//! Parallel throughput (benchmarks/c/spin.c, 3·10⁹ iterations per thread in user mode, runs
//! interleaved in one session; the 2-CPU host was shared with other load, so native itself varied):
//! | | 1 thread (it/s) | 2 threads (it/s) |
//! |---|---|---|
//! | native | ≈ 9.2e8 | 1.15e9 – 1.64e9 |
//! | vCPU threads (this design) | 9.2e8 – 9.5e8 | 1.05e9 – 1.79e9 (up to 1.9×) |
//! | JS-thread KVM_RUN (previous design) | ≈ 8.9e8 | 9.1e8 – 9.3e8 (1.0×: one vCPU at a time) |
//! benchmarks/kvm-parallel.mjs repeats this per backend (and against another checkout).
//! Interrupts (signals, kills, the Sentry's timers via `interrupt()`) kick the vCPU's thread with
//! `immediate_exit` plus a signal: KVM_RUN returns at once, wherever the thread was.

use crate::eventloop;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

pub mod guest;
pub mod pt;
pub mod spike;
pub mod threads;
pub mod vm;

use threads::{Shared, Space};
use vm::Machine;

pub(crate) struct State {
    pub m: Machine,
    /// Address spaces by id: their current page-table root, shared with the vCPU threads.
    pub spaces: Vec<Option<Space>>,
    /// vCPUs by slot (the ids the TS side holds), each with its thread.
    pub vcpus: Vec<Option<Arc<Shared>>>,
    /// Released vCPUs (with their parked threads), reused by [`kvm_new_vcpu`].
    pub free: Vec<Arc<Shared>>,
    /// Every vCPU ever created (shootdowns and zaps look at all of them).
    pub all: Vec<Arc<Shared>>,
}

#[derive(Clone, Copy, Default)]
pub struct LastFault {
    pub vector: u32,
    pub error: u64,
    pub cr2: u64,
    pub prot_none: bool,
    pub fpu_code: u32,
}

pub(crate) static STATE: Mutex<Option<State>> = Mutex::new(None);

fn err(s: String) -> Error {
    Error::from_reason(s)
}

pub(crate) fn with<T>(f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
    let mut g = STATE.lock().unwrap();
    let st = g.as_mut().ok_or_else(|| Error::from_reason("KVM platform not initialised"))?;
    f(st)
}

/// Open /dev/kvm, create the VM and its memory slots (idempotent). Installs the event-loop kick.
#[napi]
pub fn kvm_init(env: Env) -> Result<()> {
    eventloop::init(&env)?;
    let mut g = STATE.lock().unwrap();
    if g.is_some() {
        return Ok(());
    }
    let m = Machine::new().map_err(err)?;
    *g = Some(State { m, spaces: Vec::new(), vcpus: Vec::new(), free: Vec::new(), all: Vec::new() });
    Ok(())
}

/// Can this host run the KVM platform? Returns "" if yes, otherwise the reason.
#[napi]
pub fn kvm_probe() -> String {
    match std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm") {
        Ok(_) => String::new(),
        Err(e) => format!("/dev/kvm: {e}"),
    }
}

#[napi(object)]
pub struct KvmInfo {
    pub xcr0: BigInt,
    pub xsave_size: u32,
    pub max_vcpus: u32,
    pub lstar: BigInt,
    pub kbase: BigInt,
}

#[napi]
pub fn kvm_info() -> Result<KvmInfo> {
    with(|s| {
        Ok(KvmInfo {
            xcr0: BigInt::from(s.m.xcr0),
            xsave_size: s.m.xsave_size,
            max_vcpus: s.m.max_vcpus,
            lstar: BigInt::from(guest::LSTAR),
            kbase: BigInt::from(guest::KBASE),
        })
    })
}

/// A new, empty address space. Returns its id.
#[napi]
pub fn kvm_new_address_space() -> Result<u32> {
    with(|s| {
        let root = s.m.sys.new_root().ok_or_else(|| Error::from_reason("page-table pool exhausted"))?;
        let sp: Space = Arc::new(AtomicU64::new(root));
        if let Some(i) = s.spaces.iter().position(|x| x.is_none()) {
            s.spaces[i] = Some(sp);
            return Ok(i as u32);
        }
        s.spaces.push(Some(sp));
        Ok((s.spaces.len() - 1) as u32)
    })
}

fn space_of(s: &State, id: u32) -> Result<Space> {
    s.spaces.get(id as usize).cloned().flatten().ok_or_else(|| Error::from_reason("no such address space"))
}

use guest::USER_TOP;

fn check_user(addr: u64, len: u64) -> Result<()> {
    if addr & 0xfff != 0 || len & 0xfff != 0 || addr.checked_add(len).is_none_or(|e| e > USER_TOP) {
        return Err(Error::from_reason(format!("bad user range {addr:#x}+{len:#x}")));
    }
    Ok(())
}

/// Full zap with every vCPU out of the guest.
fn zap(s: &mut State) -> Result<()> {
    let State { m, all, .. } = s;
    threads::quiesced(all, || m.zap()).map_err(err)
}

/// Run one page-table edit of `len` bytes on address space `space`, zapping first if retired
/// table pages must be reclaimed for it (see pt.rs); publish a new root and shoot it down.
fn edit(space: u32, len: u64, f: impl FnOnce(&mut pt::Sys, &mut u64) -> pt::Res<()>) -> Result<()> {
    with(|s| {
        let sp = space_of(s, space)?;
        if s.m.sys.short_for(len) {
            zap(s)?;
        }
        // With vCPUs in the guest, every table already linked may be walked (and shadowed) at any
        // moment: none is "fresh" (editable in place when taking something away), not even one
        // allocated by an earlier edit since the last entry.
        let running = threads::any_running(&s.all);
        if running {
            s.m.sys.entering_guest();
        }
        let old = sp.load(SeqCst);
        let mut root = old;
        let r = f(&mut s.m.sys, &mut root);
        if root != old {
            sp.store(root, SeqCst);
            threads::shootdown(&s.all, old);
        }
        s.m.sys.finish_edit();
        if running {
            s.m.sys.entering_guest();
        }
        r.map_err(err)
    })
}

/// Map `length` bytes of the memory file at `offset` at user address `addr` with `prot`.
#[napi]
pub fn kvm_map(space: u32, addr: BigInt, offset: f64, length: BigInt, prot: u32) -> Result<()> {
    let (addr, len) = (addr.get_u64().1, length.get_u64().1);
    check_user(addr, len)?;
    let off = offset as u64;
    let (_, mlen) = crate::memfile::reserved_range().unwrap_or((0, 0));
    if off & 0xfff != 0 || off + len > mlen as u64 {
        return Err(Error::from_reason("memory-file range out of bounds"));
    }
    edit(space, len, |sys, root| sys.map_range(root, addr, guest::MEMFILE_GPA + off, len, prot))
}

#[napi]
pub fn kvm_unmap(space: u32, addr: BigInt, length: BigInt) -> Result<()> {
    let (addr, len) = (addr.get_u64().1, length.get_u64().1);
    check_user(addr, len)?;
    edit(space, len, |sys, root| sys.unmap_range(root, addr, len))
}

#[napi]
pub fn kvm_protect(space: u32, addr: BigInt, length: BigInt, prot: u32) -> Result<()> {
    let (addr, len) = (addr.get_u64().1, length.get_u64().1);
    check_user(addr, len)?;
    edit(space, len, |sys, root| sys.protect_range(root, addr, len, prot))
}

/// Release an address space. A vCPU still running in it is kicked out and its run reports dead.
#[napi]
pub fn kvm_release_address_space(space: u32) -> Result<()> {
    with(|s| {
        if let Some(sp) = s.spaces.get_mut(space as usize).and_then(|x| x.take()) {
            let root = sp.swap(0, SeqCst);
            threads::shootdown(&s.all, root);
            s.m.sys.free_root(root);
        }
        Ok(())
    })
}

/// A new vCPU (with its host thread) for a task. Returns its slot.
#[napi]
pub fn kvm_new_vcpu() -> Result<u32> {
    with(|s| {
        let h = match s.free.pop() {
            Some(h) => {
                let mut g = h.inner.lock().unwrap();
                s.m.reset_vcpu(&mut g.v).map_err(err)?;
                g.space = None;
                drop(g);
                h
            }
            None => {
                let v = s.m.vcpu().map_err(err)?;
                let slot = s.all.len() as u32;
                let h = threads::spawn(slot, v, s.m.sys.ptr()).map_err(|e| Error::from_reason(format!("vCPU thread: {e}")))?;
                s.all.push(h.clone());
                h
            }
        };
        let slot = h.slot as usize;
        if s.vcpus.len() <= slot {
            s.vcpus.resize(slot + 1, None);
        }
        s.vcpus[slot] = Some(h);
        Ok(slot as u32)
    })
}

fn vcpu_of(s: &State, slot: u32) -> Result<Arc<Shared>> {
    s.vcpus.get(slot as usize).cloned().flatten().ok_or_else(|| Error::from_reason("no such vCPU"))
}

/// Release a vCPU: a run still under way is interrupted and its exit dropped; the vCPU and its
/// thread are kept for a later [`kvm_new_vcpu`].
#[napi]
pub fn kvm_release_vcpu(vcpu: u32) -> Result<()> {
    with(|s| {
        if let Some(h) = s.vcpus.get_mut(vcpu as usize).and_then(|x| x.take()) {
            // A run under way is interrupted and awaited (it may not have taken its lock yet), so
            // that its exit is queued before it is dropped and the slot is clean for reuse.
            let mut n = 0u32;
            while h.cmd.load(SeqCst) == threads::GO {
                if n.is_multiple_of(64) {
                    h.interrupt.store(true, SeqCst);
                    threads::kick(&h);
                }
                n += 1;
                std::thread::sleep(std::time::Duration::from_micros(20));
            }
            let mut g = h.inner.lock().unwrap();
            threads::unqueue(h.slot);
            h.cmd.store(threads::PARKED, SeqCst);
            g.space = None;
            drop(g);
            s.free.push(h);
        }
        Ok(())
    })
}

/// The hot path, first half: hand `regs` (27 u64, user_regs_struct order) to vCPU `vcpu` and let
/// its thread run it in address space `space` until the next syscall, fault or interrupt. The
/// stop is reported by [`kvm_wait`]; its registers and kind come from [`kvm_take`].
#[napi]
pub fn kvm_resume(vcpu: u32, space: u32, regs: BigUint64Array) -> Result<()> {
    if regs.len() < 27 {
        return Err(Error::from_reason("regs must hold 27 registers"));
    }
    with(|s| {
        let h = vcpu_of(s, vcpu)?;
        let sp = space_of(s, space)?;
        if h.cmd.load(SeqCst) == threads::GO {
            return Err(Error::from_reason("vCPU already running"));
        }
        if s.m.sys.zap_pending {
            zap(s)?;
        }
        s.m.sys.entering_guest();
        {
            let mut g = h.inner.lock().unwrap();
            g.regs.copy_from_slice(&regs[..27]);
            g.space = Some(sp);
        }
        threads::resume(&h, &s.all);
        Ok(())
    })
}

/// Block until some vCPU stops, or the event loop needs the thread (see crate::eventloop), or
/// `timeout_ms` (the Sentry's next timer, -1: none) passes. Returns the vCPU's slot, or -1.
#[napi]
pub fn kvm_wait(timeout_ms: i32) -> i32 {
    threads::wait(timeout_ms)
}

/// The second half: the stopped vCPU's registers into `regs`. Returns RUN_SYSCALL (1),
/// RUN_FAULT (2, details from [`kvm_last_fault`]), RUN_INTERRUPTED (0) or RUN_DEAD (3, reason from
/// [`kvm_dead_reason`]).
#[napi]
pub fn kvm_take(vcpu: u32, mut regs: BigUint64Array) -> Result<i32> {
    let h = with(|s| vcpu_of(s, vcpu))?;
    if h.cmd.load(SeqCst) != threads::DONE {
        return Err(Error::from_reason("vCPU has not stopped"));
    }
    // SAFETY: the typed array's storage, alive for this call, only accessed here.
    let out = unsafe { regs.as_mut() };
    if out.len() < 27 {
        return Err(Error::from_reason("regs must hold 27 registers"));
    }
    let mut g = h.inner.lock().unwrap();
    out[..27].copy_from_slice(&g.regs);
    let r = g.result;
    h.cmd.store(threads::PARKED, SeqCst);
    g.result = threads::RUN_DEAD;
    Ok(r)
}

/// Make a running vCPU stop soon: its run reports RUN_INTERRUPTED (or the syscall/fault it reached
/// first). Before a run (or after its stop) the next run returns at once, unless a resume clears it.
#[napi]
pub fn kvm_interrupt(vcpu: u32) -> Result<()> {
    let h = with(|s| vcpu_of(s, vcpu))?;
    h.interrupt.store(true, std::sync::atomic::Ordering::SeqCst);
    threads::kick(&h);
    Ok(())
}

/// Guest time of the vCPU (the task's CPU time in user mode), ns.
#[napi]
pub fn kvm_vcpu_run_ns(vcpu: u32) -> Result<f64> {
    let h = with(|s| vcpu_of(s, vcpu))?;
    Ok(h.run_ns.load(SeqCst) as f64)
}

#[napi(object)]
pub struct KvmFault {
    pub vector: u32,
    pub error: BigInt,
    /// Faulting address for page faults (CR2).
    pub cr2: BigInt,
    /// Page fault on a page mapped PROT_NONE.
    pub prot_none: bool,
    /// For #MF/#XM: the unmasked exception flags (x87 FSW or MXCSR bits 0–5).
    pub fpu_code: u32,
}

/// Details of the last RUN_FAULT of `vcpu`.
#[napi]
pub fn kvm_last_fault(vcpu: u32) -> Result<KvmFault> {
    with(|s| {
        let h = vcpu_of(s, vcpu)?;
        let (mut f, space) = {
            let g = h.inner.lock().unwrap();
            (g.fault, g.space.clone())
        };
        if f.vector == 14 && f.error & 1 == 0 {
            // Not present: was it mapped PROT_NONE (SEGV_ACCERR) or not at all (SEGV_MAPERR)?
            let root = space.map(|x| x.load(SeqCst)).unwrap_or(0);
            if root != 0 && f.cr2 < USER_TOP {
                if let Some(pte) = s.m.sys.leaf(root, f.cr2 & !0xfff, false) {
                    // SAFETY: `leaf` points into a pool table page; tables are edited on this thread only.
                    f.prot_none = unsafe { *pte } & pt::MAPPED_NONE != 0;
                }
            }
        }
        Ok(KvmFault { vector: f.vector, error: BigInt::from(f.error), cr2: BigInt::from(f.cr2), prot_none: f.prot_none, fpu_code: f.fpu_code })
    })
}

#[napi]
pub fn kvm_dead_reason(vcpu: u32) -> Result<String> {
    let h = with(|s| vcpu_of(s, vcpu))?;
    let g = h.inner.lock().unwrap();
    Ok(g.v.dead.clone().unwrap_or_default())
}

/// The vCPU's x87/SSE/AVX state in XSAVE (standard) layout, as PTRACE_GETREGSET NT_X86_XSTATE
/// gives it (including Linux's software-reserved bytes 464..511). Returns bytes written.
/// The vCPU must not be running (its lock is held by its thread during a run).
#[napi]
pub fn kvm_get_fpu(vcpu: u32, mut buf: Uint8Array) -> Result<u32> {
    // SAFETY: the typed array's storage, alive for this call, only accessed here.
    let b = unsafe { buf.as_mut() };
    let (h, size, xcr0) = with(|s| Ok((vcpu_of(s, vcpu)?, s.m.xsave_size as usize, s.m.xcr0)))?;
    let g = h.inner.lock().unwrap();
    let xs = g.v.fd.get_xsave().map_err(|e| Error::from_reason(format!("KVM_GET_XSAVE: {e}")))?;
    // SAFETY: kvm_xsave.region is 1024 u32 = 4096 bytes.
    let bytes: &[u8] = unsafe { std::slice::from_raw_parts(xs.region.as_ptr() as *const u8, 4096) };
    let n = size.min(b.len()).min(4096);
    b[..n].copy_from_slice(&bytes[..n]);
    if n >= 512 {
        // struct _fpx_sw_bytes: magic1, extended_size, xfeatures, xstate_size
        b[464..468].copy_from_slice(&0x4650_5853u32.to_le_bytes());
        b[468..472].copy_from_slice(&((size + 4) as u32).to_le_bytes());
        b[472..480].copy_from_slice(&xcr0.to_le_bytes());
        b[480..484].copy_from_slice(&(size as u32).to_le_bytes());
        b[484..512].fill(0);
    }
    Ok(n as u32)
}

/// Load FPU state previously read with [`kvm_get_fpu`] (possibly modified, e.g. by sigreturn).
#[napi]
pub fn kvm_set_fpu(vcpu: u32, buf: Uint8Array) -> Result<()> {
    let b = buf.as_ref();
    let (h, xcr0) = with(|s| Ok((vcpu_of(s, vcpu)?, s.m.xcr0)))?;
    let g = h.inner.lock().unwrap();
    let mut xs = kvm_bindings::kvm_xsave::default();
    let n = b.len().min(4096);
    // SAFETY: kvm_xsave.region is 1024 u32 = 4096 bytes.
    let dst: &mut [u8] = unsafe { std::slice::from_raw_parts_mut(xs.region.as_mut_ptr() as *mut u8, 4096) };
    dst[..n].copy_from_slice(&b[..n]);
    dst[464..512].fill(0);
    // XSTATE_BV may only name enabled components; MXCSR reserved bits must be clear (else #GP).
    let bv = u64::from_le_bytes(dst[512..520].try_into().unwrap()) & xcr0;
    dst[512..520].copy_from_slice(&bv.to_le_bytes());
    dst[520..528].fill(0); // XCOMP_BV: standard format
    xs.region[6] &= 0xffff;
    // SAFETY: a complete kvm_xsave in the standard format, checked as above.
    unsafe { g.v.fd.set_xsave(&xs) }.map_err(|e| Error::from_reason(format!("KVM_SET_XSAVE: {e}")))?;
    Ok(())
}

#[napi(object)]
pub struct KvmStats {
    /// KVM_RUN calls.
    pub exits: f64,
    /// Full zaps of KVM's shadow pages (reclaiming retired page-table pages).
    pub zaps: f64,
    /// Page-table pages copied by path copying (removals and narrowings of present entries).
    pub copies: f64,
    /// 2 MiB leaves split into page tables (partial munmap/mprotect/remap of a 2 MiB page).
    pub splits: f64,
    pub vcpus: u32,
}

#[napi]
pub fn kvm_stats() -> Result<KvmStats> {
    with(|s| {
        let exits = s.all.iter().map(|h| h.exits.load(SeqCst)).sum::<u64>() + s.m.free_vcpus.iter().map(|v| v.exits).sum::<u64>();
        Ok(KvmStats { exits: exits as f64, zaps: s.m.zaps as f64, copies: s.m.sys.copies as f64, splits: s.m.sys.splits as f64, vcpus: s.m.next_vcpu })
    })
}

#[napi(object)]
pub struct KvmPageCensus {
    /// 2 MiB leaves (PD entries with PS), PROT_NONE ones included.
    pub huge: f64,
    /// 4 KiB leaves, PROT_NONE ones included.
    pub small: f64,
    /// Page-table pages of the user half, the root included.
    pub tables: f64,
}

/// What the page tables of address space `space` hold now (for tests and benchmarks).
#[napi]
pub fn kvm_page_census(space: u32) -> Result<KvmPageCensus> {
    with(|s| {
        let root = space_of(s, space)?.load(SeqCst);
        let c = s.m.sys.census(root);
        Ok(KvmPageCensus { huge: c.huge as f64, small: c.small as f64, tables: c.tables as f64 })
    })
}
