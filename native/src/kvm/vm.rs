//! The VM, its memory slots, and vCPUs set up to run application code in guest user mode.

use super::guest::*;
use super::pt::{Sys, SysPtr};
use kvm_bindings::*;
use kvm_ioctls::{Cap, Kvm, VcpuExit, VcpuFd, VmFd};

pub type Res<T> = std::result::Result<T, String>;

fn e<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |err| format!("{what}: {err}")
}

/// Where a vCPU stopped last.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Never ran: registers/segments still to be loaded (enters through `resume` at CPL0).
    Fresh,
    /// Stopped in user mode (syscall exit or kicked out): resume by writing user registers.
    User,
    /// Stopped in the supervisor entry code after an exception: resume through `resume`/iretq.
    Kernel,
    /// Stopped at a syscall exit taken at CPL 0: on VMX/SVM `syscall` enters CPL 0 at LSTAR, so the
    /// syscall page's store to the exit page runs in supervisor mode, on the application's stack
    /// pointer. Resume by entering `resume` with an iret frame (like `Fresh`, without the sregs).
    Syscall0,
}

/// Why KVM_RUN returned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Exit {
    Syscall,
    /// Exception vector, error code, cr2.
    Exception { vector: u8, error: u64, cr2: u64 },
    /// A signal (event-loop kick or watchdog) or immediate_exit.
    Interrupted,
    /// A fault taken in user mode and reported without the entry code (the registers are the
    /// synced user registers): see [`Vcpu::exit_page_read`].
    UserFault { vector: u8, error: u64, cr2: u64 },
    /// The VM cannot go on (triple fault, internal error, unexpected exit); the string says why.
    Dead,
}

pub struct Vcpu {
    pub id: u32,
    pub fd: VcpuFd,
    pub mode: Mode,
    /// CR3 last loaded (0: none).
    pub cr3: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub dead: Option<String>,
    pub exits: u64,
    /// The run page's synced registers are valid (a KVM_RUN returned since the last `Fresh` load).
    pub synced: bool,
}

/// One KVM_RUN's outcome (see [`Vcpu::step`]).
pub enum Step {
    Done(Exit),
    /// A signal or immediate_exit stopped KVM_RUN. `true`: at a point where the Sentry may take over
    /// (user mode, or the entry code's resume point); `false`: in the middle of exception entry, so
    /// the caller must run on to the entry code's exit.
    Kicked(bool),
}

pub struct Machine {
    pub kvm: Kvm,
    pub vm: VmFd,
    pub sys: Sys,
    pub cpuid: CpuId,
    pub xcr0: u64,
    /// Size of the XSAVE area for `xcr0` (CPUID 0xD.0 EBX), what getFpu reports.
    pub xsave_size: u32,
    pub next_vcpu: u32,
    pub free_vcpus: Vec<Vcpu>,
    pub max_vcpus: u32,
    pub zaps: u64,
}

