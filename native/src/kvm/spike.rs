//! Measurement and mechanism probes for the KVM platform (kept as a benchmark: see
//! benchmarks/kvm-spike.mjs). Every KVM_RUN here runs under a watchdog thread that kicks the vCPU
//! out (immediate_exit + the event-loop kick signal) if the guest does not come back in time.

use super::guest::*;
use super::vm::{self, ur, Exit, Mode, Vcpu};
use super::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Kicks the calling thread out of KVM_RUN after `ms` unless dropped first.
pub struct Watchdog {
    done: Arc<AtomicBool>,
    pub fired: Arc<AtomicBool>,
}

impl Watchdog {
    pub fn start(run: *mut kvm_bindings::kvm_run, ms: u64) -> Watchdog {
        let done = Arc::new(AtomicBool::new(false));
        let fired = Arc::new(AtomicBool::new(false));
        let (d, f) = (done.clone(), fired.clone());
        let tid = unsafe { libc::gettid() };
        let pid = unsafe { libc::getpid() };
        let run = run as usize;
        std::thread::spawn(move || {
            let t0 = Instant::now();
            while !d.load(Ordering::SeqCst) {
                if t0.elapsed() > Duration::from_millis(ms) {
                    f.store(true, Ordering::SeqCst);
                    unsafe { (*(run as *mut kvm_bindings::kvm_run)).immediate_exit = 1 };
                    while !d.load(Ordering::SeqCst) {
                        unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, eventloop::kick_signal()) };
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        Watchdog { done, fired }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

fn memfile_host(off: u64) -> *mut u8 {
    let (base, _) = crate::memfile::reserved_range().expect("memfile");
    (base as u64 + off) as *mut u8
}

fn set_lstar(v: &Vcpu, lstar: u64) -> vm::Res<()> {
    let e = [kvm_bindings::kvm_msr_entry { index: 0xc000_0082, data: lstar, ..Default::default() }];
    let m = kvm_bindings::Msrs::from_entries(&e).map_err(|x| x.to_string())?;
    v.fd.set_msrs(&m).map_err(|x| x.to_string())?;
    Ok(())
}

/// Syscall round-trip benchmark, entirely native: guest `mov eax, 39; syscall; jmp` in user mode,
/// host answers each syscall. `mode`: 0 = syscall page stores to the exit page (KVM_EXIT_MMIO,
/// registers through KVM_SYNC_REGS); 1 = syscall page `ud2` → #UD → supervisor entry code → `out`
/// → host → iretq; 2 = like 0 but KVM_GET_REGS/KVM_SET_REGS per exit instead of sync regs.
/// `code_off`: a free page-aligned memory-file offset (chunk 0 must be mapped) for code and stack.
/// Returns [ns per round trip, KVM_RUN calls per syscall, syscalls done].
#[napi]
pub fn kvm_spike_syscall(mode: u32, iters: u32, code_off: f64) -> Result<Vec<f64>> {
    let code_off = code_off as u64;
    with(|s| {
        let mut root = s.m.sys.new_root().ok_or_else(|| Error::from_reason("pool"))?;
        let code: Vec<u8> = if mode == 3 {
            // mov eax, 39; mov rcx, rip-after; movabs [EXIT_VA], al; jmp start  (an exit, no syscall)
            let mut c = vec![0xb8, 39, 0, 0, 0, 0x48, 0x8d, 0x0d, 9, 0, 0, 0, 0xa2];
            c.extend_from_slice(&EXIT_VA.to_le_bytes());
            c.extend_from_slice(&[0xeb, 0xe9]);
            c
        } else {
            vec![0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7]
        };
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), memfile_host(code_off), code.len()) };
        s.m.sys.map_range(&mut root, 0x40_0000, MEMFILE_GPA + code_off, 4096, 5).map_err(err)?;
        s.m.sys.map_range(&mut root, 0x7f_0000, MEMFILE_GPA + code_off + 4096, 4096, 3).map_err(err)?;
        s.m.sys.entering_guest();
        let mut v = s.m.vcpu().map_err(err)?;
        set_lstar(&v, if mode == 1 { LSTAR_UD2 } else { LSTAR }).map_err(err)?;
        let mut regs = [0u64; 27];
        regs[ur::RIP] = 0x40_0000;
        regs[ur::RSP] = 0x7f_1000;
        regs[ur::EFLAGS] = 0x202;
        let res = (|| -> Result<Vec<f64>> {
            v.load(s.m.sys.ptr(), root, &regs).map_err(err)?;
            let run = v.fd.get_kvm_run() as *mut kvm_bindings::kvm_run;
            if mode == 4 || mode == 5 {
                // CPL0 loop in the code page: out 0x81, al; jmp $-2 (mode 5: a store to the exit page)
                unsafe {
                    (*run).s.regs.regs.rip = KBASE + CODE_GPA + if mode == 5 { 0x60 } else { 0x50 };
                }
            }
            let wd = Watchdog::start(run, 10_000);
            let exits0 = v.exits;
            let mut done = 0u32;
            let t0 = Instant::now();
            let mut x = v.run();
            while done < iters {
                let ex = v.store(s.m.sys.ptr(), x, &mut regs);
                match (mode, ex) {
                    (0 | 2, Exit::Syscall) => {}
                    (3, Exit::Syscall) => regs[ur::RIP] = 0x40_0000,
                    (4 | 5, _) => {
                        regs[ur::ORIG_RAX] = 39;
                    }
                    (1, Exit::Exception { vector: 6, .. }) if regs[ur::RIP] == LSTAR_UD2 => {
                        regs[ur::ORIG_RAX] = regs[ur::RAX];
                        regs[ur::RIP] = regs[ur::RCX];
                    }
                    _ => {
                        return Err(Error::from_reason(format!(
                            "iteration {done}: unexpected {ex:?} rip {:#x} ({:?}; watchdog {})",
                            regs[ur::RIP],
                            v.dead,
                            wd.fired.load(Ordering::SeqCst)
                        )))
                    }
                }
                if regs[ur::ORIG_RAX] != 39 {
                    return Err(Error::from_reason(format!("syscall number {}", regs[ur::ORIG_RAX])));
                }
                done += 1;
                regs[ur::RAX] = done as u64;
                if mode == 4 || mode == 5 {
                    unsafe { (*run).kvm_dirty_regs = 0 };
                    x = match v.fd.run() {
                        Ok(kvm_ioctls::VcpuExit::IoOut(0x81, _)) => Exit::Interrupted,
                        Ok(kvm_ioctls::VcpuExit::MmioWrite(..)) => Exit::Interrupted,
                        other => return Err(Error::from_reason(format!("mode 4 exit {other:?}"))),
                    };
                    v.exits += 1;
                    continue;
                }
                if mode == 2 {
                    // The ioctl variant: registers through KVM_GET_REGS/KVM_SET_REGS.
                    let mut r = v.fd.get_regs().map_err(|e| Error::from_reason(e.to_string()))?;
                    r.rax = done as u64;
                    r.rip = regs[ur::RIP];
                    v.fd.set_regs(&r).map_err(|e| Error::from_reason(e.to_string()))?;
                    unsafe { (*run).kvm_dirty_regs = 0 };
                } else {
                    v.load(s.m.sys.ptr(), root, &regs).map_err(err)?;
                }
                if mode == 2 {
                    unsafe { (*run).kvm_valid_regs = 0 };
                    x = match v.fd.run() {
                        Ok(kvm_ioctls::VcpuExit::MmioWrite(..)) => {
                            unsafe { (*run).kvm_valid_regs = 3 };
                            let r = v.fd.get_regs().map_err(|e| Error::from_reason(e.to_string()))?;
                            // fake the sync area for store()
                            unsafe { (*run).s.regs.regs = r };
                            v.exits += 1;
                            Exit::Syscall
                        }
                        other => return Err(Error::from_reason(format!("mode 2 exit {other:?}"))),
                    };
                } else {
                    x = v.run();
                }
            }
            let el = t0.elapsed().as_nanos() as f64;
            drop(wd);
            Ok(vec![el / iters as f64, (v.exits - exits0) as f64 / iters as f64, done as f64])
        })();
        let _ = set_lstar(&v, LSTAR);
        s.m.release_vcpu(v);
        s.m.sys.free_root(root);
        res
    })
}

/// Mechanism probe for page-table coherence: does a vCPU see host edits of its (already used)
/// page tables? Guest loop: `mov rax, [0x600000]; syscall; jmp`. Returns, per step, the value the
/// guest read (or 1e6 + vector*1000 + error code for an exception):
/// [initial (111); after a raw in-place host write of the present entry to another page (222 if
/// KVM saw it, 111 if its shadow is stale); after the same kind of remap by path copying (333);
/// after unmapping by path copying (a page fault: 1014004); after mapping back (222); then the ns
/// one full zap took and the table pages path copying copied].
#[napi]
pub fn kvm_spike_coherence(code_off: f64) -> Result<Vec<f64>> {
    let code_off = code_off as u64;
    with(|s| {
        let mut root = s.m.sys.new_root().ok_or_else(|| Error::from_reason("pool"))?;
        let code: [u8; 12] = [0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0x0f, 0x05, 0xeb, 0xf4];
        // SAFETY: the caller reserved [code_off, code_off + 0x5000) of mapped memory-file chunk 0.
        unsafe {
            std::ptr::copy_nonoverlapping(code.as_ptr(), memfile_host(code_off), code.len());
            *(memfile_host(code_off + 0x2000) as *mut u64) = 111;
            *(memfile_host(code_off + 0x3000) as *mut u64) = 222;
            *(memfile_host(code_off + 0x4000) as *mut u64) = 333;
        }
        let sys = &mut s.m.sys;
        sys.map_range(&mut root, 0x40_0000, MEMFILE_GPA + code_off, 4096, 5).map_err(err)?;
        sys.map_range(&mut root, 0x7f_0000, MEMFILE_GPA + code_off + 4096, 4096, 3).map_err(err)?;
        sys.map_range(&mut root, 0x60_0000, MEMFILE_GPA + code_off + 0x2000, 4096, 1).map_err(err)?;
        let mut v = s.m.vcpu().map_err(err)?;
        let mut regs = [0u64; 27];
        regs[ur::RIP] = 0x40_0000;
        regs[ur::RSP] = 0x7f_1000;
        regs[ur::EFLAGS] = 0x202;
        let mut out = Vec::new();
        let copies0 = s.m.sys.copies;
        let res = (|| -> Result<()> {
            let run = v.fd.get_kvm_run() as *mut kvm_bindings::kvm_run;
            let step = |v: &mut Vcpu, sys: &mut pt::Sys, root: u64, regs: &mut [u64; 27]| -> Result<f64> {
                sys.entering_guest();
                v.load(sys.ptr(), root, regs).map_err(err)?;
                let wd = Watchdog::start(run, 5_000);
                let x = v.run();
                drop(wd);
                let ex = v.store(sys.ptr(), x, regs);
                Ok(match ex {
                    Exit::Syscall => {
                        let val = regs[ur::ORIG_RAX];
                        regs[ur::RAX] = 0;
                        val as f64
                    }
                    Exit::Exception { vector, error, .. } => {
                        // retry the load on the next step
                        regs[ur::RIP] = 0x40_0000;
                        1e6 + vector as f64 * 1000.0 + error as f64
                    }
                    other => return Err(Error::from_reason(format!("{other:?} {:?}", v.dead))),
                })
            };
            out.push(step(&mut v, &mut s.m.sys, root, &mut regs)?);
            // The raw fact: an in-place host write of a present entry (what pt.rs never does).
            let pte = s.m.sys.leaf(root, 0x60_0000, false).ok_or_else(|| Error::from_reason("no pte"))?;
            // SAFETY: `pte` points into a pool table page; only the JS thread edits tables.
            unsafe { *pte = (*pte & !pt::ADDR_MASK) | (MEMFILE_GPA + code_off + 0x3000) };
            out.push(step(&mut v, &mut s.m.sys, root, &mut regs)?);
            s.m.sys.map_range(&mut root, 0x60_0000, MEMFILE_GPA + code_off + 0x4000, 4096, 1).map_err(err)?;
            out.push(step(&mut v, &mut s.m.sys, root, &mut regs)?);
            s.m.sys.unmap_range(&mut root, 0x60_0000, 4096).map_err(err)?;
            out.push(step(&mut v, &mut s.m.sys, root, &mut regs)?);
            s.m.sys.map_range(&mut root, 0x60_0000, MEMFILE_GPA + code_off + 0x3000, 4096, 1).map_err(err)?;
            out.push(step(&mut v, &mut s.m.sys, root, &mut regs)?);
            let t = Instant::now();
            s.m.zap().map_err(err)?;
            out.push(t.elapsed().as_nanos() as f64);
            out.push((s.m.sys.copies - copies0) as f64);
            Ok(())
        })();
        let _ = Mode::User;
        s.m.release_vcpu(v);
        s.m.sys.free_root(root);
        res.map(|_| out)
    })
}

/// The VMX/SVM syscall-resume path, exercised on any host: on hardware virtualization a user
/// `syscall` enters CPL 0 at LSTAR, so the syscall page's store to the exit page runs in supervisor
/// mode (rcx = return rip, r11 = rflags, rsp = the application's). This host never does that for a
/// `syscall`, so the probe produces the same state directly: a vCPU at CPL 0 in the code page's
/// exit-page store loop (offset 0x60) with rax = 39, rcx = the user code, r11 = 0x202. Then the
/// platform answers the syscall (rax = 1234) and resumes through the normal `load`/`run` path,
/// which must return to user mode at rcx; the user code (`mov rdi, rax; mov eax, 40; syscall`)
/// makes a second, ordinary syscall. Returns [first exit was taken at CPL 0 (1/0), its syscall
/// number, its return rip, second exit at CPL 3 (1/0), its syscall number, its rip, its rdi].
#[napi]
pub fn kvm_spike_cpl0_syscall(code_off: f64) -> Result<Vec<f64>> {
    let code_off = code_off as u64;
    with(|s| {
        let mut root = s.m.sys.new_root().ok_or_else(|| Error::from_reason("pool"))?;
        let code: [u8; 10] = [0x48, 0x89, 0xc7, 0xb8, 40, 0, 0, 0, 0x0f, 0x05];
        // SAFETY: the caller reserved [code_off, code_off + 0x2000) of mapped memory-file chunk 0.
        unsafe {
            std::ptr::copy_nonoverlapping(code.as_ptr(), memfile_host(code_off), code.len());
            *memfile_host(code_off + code.len() as u64) = 0x0f;
            *memfile_host(code_off + code.len() as u64 + 1) = 0x0b;
        }
        s.m.sys.map_range(&mut root, 0x40_0000, MEMFILE_GPA + code_off, 4096, 5).map_err(err)?;
        s.m.sys.map_range(&mut root, 0x7f_0000, MEMFILE_GPA + code_off + 4096, 4096, 3).map_err(err)?;
        let mut v = s.m.vcpu().map_err(err)?;
        let mut regs = [0u64; 27];
        regs[ur::RIP] = 0x40_0000;
        regs[ur::RSP] = 0x7f_1000;
        regs[ur::EFLAGS] = 0x202;
        regs[ur::RAX] = 39;
        regs[ur::RCX] = 0x40_0000;
        regs[ur::R11] = 0x202;
        let mut out = Vec::new();
        let res = (|| -> Result<()> {
            let run = v.fd.get_kvm_run() as *mut kvm_bindings::kvm_run;
            s.m.sys.entering_guest();
            v.load(s.m.sys.ptr(), root, &regs).map_err(err)?;
            // SAFETY: the vCPU's own kvm_run page; the synced registers are read by the next KVM_RUN.
            unsafe { (*run).s.regs.regs.rip = KBASE + CODE_GPA + 0x60 };
            for _ in 0..2 {
                let wd = Watchdog::start(run, 5_000);
                let x = v.run();
                drop(wd);
                let at_cpl0 = v.mode == Mode::Syscall0;
                match v.store(s.m.sys.ptr(), x, &mut regs) {
                    Exit::Syscall => {}
                    other => return Err(Error::from_reason(format!("{other:?} {:?}", v.dead))),
                }
                out.extend_from_slice(&[at_cpl0 as u8 as f64, regs[ur::ORIG_RAX] as f64, regs[ur::RIP] as f64]);
                regs[ur::RAX] = 1234;
                s.m.sys.entering_guest();
                v.load(s.m.sys.ptr(), root, &regs).map_err(err)?;
            }
            out[3] = 1.0 - out[3]; // the second exit: report "at CPL 3"
            out.push(regs[ur::RDI] as f64);
            Ok(())
        })();
        s.m.release_vcpu(v);
        s.m.sys.free_root(root);
        res.map(|_| out)
    })
}
