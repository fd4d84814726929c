//! The guest's fixed layout: physical memory map, the shared supervisor half of every address space,
//! descriptor tables, and the few bytes of machine code the platform puts in the guest.
//!
//! ```text
//! guest-physical                                   guest-virtual (every address space)
//! 0x0000_0000 ┬ system region (host: anonymous,    KBASE + gpa for gpa < 8 MiB (PML4 slot 256, shared)
//!             │ private to the platform, 1 GiB
//!             │ reserved, sparse)
//!   0x1000    │ IDT                                 supervisor, read-only, NX
//!   0x2000    │ exception entry code                supervisor, read-only, executable
//!   0x3000    │ syscall page (LSTAR target)         at SYSCALL_PAGE_VA in the USER half: read-only, exec
//!   0x4000..  │ PDPT/PD/PTs of the shared half      not mapped
//!             │ (virtual only) exit page ─────────▶ at EXIT_VA in the user half: writable, NX → MMIO_GPA
//!   0x10000.. │ per-vCPU: GDT+TSS page, stack page  supervisor, RW, NX
//!   8 MiB..   │ page-table pool                     not mapped
//! 0xC000_0000 ┼ MMIO_GPA: no memory slot — a store here exits KVM_RUN with KVM_EXIT_MMIO
//! 4 GiB       ┼ the memory file (64 GiB reserved)  only what the MemoryManager maps, user pages
//! ```
//! The user half (PML4 slots 0–255) is private to each address space and holds only memory-file
//! pages, with the protections the MemoryManager asked for, plus the two platform pages at its very
//! top (above `USER_TOP`, which the MemoryManager never maps): on this PVM host user mode cannot
//! reach the upper half at all (a user fetch there faults as not-present), so they live here.

/// Base of the supervisor half: gva = KBASE + gpa for the first [`KMAP_SIZE`] bytes of the system region.
pub const KBASE: u64 = 0xffff_8000_0000_0000;
/// Bytes of the system region mapped at KBASE (4 page tables).
pub const KMAP_SIZE: u64 = 8 << 20;
/// Size of the (sparse) system region.
pub const SYS_SIZE: u64 = 1 << 30;

pub const IDT_GPA: u64 = 0x1000;
pub const CODE_GPA: u64 = 0x2000;
pub const USER_GPA: u64 = 0x3000;
pub const KPDPT_GPA: u64 = 0x4000;
pub const KPD_GPA: u64 = 0x5000;
/// Four page tables covering KBASE..KBASE+8 MiB.
pub const KPT_GPA: u64 = 0x6000;
pub const VCPU_AREA_GPA: u64 = 0x10000;
/// Bytes per vCPU: a page holding its GDT (at 0) and TSS (at 0x800), then its exception stack page.
pub const VCPU_AREA_SIZE: u64 = 0x2000;
pub const MAX_VCPUS: u32 = ((KMAP_SIZE - VCPU_AREA_GPA) / VCPU_AREA_SIZE) as u32;
pub const PT_POOL_GPA: u64 = KMAP_SIZE;

pub const MMIO_GPA: u64 = 0xC000_0000;
pub const MEMFILE_GPA: u64 = 1 << 32;

/// End of what applications may map; the platform's two user-visible pages sit above it.
pub const USER_TOP: u64 = 0x7fff_ff00_0000;
pub const SYSCALL_PAGE_VA: u64 = 0x7fff_ffff_e000;
/// The user-writable page whose stores exit to the host (no memory behind it).
pub const EXIT_VA: u64 = 0x7fff_ffff_f000;
/// Where a user `syscall` lands (MSR_LSTAR): the start of the syscall page.
pub const LSTAR: u64 = SYSCALL_PAGE_VA;
/// Alternative syscall-page entry that raises #UD (the measured slower variant, kept for the spike).
pub const LSTAR_UD2: u64 = SYSCALL_PAGE_VA + 0x40;