impl Machine {
    pub fn new() -> Res<Machine> {
        let kvm = Kvm::new().map_err(e("open /dev/kvm"))?;
        for (cap, name) in [(Cap::SyncRegs, "KVM_CAP_SYNC_REGS"), (Cap::ImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"), (Cap::Xsave, "KVM_CAP_XSAVE"), (Cap::Xcrs, "KVM_CAP_XCRS")] {
            if !kvm.check_extension(cap) {
                return Err(format!("KVM lacks {name}"));
            }
        }
        let vm = kvm.create_vm().map_err(e("KVM_CREATE_VM"))?;
        let mut sys = Sys::new().map_err(e("map system region"))?;
        sys.init_shared();
        let region = kvm_userspace_memory_region {
            slot: 0,
            flags: 0,
            guest_phys_addr: 0,
            memory_size: SYS_SIZE,
            userspace_addr: sys.base as u64,
        };
        unsafe { vm.set_user_memory_region(region) }.map_err(e("set system memory slot"))?;
        crate::memfile::memfile_init().map_err(|x| x.to_string())?;
        let (mbase, mlen) = crate::memfile::reserved_range().ok_or("memory file not initialised")?;
        let region = kvm_userspace_memory_region {
            slot: 1,
            flags: 0,
            guest_phys_addr: MEMFILE_GPA,
            memory_size: mlen as u64,
            userspace_addr: mbase as u64,
        };
        unsafe { vm.set_user_memory_region(region) }.map_err(e("set memory-file slot"))?;
        let cpuid = kvm.get_supported_cpuid(KVM_MAX_CPUID_ENTRIES).map_err(e("KVM_GET_SUPPORTED_CPUID"))?;
        let mut xcr0 = 3u64;
        let mut xsave_size = 576u32;
        for ent in cpuid.as_slice() {
            if ent.function == 0xd && ent.index == 0 {
                xcr0 = (ent.eax as u64) | ((ent.edx as u64) << 32);
            }
        }
        // Only user state components (x87, SSE, AVX, MPX, AVX-512, PKRU; AMX tiles need arch_prctl
        // permission on Linux, so leave them out).
        xcr0 &= 0x2ff;
        let host_xcr0 = unsafe { std::arch::x86_64::_xgetbv(0) };
        xcr0 &= host_xcr0;
        // XSAVE area size for xcr0: max over enabled components of offset+size (standard format).
        for ent in cpuid.as_slice() {
            if ent.function == 0xd && ent.index >= 2 && ent.index < 63 && xcr0 & (1 << ent.index) != 0 {
                xsave_size = xsave_size.max(ent.ebx + ent.eax);
            }
        }
        let max_vcpus = (kvm.get_max_vcpus() as u32).min(MAX_VCPUS);
        Ok(Machine { kvm, vm, sys, cpuid, xcr0, xsave_size, next_vcpu: 0, free_vcpus: Vec::new(), max_vcpus, zaps: 0 })
    }

    /// A vCPU ready to enter user mode (recycled if one was released).
    pub fn vcpu(&mut self) -> Res<Vcpu> {
        if let Some(mut v) = self.free_vcpus.pop() {
            self.reset_vcpu(&mut v)?;
            return Ok(v);
        }
        if self.next_vcpu >= self.max_vcpus {
            return Err(format!("too many vCPUs (limit {})", self.max_vcpus));
        }
        let id = self.next_vcpu;
        self.next_vcpu += 1;
        let fd = self.vm.create_vcpu(id as u64).map_err(e("KVM_CREATE_VCPU"))?;
        fd.set_cpuid2(&self.cpuid).map_err(e("KVM_SET_CPUID2"))?;
        let mut xcrs = kvm_xcrs { nr_xcrs: 1, ..Default::default() };
        xcrs.xcrs[0].xcr = 0;
        xcrs.xcrs[0].value = self.xcr0;
        fd.set_xcrs(&xcrs).map_err(e("KVM_SET_XCRS"))?;
        write_vcpu_tables(self.sys.page(vcpu_area_gpa(id)), id);
        let msrs = [
            (0xc000_0081u32, ((USER32_CS as u64) << 48) | ((KERNEL_CS as u64) << 32)), // STAR
            (0xc000_0082, LSTAR),                                                      // LSTAR
            (0xc000_0083, 0),                                                          // CSTAR
            (0xc000_0084, 0x47700),                                                    // SFMASK
            (0xc000_0102, 0),                                                          // KERNEL_GS_BASE
        ];
        let entries: Vec<kvm_msr_entry> =
            msrs.iter().map(|&(index, data)| kvm_msr_entry { index, data, ..Default::default() }).collect();
        let m = Msrs::from_entries(&entries).map_err(e("msrs"))?;
        let n = fd.set_msrs(&m).map_err(e("KVM_SET_MSRS"))?;
        if n != entries.len() {
            return Err(format!("KVM_SET_MSRS set {n} of {}", entries.len()));
        }
        Ok(Vcpu { id, fd, mode: Mode::Fresh, cr3: 0, fs_base: 0, gs_base: 0, dead: None, exits: 0, synced: false })
    }

    /// Make a released vCPU ready for a new task: never ran, fresh FPU state.
    pub fn reset_vcpu(&self, v: &mut Vcpu) -> Res<()> {
        v.mode = Mode::Fresh;
        v.dead = None;
        v.synced = false;
        let mut xs = kvm_xsave::default();
        xs.region[0] = 0x037f; // FCW
        xs.region[6] = 0x1f80; // MXCSR
        xs.region[128] = (self.xcr0 & 3) as u32; // XSTATE_BV: x87|SSE in init-with-values form
        // SAFETY: a complete, default-initialised kvm_xsave of the layout KVM expects.
        unsafe { v.fd.set_xsave(&xs) }.map_err(e("KVM_SET_XSAVE"))?;
        Ok(())
    }

    /// Drop every shadow page KVM built from our page tables (delete and re-add the system slot,
    /// which holds them). The only host-side operation found that makes edits of present entries
    /// visible on this PVM host (see the coherence probe in spike.rs).
    pub fn zap(&mut self) -> Res<()> {
        let mut region = kvm_userspace_memory_region {
            slot: 0,
            flags: 0,
            guest_phys_addr: 0,
            memory_size: 0,
            userspace_addr: self.sys.base as u64,
        };
        unsafe { self.vm.set_user_memory_region(region) }.map_err(e("delete system slot"))?;
        region.memory_size = SYS_SIZE;
        unsafe { self.vm.set_user_memory_region(region) }.map_err(e("re-add system slot"))?;
        self.sys.zapped();
        self.zaps += 1;
        Ok(())
    }

    pub fn release_vcpu(&mut self, v: Vcpu) {
        self.free_vcpus.push(v);
    }
}

fn seg(selector: u16, code: bool, dpl: u8, long: bool) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_: if code { 11 } else { 3 },
        present: 1,
        dpl,
        db: if code && long { 0 } else { 1 },
        s: 1,
        l: if long { 1 } else { 0 },
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

/// The supervisor-mode system registers a vCPU starts with (CPL 0 in the entry code).
pub fn initial_sregs(mut s: kvm_sregs, id: u32, cr3: u64, fs_base: u64, gs_base: u64) -> kvm_sregs {
    s.cs = seg(KERNEL_CS, true, 0, true);
    s.ss = seg(KERNEL_DS, false, 0, false);
    s.ds = seg(0, false, 0, false);
    s.ds.unusable = 1;
    s.ds.present = 0;
    s.es = s.ds;
    s.fs = s.ds;
    s.fs.base = fs_base;
    s.gs = s.ds;
    s.gs.base = gs_base;
    s.tr = kvm_segment {
        base: vcpu_tss_va(id),
        limit: 0x67,
        selector: TSS_SEL,
        type_: 11,
        present: 1,
        dpl: 0,
        db: 0,
        s: 0,
        l: 0,
        g: 0,
        avl: 0,
        unusable: 0,
        padding: 0,
    };
    s.ldt = kvm_segment { unusable: 1, ..Default::default() };
    s.gdt = kvm_dtable { base: vcpu_gdt_va(id), limit: 0x4f, padding: [0; 3] };
    s.idt = kvm_dtable { base: KBASE + IDT_GPA, limit: 32 * 16 - 1, padding: [0; 3] };
    s.cr0 = 0x8005_0033; // PG | AM | WP | NE | ET | MP | PE
    s.cr3 = cr3;
    s.cr4 = (1 << 5) | (1 << 9) | (1 << 10) | (1 << 16) | (1 << 18); // PAE OSFXSR OSXMMEXCPT FSGSBASE OSXSAVE
    s.efer = 0x1 | 0x100 | 0x400 | 0x800; // SCE LME LMA NXE
    s
}

/// user_regs_struct indices (see src/kernel/arch.ts `Reg`).
pub mod ur {
    pub const R15: usize = 0;
    pub const R14: usize = 1;
    pub const R13: usize = 2;
    pub const R12: usize = 3;
    pub const RBP: usize = 4;
    pub const RBX: usize = 5;
    pub const R11: usize = 6;
    pub const R10: usize = 7;
    pub const R9: usize = 8;
    pub const R8: usize = 9;
    pub const RAX: usize = 10;
    pub const RCX: usize = 11;
    pub const RDX: usize = 12;
    pub const RSI: usize = 13;
    pub const RDI: usize = 14;
    pub const ORIG_RAX: usize = 15;
    pub const RIP: usize = 16;
    pub const CS: usize = 17;
    pub const EFLAGS: usize = 18;
    pub const RSP: usize = 19;
    pub const SS: usize = 20;
    pub const FS_BASE: usize = 21;
    pub const GS_BASE: usize = 22;
    pub const DS: usize = 23;
    pub const ES: usize = 24;
    pub const FS: usize = 25;
    pub const GS: usize = 26;
}

/// Flags user code may hold (CF PF AF ZF SF TF DF OF RF AC ID); IF and bit 1 are always set,
/// IOPL/NT/VM always clear.
pub const USER_FLAGS: u64 = 0x0025_0dd5;

pub fn user_rflags(f: u64) -> u64 {
    (f & USER_FLAGS) | 0x202
}

impl Vcpu {
    fn run_ptr(&mut self) -> *mut kvm_run {
        self.fd.get_kvm_run() as *mut kvm_run
    }

