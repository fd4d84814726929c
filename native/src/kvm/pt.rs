//! Guest page tables, written by the host directly in the system region (4-level, 4 KiB pages).
//!
//! Page-table pages come from a pool in the system region, which is never mapped into any guest
//! address space: the guest cannot read or write its own page tables, only the CPU's (and KVM's
//! shadow MMU's) page walker reads them, by physical address.

use super::guest::*;

pub const P: u64 = 1;
pub const RW: u64 = 2;
pub const US: u64 = 4;
pub const A: u64 = 1 << 5;
pub const D: u64 = 1 << 6;
/// Software bit (ignored by the walker): a not-present entry that the MemoryManager mapped with
/// PROT_NONE, so faults on it are SEGV_ACCERR rather than SEGV_MAPERR.
pub const MAPPED_NONE: u64 = 1 << 10;
pub const NX: u64 = 1 << 63;
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Host view of the system region plus the page-table page allocator.
pub struct Sys {
    pub base: *mut u8,
    next: u64,
    /// Page-table pages KVM holds no shadow of (never used, or freed before the last zap).
    free: Vec<u64>,
    /// Freed page-table pages that KVM may still shadow: reusable only after the next zap.
    dirty: Vec<u64>,
    /// A present entry was changed or removed: KVM's shadow pages must be dropped before the next
    /// guest entry (see `Machine::zap`).
    pub zap_pending: bool,
}

// The system region is only touched on the JS thread (and by KVM through its own mapping).
unsafe impl Send for Sys {}

impl Sys {
    pub fn new() -> std::io::Result<Sys> {
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                SYS_SIZE as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Sys { base: base as *mut u8, next: PT_POOL_GPA, free: Vec::new(), dirty: Vec::new(), zap_pending: false })
    }

    pub fn page(&self, gpa: u64) -> &mut [u8] {
        debug_assert!(gpa + 4096 <= SYS_SIZE);
        unsafe { std::slice::from_raw_parts_mut(self.base.add(gpa as usize), 4096) }
    }

    pub fn table(&self, gpa: u64) -> &mut [u64] {
        unsafe { std::slice::from_raw_parts_mut(self.base.add(gpa as usize) as *mut u64, 512) }
    }

    pub fn u64_at(&self, gpa: u64) -> *mut u64 {
        unsafe { self.base.add(gpa as usize) as *mut u64 }
    }

    /// A zeroed page-table page.
    pub fn alloc_pt(&mut self) -> Option<u64> {
        if let Some(g) = self.free.pop() {
            return Some(g);
        }
        if self.next + 4096 > SYS_SIZE {
            return None;
        }
        let g = self.next;
        self.next += 4096;
        Some(g)
    }

    pub fn free_pt(&mut self, gpa: u64) {
        self.table(gpa).fill(0);
        self.dirty.push(gpa);
    }

    /// Freed pages can be reused once a zap has dropped their shadows.
    pub fn zapped(&mut self) {
        self.free.append(&mut self.dirty);
        self.zap_pending = false;
    }

    pub fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Build the shared supervisor half (KPDPT → KPD → 4 KPTs) and the fixed pages.
    pub fn init_shared(&mut self) {
        self.page(IDT_GPA).copy_from_slice(&idt_page());
        self.page(CODE_GPA).copy_from_slice(&code_page());
        self.page(USER_GPA).copy_from_slice(&user_page());
        // Intermediate entries carry US so that the two user pages are reachable; the leaves decide.
        self.table(KPDPT_GPA)[0] = KPD_GPA | P | RW | US | A;
        for i in 0..4u64 {
            self.table(KPD_GPA)[i as usize] = (KPT_GPA + i * 4096) | P | RW | US | A;
        }
        fn pt(s: &Sys, off: u64) -> &mut u64 {
            let idx = (off >> 12) as usize;
            &mut s.table(KPT_GPA + (idx as u64 / 512) * 4096)[idx % 512]
        }
        *pt(self, IDT_GPA) = IDT_GPA | P | A | NX;
        *pt(self, CODE_GPA) = CODE_GPA | P | A;
        for id in 0..MAX_VCPUS {
            let g = vcpu_area_gpa(id);
            *pt(self, g) = g | P | RW | A | D | NX;
            *pt(self, g + 4096) = (g + 4096) | P | RW | A | D | NX;
        }
    }

    /// A new address-space root: empty user half, shared supervisor half.
    pub fn new_root(&mut self) -> Option<u64> {
        let r = self.alloc_pt()?;
        self.table(r)[256] = KPDPT_GPA | P | RW | US | A;
        let sp = self.leaf(r, SYSCALL_PAGE_VA, true)?;
        unsafe { *sp = USER_GPA | P | US | A };
        let ex = self.leaf(r, EXIT_VA, true)?;
        unsafe { *ex = MMIO_GPA | P | RW | US | A | D | NX };
        Some(r)
    }

    /// Pointer to the leaf PTE for `va` in `root`, creating tables if `create`.
    pub fn leaf(&mut self, root: u64, va: u64, create: bool) -> Option<*mut u64> {
        let mut table = root;
        for level in [39u32, 30, 21] {
            let idx = ((va >> level) & 511) as usize;
            let e = self.table(table)[idx];
            if e & P == 0 {
                if !create {
                    return None;
                }
                let n = self.alloc_pt()?;
                self.table(table)[idx] = n | P | RW | US | A;
                table = n;
            } else {
                table = e & ADDR_MASK;
            }
        }
        Some(self.u64_at(table + ((va >> 12) & 511) * 8))
    }

    /// Free every user-half table of `root` and the root itself.
    pub fn free_root(&mut self, root: u64) {
        fn walk(s: &mut Sys, t: u64, depth: u32) {
            if depth < 3 {
                for i in 0..512 {
                    let e = s.table(t)[i];
                    if e & P != 0 {
                        walk(s, e & ADDR_MASK, depth + 1);
                    }
                }
            }
            s.free_pt(t);
        }
        for i in 0..256 {
            let e = self.table(root)[i];
            if e & P != 0 {
                walk(self, e & ADDR_MASK, 1);
            }
        }
        self.free_pt(root);
    }
}

/// Leaf PTE bits for mmap protections (PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4).
pub fn prot_bits(prot: u32) -> u64 {
    if prot & 7 == 0 {
        return MAPPED_NONE;
    }
    let mut b = P | US | A | D;
    if prot & 2 != 0 {
        b |= RW;
    }
    if prot & 4 == 0 {
        b |= NX;
    }
    b
}