// Selectors, identical to the host's (the PVM switcher requires user selectors to match the host).
pub const KERNEL_CS: u16 = 0x10;
pub const KERNEL_DS: u16 = 0x18;
pub const USER32_CS: u16 = 0x23;
pub const USER_DS: u16 = 0x2b;
pub const USER_CS: u16 = 0x33;
pub const TSS_SEL: u16 = 0x40;

/// Port the exception entry code writes to (`out 0x80, al`) to exit to the host.
pub const EXC_PORT: u16 = 0x80;

/// Offset of `resume` (add rsp, 32; iretq) in the code page.
pub const RESUME_OFF: u64 = 7;
/// Offset of the per-vector entry stubs in the code page (16 bytes each).
pub const VEC_OFF: u64 = 0x100;

/// Layout of the exception frame at the top of a vCPU's stack when the entry code exits
/// (offsets from the stack pointer at the exit): cr2, rax, vector, error code, then the
/// hardware's iret frame rip, cs, rflags, rsp, ss.
pub const FRAME_WORDS: u64 = 9;
pub const F_CR2: usize = 0;
pub const F_RAX: usize = 1;
pub const F_VEC: usize = 2;
pub const F_ERR: usize = 3;
pub const F_RIP: usize = 4;
pub const F_CS: usize = 5;
pub const F_RFLAGS: usize = 6;
pub const F_RSP: usize = 7;
pub const F_SS: usize = 8;

pub fn vcpu_area_gpa(id: u32) -> u64 {
    VCPU_AREA_GPA + id as u64 * VCPU_AREA_SIZE
}
pub fn vcpu_gdt_va(id: u32) -> u64 {
    KBASE + vcpu_area_gpa(id)
}
pub fn vcpu_tss_va(id: u32) -> u64 {
    KBASE + vcpu_area_gpa(id) + 0x800
}
/// Top of the vCPU's exception stack (TSS.RSP0), virtual.
pub fn vcpu_stack_top_va(id: u32) -> u64 {
    KBASE + vcpu_area_gpa(id) + VCPU_AREA_SIZE
}
pub fn vcpu_stack_top_gpa(id: u32) -> u64 {
    vcpu_area_gpa(id) + VCPU_AREA_SIZE
}

fn has_error_code(v: u8) -> bool {
    matches!(v, 8 | 10 | 11 | 12 | 13 | 14 | 17 | 21 | 29 | 30)
}

/// The supervisor code page: the common exception tail and one entry stub per vector 0..31.
///
/// ```text
/// 0x000 common: push rax; mov rax, cr2; push rax; out 0x80, al
/// 0x007 resume: add rsp, 32; iretq
/// 0x100 + 16*v: [push 0]; push v; jmp common
/// ```
/// Everything the host needs is then on the stack at fixed offsets ([`F_CR2`]…); the other general
/// registers still hold the application's values. To return, the host writes the iret frame in
/// place and the registers through KVM_SYNC_X86_REGS, and the guest continues at `resume`.
pub fn code_page() -> Vec<u8> {
    let mut c = vec![0xccu8; 4096];
    let common: [u8; 13] = [0x50, 0x0f, 0x20, 0xd0, 0x50, 0xe6, EXC_PORT as u8, 0x48, 0x83, 0xc4, 0x20, 0x48, 0xcf];
    c[..common.len()].copy_from_slice(&common);
    // 0x50: a CPL0 `out 0x81, al; jmp $-2` loop, used only by the exit-cost probe in spike.rs.
    c[0x50..0x54].copy_from_slice(&[0xe6, 0x81, 0xeb, 0xfc]);
    // 0x60: the same with a store to the exit page: movabs [EXIT_VA], al; jmp $-11
    c[0x60] = 0xa2;
    c[0x61..0x69].copy_from_slice(&EXIT_VA.to_le_bytes());
    c[0x69..0x6b].copy_from_slice(&[0xeb, 0xf5]);
    for v in 0u8..32 {
        let at = (VEC_OFF + 16 * v as u64) as usize;
        let mut i = at;
        if !has_error_code(v) {
            c[i] = 0x6a;
            c[i + 1] = 0;
            i += 2;
        }
        c[i] = 0x6a;
        c[i + 1] = v;
        i += 2;
        c[i] = 0xe9;
        let rel = 0i64 - (i as i64 + 5);
        c[i + 1..i + 5].copy_from_slice(&(rel as i32).to_le_bytes());
    }
    c
}