    /// Load the task's registers (user_regs_struct order) and make the vCPU ready to continue in
    /// user mode at regs[RIP] in address space `cr3`.
    pub fn load(&mut self, sys: SysPtr, cr3: u64, regs: &[u64]) -> Res<()> {
        let fs_base = regs[ur::FS_BASE];
        let gs_base = regs[ur::GS_BASE];
        let run = self.run_ptr();
        let s = unsafe { &mut (*run).s.regs };
        let mut dirty = KVM_SYNC_X86_REGS;
        match self.mode {
            Mode::Fresh => {
                let sregs = self.fd.get_sregs().map_err(e("KVM_GET_SREGS"))?;
                let ns = initial_sregs(sregs, self.id, cr3, fs_base, gs_base);
                self.fd.set_sregs(&ns).map_err(e("KVM_SET_SREGS"))?;
                self.synced = false;
                self.cr3 = cr3;
                self.fs_base = fs_base;
                self.gs_base = gs_base;
                // Registers: through `resume` with a frame we write.
                s.regs = kvm_regs {
                    rsp: vcpu_stack_top_va(self.id) - FRAME_WORDS * 8,
                    rip: KBASE + CODE_GPA + RESUME_OFF,
                    rflags: 2,
                    ..Default::default()
                };
                self.mode = Mode::Kernel;
            }
            Mode::User | Mode::Kernel | Mode::Syscall0 => {
                // A request not yet consumed by a KVM_RUN stays requested (KVM clears each bit as
                // it applies it; `run` clears them after every exit), so a change of CR3 or FS/GS
                // base already written to the run page is never dropped by a later load that sees
                // no change.
                dirty |= unsafe { (*run).kvm_dirty_regs } as u32 & KVM_SYNC_X86_SREGS;
                if cr3 != self.cr3 || fs_base != self.fs_base || gs_base != self.gs_base {
                    s.sregs.cr3 = cr3;
                    s.sregs.fs.base = fs_base;
                    s.sregs.gs.base = gs_base;
                    dirty |= KVM_SYNC_X86_SREGS;
                    self.cr3 = cr3;
                    self.fs_base = fs_base;
                    self.gs_base = gs_base;
                }
            }
        }
        let r = &mut s.regs;
        r.rax = regs[ur::RAX];
        r.rbx = regs[ur::RBX];
        r.rcx = regs[ur::RCX];
        r.rdx = regs[ur::RDX];
        r.rsi = regs[ur::RSI];
        r.rdi = regs[ur::RDI];
        r.rbp = regs[ur::RBP];
        r.r8 = regs[ur::R8];
        r.r9 = regs[ur::R9];
        r.r10 = regs[ur::R10];
        r.r11 = regs[ur::R11];
        r.r12 = regs[ur::R12];
        r.r13 = regs[ur::R13];
        r.r14 = regs[ur::R14];
        r.r15 = regs[ur::R15];
        if self.mode == Mode::Syscall0 {
            // Leave the syscall page for `resume` on this vCPU's own stack (IF stays clear at CPL 0).
            r.rsp = vcpu_stack_top_va(self.id) - FRAME_WORDS * 8;
            r.rip = KBASE + CODE_GPA + RESUME_OFF;
            r.rflags = 2;
            self.mode = Mode::Kernel;
        }
        match self.mode {
            Mode::User => {
                r.rip = regs[ur::RIP];
                r.rsp = regs[ur::RSP];
                r.rflags = user_rflags(regs[ur::EFLAGS]);
            }
            _ => {
                // r.rsp/r.rip are at the entry code's resume point; the iret frame carries the rest.
                let top = vcpu_stack_top_gpa(self.id);
                let f = sys.u64_at(top - FRAME_WORDS * 8);
                unsafe {
                    *f.add(F_RIP) = regs[ur::RIP];
                    *f.add(F_CS) = USER_CS as u64;
                    *f.add(F_RFLAGS) = user_rflags(regs[ur::EFLAGS]);
                    *f.add(F_RSP) = regs[ur::RSP];
                    *f.add(F_SS) = USER_DS as u64;
                }
            }
        }
        unsafe { (*run).kvm_dirty_regs = dirty as u64 };
        Ok(())
    }

