//! The stub: the host process whose address space an application runs in under the ptrace platform.
//!
//! It is a 4 KiB static ELF image built here at run time (no file on disk, no toolchain): one
//! read+execute page at [`STUB_BASE`] holding the injected-syscall site (a `syscall` instruction inside
//! a small loop that runs a batch of calls, see [`BATCH_ADDR`]), an entry point that only traps, and a
//! classic-BPF seccomp program. After exec the tracer unmaps everything
//! else (stack, vDSO, vvar), so the application's address space holds only this page plus what the
//! Sentry maps from the memory file.
//!
//! The seccomp filter allows a host syscall only when it is made by the `syscall` instruction at
//! [`SYSCALL_ADDR`] on x86-64; anything else kills the stub. Application syscalls never get that far:
//! under PTRACE_SYSEMU the kernel stops the tracee at syscall entry and skips the call before seccomp
//! is consulted. The filter is the second wall, for the case the tracer stops tracing.

/// Address of the stub page in every stub process (top of the 47-bit user range, minus a guard).
pub const STUB_BASE: u64 = 0x7fff_fffe_0000;
/// Offset of the `syscall` instruction inside the page.
const CODE_OFF: u64 = 0x100;
/// Address of the `syscall` instruction used for injected syscalls. With r12 = 1 and rbx pointing at
/// readable memory (any: it is only read when r12 > 1) it runs the call in rax/rdi/rsi/rdx/r10/r8/r9
/// and traps (int3) with the result in rax.
pub const SYSCALL_ADDR: u64 = STUB_BASE + CODE_OFF;
/// Entry of the batch loop, 27 bytes before the `syscall`: with rbx = an array of r12 (≥ 1) records
/// of seven u64 {nr, a0..a5} it loads each record's registers and runs it at [`SYSCALL_ADDR`],
/// stopping (int3) after the last one or after the first that fails (rax in [-4095, -1]): then r12 =
/// the records not run and rax = the last result. One ptrace round trip for many mmap/munmap/
/// mprotect calls instead of one each.
pub const BATCH_ADDR: u64 = SYSCALL_ADDR - 27;
/// Where every stub maps its (read-only) page of batch records, in the gap the Sentry never gives the
/// application below [`STUB_BASE`].
pub const CTRL_ADDR: u64 = STUB_BASE - 0x8000;
/// Records of seven u64 that fit in the control page.
pub const BATCH_MAX: usize = PAGE / 56;
const ENTRY_OFF: u64 = 0x120;
const FPROG_OFF: u64 = 0x200;
const FILTER_OFF: u64 = 0x210;
/// Address of the `struct sock_fprog` for seccomp(SECCOMP_SET_MODE_FILTER).
pub const FPROG_ADDR: u64 = STUB_BASE + FPROG_OFF;
pub const PAGE: usize = 4096;

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const SECCOMP_RET_KILL_PROCESS: u32 = 0x8000_0000;

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// One `struct sock_filter` (code, jt, jf, k).
fn insn(b: &mut [u8], off: usize, code: u16, jt: u8, jf: u8, k: u32) {
    put16(b, off, code);
    b[off + 2] = jt;
    b[off + 3] = jf;
    put32(b, off + 4, k);
}

/// The stub's ELF image (exactly one page).
pub fn image() -> Vec<u8> {
    let mut b = vec![0u8; PAGE];
    // ELF header
    b[0..4].copy_from_slice(b"\x7fELF");
    b[4] = 2; // ELFCLASS64
    b[5] = 1; // little endian
    b[6] = 1; // EV_CURRENT
    put16(&mut b, 16, 2); // ET_EXEC
    put16(&mut b, 18, 0x3e); // EM_X86_64
    put32(&mut b, 20, 1);
    put64(&mut b, 24, STUB_BASE + ENTRY_OFF);
    put64(&mut b, 32, 64); // e_phoff
    put64(&mut b, 40, 0); // e_shoff
    put32(&mut b, 48, 0);
    put16(&mut b, 52, 64); // e_ehsize
    put16(&mut b, 54, 56); // e_phentsize
    put16(&mut b, 56, 1); // e_phnum
    put16(&mut b, 58, 64);
    // Program header: PT_LOAD, R+X, the whole page at STUB_BASE.
    let ph = 64;
    put32(&mut b, ph, 1);
    put32(&mut b, ph + 4, 5);
    put64(&mut b, ph + 8, 0);
    put64(&mut b, ph + 16, STUB_BASE);
    put64(&mut b, ph + 24, STUB_BASE);
    put64(&mut b, ph + 32, PAGE as u64);
    put64(&mut b, ph + 40, PAGE as u64);
    put64(&mut b, ph + 48, PAGE as u64);
    // Code: the batch loop around the injected syscall site, then the entry point (int3; jmp back).
    #[rustfmt::skip]
    let batch: [u8; 27 + 22] = [
        0x48, 0x8b, 0x03,       // BATCH_ADDR: mov rax, [rbx]
        0x48, 0x8b, 0x7b, 0x08, // mov rdi, [rbx+8]
        0x48, 0x8b, 0x73, 0x10, // mov rsi, [rbx+16]
        0x48, 0x8b, 0x53, 0x18, // mov rdx, [rbx+24]
        0x4c, 0x8b, 0x53, 0x20, // mov r10, [rbx+32]
        0x4c, 0x8b, 0x43, 0x28, // mov r8,  [rbx+40]
        0x4c, 0x8b, 0x4b, 0x30, // mov r9,  [rbx+48]
        0x0f, 0x05,             // SYSCALL_ADDR: syscall
        0x49, 0xff, 0xcc,       // dec r12
        0x74, 0x0e,             // jz done
        0x48, 0x3d, 0x01, 0xf0, 0xff, 0xff, // cmp rax, -4095
        0x73, 0x06,             // jae done (an error)
        0x48, 0x83, 0xc3, 0x38, // add rbx, 56
        0xeb, 0xd0,             // jmp BATCH_ADDR
        0xcc,                   // done: int3
    ];
    let start = (BATCH_ADDR - STUB_BASE) as usize;
    b[start..start + batch.len()].copy_from_slice(&batch);
    b[ENTRY_OFF as usize..ENTRY_OFF as usize + 3].copy_from_slice(&[0xcc, 0xeb, 0xfd]);
    // seccomp program
    let ip = SYSCALL_ADDR + 2; // seccomp_data.instruction_pointer is the address after `syscall`
    let f = FILTER_OFF as usize;
    const LD_W_ABS: u16 = 0x20;
    const JEQ_K: u16 = 0x15;
    const RET_K: u16 = 0x06;
    insn(&mut b, f, LD_W_ABS, 0, 0, 4); // arch
    insn(&mut b, f + 8, JEQ_K, 0, 5, AUDIT_ARCH_X86_64);
    insn(&mut b, f + 16, LD_W_ABS, 0, 0, 8); // instruction_pointer, low half
    insn(&mut b, f + 24, JEQ_K, 0, 3, ip as u32);
    insn(&mut b, f + 32, LD_W_ABS, 0, 0, 12); // high half
    insn(&mut b, f + 40, JEQ_K, 0, 1, (ip >> 32) as u32);
    insn(&mut b, f + 48, RET_K, 0, 0, SECCOMP_RET_ALLOW);
    insn(&mut b, f + 56, RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
    put16(&mut b, FPROG_OFF as usize, 8);
    put64(&mut b, FPROG_OFF as usize + 8, STUB_BASE + FILTER_OFF);
    b
}