/// The user-visible syscall page (LSTAR). On this PVM host a user `syscall` arrives here still in
/// user mode (rcx = return address, r11 = rflags); the store to the exit page leaves KVM_RUN with
/// KVM_EXIT_MMIO without any privilege change. Variant at +0x40 is a bare `ud2` (#UD to the
/// supervisor entry code) used to compare costs.
pub fn user_page() -> Vec<u8> {
    let mut c = vec![0xccu8; 4096];
    // movabs [EXIT_VA], al ; ud2
    c[0] = 0xa2;
    c[1..9].copy_from_slice(&EXIT_VA.to_le_bytes());
    c[9] = 0x0f;
    c[10] = 0x0b;
    c[0x40] = 0x0f;
    c[0x41] = 0x0b;
    c
}

/// IDT: 32 exception gates to the entry stubs (interrupt gates, so IF is clear in the handler);
/// #BP and #OF are DPL 3 so `int3`/`into` work from user mode as on Linux. Other vectors are absent
/// (an `int n` from user mode is a #GP, like Linux without those gates).
pub fn idt_page() -> Vec<u8> {
    let mut p = vec![0u8; 4096];
    for v in 0u64..32 {
        let h = KBASE + CODE_GPA + VEC_OFF + 16 * v;
        let attr: u64 = if v == 3 || v == 4 { 0xee } else { 0x8e };
        let lo = (h & 0xffff) | ((KERNEL_CS as u64) << 16) | (attr << 40) | (((h >> 16) & 0xffff) << 48);
        let hi = h >> 32;
        let o = (v * 16) as usize;
        p[o..o + 8].copy_from_slice(&lo.to_le_bytes());
        p[o + 8..o + 16].copy_from_slice(&hi.to_le_bytes());
    }
    p
}

/// Write vCPU `id`'s GDT and TSS into its area page (`page` is that page, host view).
pub fn write_vcpu_tables(page: &mut [u8], id: u32) {
    let gdt: [u64; 8] = [
        0,
        0,
        0x00af_9b00_0000_ffff, // 0x10 kernel CS, 64-bit
        0x00cf_9300_0000_ffff, // 0x18 kernel DS
        0x00cf_fb00_0000_ffff, // 0x23 user32 CS
        0x00cf_f300_0000_ffff, // 0x2b user DS
        0x00af_fb00_0000_ffff, // 0x33 user CS, 64-bit
        0,
    ];
    for (i, d) in gdt.iter().enumerate() {
        page[i * 8..i * 8 + 8].copy_from_slice(&d.to_le_bytes());
    }
    let base = vcpu_tss_va(id);
    let limit: u64 = 0x67;
    let lo = (limit & 0xffff)
        | ((base & 0xff_ffff) << 16)
        | (0x8b << 40) // present, DPL 0, 64-bit TSS (busy)
        | (((limit >> 16) & 0xf) << 48)
        | (((base >> 24) & 0xff) << 56);
    let hi = base >> 32;
    page[0x40..0x48].copy_from_slice(&lo.to_le_bytes());
    page[0x48..0x50].copy_from_slice(&hi.to_le_bytes());
    // TSS at 0x800: RSP0 at +4, I/O map base at +0x66 beyond the limit (no I/O bitmap).
    let tss = &mut page[0x800..0x868];
    tss.fill(0);
    tss[4..12].copy_from_slice(&vcpu_stack_top_va(id).to_le_bytes());
    tss[0x66..0x68].copy_from_slice(&0x68u16.to_le_bytes());
}