    /// A signal or immediate_exit stopped KVM_RUN. In user mode, or at CPL 0 on the `resume` path
    /// (registers and frame already loaded), the Sentry may take over; in the middle of exception
    /// entry it may not (the frame is incomplete), so the caller runs on to the entry code's exit.
    fn interrupted(&mut self) -> bool {
        let run = self.run_ptr();
        unsafe { (*run).kvm_dirty_regs = 0 };
        let s = unsafe { &(*run).s.regs };
        if s.sregs.cs.selector & 3 == 3 {
            self.mode = Mode::User;
            return true;
        }
        let resume = KBASE + CODE_GPA + RESUME_OFF;
        s.regs.rip >= resume && s.regs.rip <= resume + 4
    }

    /// Switch a loaded vCPU to address space `cr3` before its next KVM_RUN (the address space got a
    /// new root while the vCPU ran in it: see the TLB shootdown in mod.rs).
    pub fn set_cr3(&mut self, cr3: u64) -> Res<()> {
        if cr3 == self.cr3 {
            return Ok(());
        }
        if self.synced {
            let run = self.run_ptr();
            // SAFETY: the vCPU's own run page; the synced sregs are current (a KVM_RUN returned since
            // they were last set), and the dirty bit makes the next KVM_RUN load them.
            unsafe {
                (*run).s.regs.sregs.cr3 = cr3;
                (*run).kvm_dirty_regs |= KVM_SYNC_X86_SREGS as u64;
            }
        } else {
            let mut sr = self.fd.get_sregs().map_err(e("KVM_GET_SREGS"))?;
            sr.cr3 = cr3;
            self.fd.set_sregs(&sr).map_err(e("KVM_SET_SREGS"))?;
        }
        self.cr3 = cr3;
        Ok(())
    }

    /// KVM_RUN until the next exit that concerns the Sentry (used by the spikes, which have no
    /// shootdown to serve: a kick in the middle of exception entry just runs on).
    pub fn run(&mut self) -> Exit {
        loop {
            match self.step() {
                Step::Done(x) => return x,
                Step::Kicked(true) => return Exit::Interrupted,
                Step::Kicked(false) => {}
            }
        }
    }

    /// One KVM_RUN, classified.
    pub fn step(&mut self) -> Step {
        let run = self.run_ptr();
        // SAFETY: the vCPU's own run page, mapped while `fd` lives.
        unsafe {
            (*run).kvm_valid_regs = (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS) as u64;
        }
        let r = self.fd.run();
        self.exits += 1;
        self.synced = true;
        match r {
            Ok(VcpuExit::MmioWrite(addr, _)) if addr & !0xfff == MMIO_GPA => {
                unsafe { (*run).kvm_dirty_regs = 0 };
                // The probe that selects the resume path: the privilege the store ran at. On
                // this PVM host `syscall` stays in user mode (CPL 3); on VMX/SVM it enters CPL 0.
                // Either way rcx/r11/rsp hold the application's return rip, rflags and stack.
                let cpl = unsafe { (*run).s.regs.sregs.cs.selector } & 3;
                self.mode = if cpl == 3 { Mode::User } else { Mode::Syscall0 };
                Step::Done(Exit::Syscall)
            }
            Ok(VcpuExit::MmioRead(addr, _)) if addr & !0xfff == MMIO_GPA => Step::Done(self.exit_page_read(addr)),
            Ok(VcpuExit::IoOut(EXC_PORT, _)) => {
                unsafe { (*run).kvm_dirty_regs = 0 };
                self.mode = Mode::Kernel;
                Step::Done(Exit::Exception { vector: 0, error: 0, cr2: 0 })
            }
            Ok(VcpuExit::Intr) => Step::Kicked(self.interrupted()),
            Err(err) if err.errno() == libc::EINTR || err.errno() == libc::EAGAIN => Step::Kicked(self.interrupted()),
            Ok(other) => {
                let mut why = format!("unexpected exit {other:?}");
                // Where it happened, for diagnosis (a triple fault leaves the faulting state).
                if let (Ok(r), Ok(sr)) = (self.fd.get_regs(), self.fd.get_sregs()) {
                    why += &format!(
                        " at rip={:#x} rsp={:#x} cs={:#x} cr2={:#x} cr3={:#x}",
                        r.rip, r.rsp, sr.cs.selector, sr.cr2, sr.cr3
                    );
                }
                self.dead = Some(why);
                Step::Done(Exit::Dead)
            }
            Err(err) => {
                self.dead = Some(format!("KVM_RUN: {err}"));
                Step::Done(Exit::Dead)
            }
        }
    }

    /// The application *read* the exit page (a load, or the read half of a read-modify-write).
    /// For the application that page is the platform's, above every address it may map: it gets
    /// what an unmapped address gives on Linux, a user-mode read page fault (SIGSEGV, SEGV_MAPERR)
    /// at the faulting instruction, with its registers as they were before it.
    ///
    /// KVM has decoded the instruction and waits for the data: its completion cannot be cancelled,
    /// only finished, and it would move rip and write the destination on the next KVM_RUN. So the
    /// read is completed here with zeros under `immediate_exit` (KVM finishes the emulation, then
    /// returns before entering the guest), and the registers saved at the exit are put back. What
    /// remains of the instruction is a memory destination it may have written (the zeros, e.g. a
    /// `push [exit page]` into the stack's red zone or a `movs` destination) — the one difference
    /// from Linux, which never starts the instruction.
    fn exit_page_read(&mut self, gpa: u64) -> Exit {
        let run = self.run_ptr();
        // SAFETY: the vCPU's own run page; KVM synced the registers out at this exit.
        let (saved, cpl) = unsafe { ((*run).s.regs.regs, (*run).s.regs.sregs.cs.selector & 3) };
        if cpl != 3 {
            self.dead = Some(format!("exit-page read at CPL {cpl} (rip {:#x})", saved.rip));
            return Exit::Dead;
        }
        // SAFETY: as above; immediate_exit makes the next KVM_RUN return after completing the I/O.
        unsafe {
            (*run).kvm_dirty_regs = 0;
            std::ptr::write_volatile(&mut (*run).immediate_exit, 1);
        }
        for _ in 0..64 {
            match self.fd.run() {
                Ok(VcpuExit::MmioRead(a, data)) if a & !0xfff == MMIO_GPA => data.fill(0),
                Ok(VcpuExit::MmioWrite(..)) => {}
                _ => break,
            }
        }
        // SAFETY: as above; the saved registers are synced back in by the next KVM_RUN.
        unsafe {
            std::ptr::write_volatile(&mut (*run).immediate_exit, 0);
            (*run).s.regs.regs = saved;
            (*run).kvm_dirty_regs = KVM_SYNC_X86_REGS as u64;
        }
        self.mode = Mode::User;
        Exit::UserFault { vector: 14, error: 4, cr2: EXIT_VA + (gpa & 0xfff) }
    }

    /// After an exit: the application's registers into `regs` (user_regs_struct order), and for
    /// exceptions the vector/error/cr2 from the entry code's frame.
    pub fn store(&mut self, sys: SysPtr, exit: Exit, regs: &mut [u64]) -> Exit {
        let run = self.run_ptr();
        let s = unsafe { &(*run).s.regs };
        let r = &s.regs;
        regs[ur::RBX] = r.rbx;
        regs[ur::RCX] = r.rcx;
        regs[ur::RDX] = r.rdx;
        regs[ur::RSI] = r.rsi;
        regs[ur::RDI] = r.rdi;
        regs[ur::RBP] = r.rbp;
        regs[ur::R8] = r.r8;
        regs[ur::R9] = r.r9;
        regs[ur::R10] = r.r10;
        regs[ur::R11] = r.r11;
        regs[ur::R12] = r.r12;
        regs[ur::R13] = r.r13;
        regs[ur::R14] = r.r14;
        regs[ur::R15] = r.r15;
        regs[ur::CS] = USER_CS as u64;
        regs[ur::SS] = USER_DS as u64;
        regs[ur::DS] = 0;
        regs[ur::ES] = 0;
        regs[ur::FS] = 0;
        regs[ur::GS] = 0;
        let mut out = exit;
        match exit {
            Exit::Syscall => {
                regs[ur::ORIG_RAX] = r.rax;
                regs[ur::RAX] = (-(libc::ENOSYS as i64)) as u64;
                regs[ur::RIP] = r.rcx;
                regs[ur::EFLAGS] = r.r11;
                regs[ur::RSP] = r.rsp;
                self.fs_base = s.sregs.fs.base;
                self.gs_base = s.sregs.gs.base;
            }
            Exit::Exception { .. } => {
                let top = vcpu_stack_top_gpa(self.id);
                let f = sys.u64_at(top - FRAME_WORDS * 8);
                let w = |i: usize| unsafe { *f.add(i) };
                regs[ur::RAX] = w(F_RAX);
                regs[ur::ORIG_RAX] = u64::MAX;
                regs[ur::RIP] = w(F_RIP);
                regs[ur::EFLAGS] = w(F_RFLAGS);
                regs[ur::RSP] = w(F_RSP);
                // fs/gs bases are unchanged by the entry code (no swapgs).
                self.fs_base = s.sregs.fs.base;
                self.gs_base = s.sregs.gs.base;
                if w(F_CS) != USER_CS as u64 || r.rsp != vcpu_stack_top_va(self.id) - FRAME_WORDS * 8 {
                    self.dead = Some(format!(
                        "exception {} in the platform's supervisor code at {:#x} (cs {:#x})",
                        w(F_VEC),
                        w(F_RIP),
                        w(F_CS)
                    ));
                    return Exit::Dead;
                }
                out = Exit::Exception { vector: w(F_VEC) as u8, error: w(F_ERR), cr2: w(F_CR2) };
            }
            Exit::Interrupted | Exit::UserFault { .. } => {
                if let Exit::UserFault { vector, error, cr2 } = exit {
                    out = Exit::Exception { vector, error, cr2 };
                }
                if self.mode == Mode::User {
                    regs[ur::RAX] = r.rax;
                    regs[ur::RIP] = r.rip;
                    regs[ur::EFLAGS] = r.rflags;
                    regs[ur::RSP] = r.rsp;
                    self.fs_base = s.sregs.fs.base;
                    self.gs_base = s.sregs.gs.base;
                }
            }
            Exit::Dead => {}
        }
        regs[ur::FS_BASE] = self.fs_base;
        regs[ur::GS_BASE] = self.gs_base;
        out
    }
}
