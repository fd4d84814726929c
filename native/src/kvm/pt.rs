//! Guest page tables, written by the host directly in the system region (4-level; 4 KiB pages,
//! and 2 MiB pages where the mapping allows), and the rules that keep KVM's shadow of them coherent.
//!
//! Page-table pages come from a pool in the system region, which is never mapped into any guest
//! address space: the guest cannot read or write its own page tables, only the CPU's (and KVM's
//! shadow MMU's) page walker reads them, by physical address.
//!
//! ## Coherence: never take anything away in place
//! KVM on this host shadows our tables (PVM has no EPT/NPT) and notices only *guest* writes to them
//! (see mod.rs). A host write that adds a translation or a right is safe in place: the shadow has
//! nothing (or less) there, the access faults into KVM, and KVM re-walks our tables. A host write
//! that removes or narrows a present entry (unmap, mprotect to fewer rights, a new frame behind an
//! address: copy-on-write) would not be seen. Such edits are made by **path copying** instead: the
//! leaf table and every table above it up to the root are copied (unless already copied in this
//! round, see below), the copy is edited, and the address space gets the new root. A vCPU entering
//! the address space then loads a CR3 it has not used, KVM switches to a new shadow root, and the
//! shadow pages of every *unchanged* subtree are found again by guest-physical address and reused.
//! Only the copied path is re-shadowed, only for this address space, and only the edited range
//! loses its translations. The replaced pages are retired: KVM may still hold shadows of them, so
//! they are reused only after a full zap (`Machine::zap`), which happens when enough of them have
//! piled up ([`DIRTY_ZAP_PAGES`]) or the pool runs short, not per edit.
//!
//! *Fresh* pages (allocated since the last KVM_RUN of any vCPU, or anything after a full zap) have
//! never been walked by KVM, so they are edited in place: one munmap copies each table on its path
//! once, however many entries it clears. While any vCPU is running (on its own thread, see
//! threads.rs) nothing linked is fresh: the caller ends freshness before and after each edit.
//!
//! Pages replaced by path copying are not touched until the edit's TLB shootdown is over (vCPUs
//! still in the guest on the old root may walk them): [`Sys::finish_edit`] zeroes and retires them.
//!
//! ## 2 MiB pages
//! [`Sys::map_range`] maps every 2 MiB of its range that is 2 MiB-aligned in both the address space
//! and guest-physical memory (= the memory file, so: offset ≡ address mod 2 MiB, which
//! `MemoryFile.allocate`'s colour arranges for mappings of 2 MiB or more) and wholly inside the
//! range with one PD entry with PS set (a *2 MiB leaf*), PROT_NONE ones too (a not-present entry
//! with PS and [`MAPPED_NONE`]); the rest gets 4 KiB leaves. The MemoryManager also places anonymous
//! mmaps of whole 2 MiB units at 2 MiB-aligned addresses, as Linux ≥ 6.7 does, so those are 2 MiB
//! leaves throughout; others lose at most their partial first and last 2 MiB. One entry instead of a 4 KiB table of
//! 512: mapping 256 MiB writes 128 entries instead of 65 536 and 128 fewer table pages, and
//! munmap/mprotect of whole 2 MiB pages edit (and path-copy) one entry and its PD. What it does *not*
//! change on this host is the cost of the first touch of each 4 KiB: KVM backs a guest 2 MiB page
//! with a host 2 MiB page only if the memory slot's host mapping is one, and the memory file is a
//! memfd whose pages are 4 KiB here (shmem THP is `never` on this host), so KVM still maps the
//! guest page 4 KiB at a time, one shadow fault each (direct shadow pages, no guest table to
//! write-protect or re-sync). With shmem THP enabled the same tables would let KVM map 2 MiB at once.
//!
//! Every walker knows the three kinds of PD entry (table link, 2 MiB leaf, empty): [`Sys::leaf`]
//! returns the PD entry itself for an address inside a 2 MiB leaf (so the fault path's PROT_NONE
//! test works unchanged), [`Sys::free_root`] and [`Sys::census`] do not descend into one. Edits of a
//! 2 MiB leaf that the edited range covers wholly change that one entry (a narrowing through path
//! copying, as for a PTE). An edit covering only part of one first **splits** it
//! ([`Sys::split`]): a fresh table of 512 4 KiB entries with the same frames and rights replaces the
//! leaf. For KVM that replaces a present entry by a different one (a shadow of the old leaf would
//! survive a host write), so the split is itself made by path copying; the new table is fresh and
//! the edit that caused the split then changes its entries in place. A split page stays split
//! (Linux's khugepaged would collapse it again later; nothing here does). Replacing a table link by
//! a 2 MiB leaf (a new mapping over 4 KiB ones) or unlinking a table wholly inside an unmapped range
//! (munmap drops whole tables instead of clearing 512 entries) is likewise a narrowing of the PD
//! entry, path-copied, and the unlinked table is retired with the replaced ones once the edit's
//! shootdown is over.

use super::guest::*;
use std::collections::HashSet;

pub const P: u64 = 1;
pub const RW: u64 = 2;
pub const US: u64 = 4;
pub const A: u64 = 1 << 5;
pub const D: u64 = 1 << 6;
/// In a PD entry: a 2 MiB leaf rather than a link to a page table.
pub const PS: u64 = 1 << 7;
/// Bytes one PD entry maps.
pub const HUGE: u64 = 1 << 21;
/// Frame address bits of a 2 MiB leaf (bit 12 is its PAT bit, always 0 here).
const HUGE_ADDR_MASK: u64 = 0x000f_ffff_ffe0_0000;
const POOL: &str = "page-table pool exhausted";
/// Software bit (ignored by the walker): a not-present entry that the MemoryManager mapped with
/// PROT_NONE, so faults on it are SEGV_ACCERR rather than SEGV_MAPERR.
pub const MAPPED_NONE: u64 = 1 << 10;
pub const NX: u64 = 1 << 63;
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
/// Flags of every intermediate (non-leaf) entry: the leaves decide the rights.
const TABLE_FLAGS: u64 = P | RW | US | A;

/// Retired table pages that trigger a full zap to reclaim them (32 MiB of tables).
pub const DIRTY_ZAP_PAGES: usize = 8192;

pub type Res<T> = std::result::Result<T, String>;

/// Host view of the system region plus the page-table page allocator.
pub struct Sys {
    pub base: *mut u8,
    next: u64,
    /// Page-table pages KVM holds no shadow of (never used, or freed before the last zap).
    free: Vec<u64>,
    /// Freed or replaced page-table pages that KVM may still shadow: reusable only after the next zap.
    dirty: Vec<u64>,
    /// Pages allocated since the last KVM_RUN: never walked by KVM, editable in place.
    fresh: HashSet<u64>,
    /// No KVM_RUN since the last zap: every page is fresh.
    all_fresh: bool,
    /// Enough retired pages have piled up: zap before the next guest entry (see `Machine::zap`).
    pub zap_pending: bool,
    /// Table pages copied by path copying (counter for benchmarks and tests).
    pub copies: u64,
    /// 2 MiB leaves split into page tables (counter for benchmarks and tests).
    pub splits: u64,
    /// Pages replaced by path copying in the edit under way: vCPUs still running on the old root may
    /// walk them until the edit's shootdown is over, so they are zeroed and retired only then
    /// ([`Sys::finish_edit`]).
    replaced: Vec<u64>,
}

/// The system region's base address, for the vCPU threads. They touch only their own vCPU area
/// (the exception stack's iret frame, see `Vcpu::load`/`store`), never page tables, which only the
/// JS thread writes.
#[derive(Clone, Copy)]
pub struct SysPtr(pub *mut u8);

// SAFETY: a plain address of a mapping that lives as long as the process; what is done through it is
// confined as documented on the type.
unsafe impl Send for SysPtr {}

impl SysPtr {
    pub fn u64_at(self, gpa: u64) -> *mut u64 {
        debug_assert!(gpa + 8 <= SYS_SIZE);
        // SAFETY: inside the system mapping (callers pass fixed-layout vCPU-area addresses).
        unsafe { self.0.add(gpa as usize) as *mut u64 }
    }
}

// The system region is only touched on the JS thread (and by KVM through its own mapping).
unsafe impl Send for Sys {}

/// Does replacing present entry `old` by `new` take anything away (KVM may hold a shadow entry
/// granting it)? Adding rights needs no invalidation: a shadow entry with fewer rights faults into
/// KVM, which re-walks our tables and picks up the new entry.
fn downgrade(old: u64, new: u64) -> bool {
    old & P != 0
        && (new & P == 0
            || (old ^ new) & ADDR_MASK != 0
            || (old & RW != 0 && new & RW == 0)
            || (old & NX == 0 && new & NX != 0))
}

impl Sys {
    pub fn new() -> std::io::Result<Sys> {
        // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
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
        Ok(Sys {
            base: base as *mut u8,
            next: PT_POOL_GPA,
            free: Vec::new(),
            dirty: Vec::new(),
            fresh: HashSet::new(),
            all_fresh: true,
            zap_pending: false,
            copies: 0,
            splits: 0,
            replaced: Vec::new(),
        })
    }

    pub fn page(&mut self, gpa: u64) -> &mut [u8] {
        debug_assert!(gpa + 4096 <= SYS_SIZE);
        // SAFETY: gpa + 4096 <= SYS_SIZE (all callers pass pool or fixed-layout pages), inside the mapping.
        unsafe { std::slice::from_raw_parts_mut(self.base.add(gpa as usize), 4096) }
    }

    pub fn table(&mut self, gpa: u64) -> &mut [u64] {
        debug_assert!(gpa & 0xfff == 0 && gpa + 4096 <= SYS_SIZE);
        // SAFETY: as `page`; a page-aligned page holds exactly 512 u64.
        unsafe { std::slice::from_raw_parts_mut(self.base.add(gpa as usize) as *mut u64, 512) }
    }

    /// Read-only view of table page `gpa`.
    pub fn table_ref(&self, gpa: u64) -> &[u64] {
        debug_assert!(gpa & 0xfff == 0 && gpa + 4096 <= SYS_SIZE);
        // SAFETY: as `table`.
        unsafe { std::slice::from_raw_parts(self.base.add(gpa as usize) as *const u64, 512) }
    }

    /// The system region's base, for the vCPU threads (see [`SysPtr`]).
    pub fn ptr(&self) -> SysPtr {
        SysPtr(self.base)
    }

    pub fn u64_at(&self, gpa: u64) -> *mut u64 {
        debug_assert!(gpa + 8 <= SYS_SIZE);
        // SAFETY: inside the mapping (see `page`); the caller dereferences it on the JS thread only.
        unsafe { self.base.add(gpa as usize) as *mut u64 }
    }

    /// A zeroed page-table page, fresh (editable in place until the next KVM_RUN).
    pub fn alloc_pt(&mut self) -> Option<u64> {
        let g = match self.free.pop() {
            Some(g) => g,
            None => {
                if self.next + 4096 > SYS_SIZE {
                    return None;
                }
                self.next += 4096;
                self.next - 4096
            }
        };
        if !self.all_fresh {
            self.fresh.insert(g);
        }
        Some(g)
    }

    /// Give back a table page: zeroed now; reusable at once if KVM never walked it (fresh),
    /// otherwise retired until the next zap.
    pub fn free_pt(&mut self, gpa: u64) {
        self.table(gpa).fill(0);
        if self.is_fresh(gpa) {
            self.fresh.remove(&gpa);
            self.free.push(gpa);
            return;
        }
        self.dirty.push(gpa);
        if self.dirty.len() >= DIRTY_ZAP_PAGES {
            self.zap_pending = true;
        }
    }

    fn is_fresh(&self, gpa: u64) -> bool {
        self.all_fresh || self.fresh.contains(&gpa)
    }

    /// The edit under way is visible to every vCPU (its shootdown is over): the pages it replaced
    /// are zeroed and retired now.
    pub fn finish_edit(&mut self) {
        for g in std::mem::take(&mut self.replaced) {
            self.free_pt(g);
        }
    }

    /// A vCPU is about to enter the guest: from now on KVM may walk (and shadow) any table.
    pub fn entering_guest(&mut self) {
        self.all_fresh = false;
        if !self.fresh.is_empty() {
            self.fresh.clear();
        }
    }

    /// Freed pages can be reused once a zap has dropped their shadows; until the next KVM_RUN
    /// every page is fresh.
    pub fn zapped(&mut self) {
        self.free.append(&mut self.dirty);
        self.zap_pending = false;
        self.fresh.clear();
        self.all_fresh = true;
    }

    /// Should the caller zap before an edit of `len` bytes? True when retired pages could be
    /// reclaimed and the clean pool might not hold what the edit needs (every table on its path
    /// copied plus new tables created).
    pub fn short_for(&self, len: u64) -> bool {
        let need = 2 * ((len >> 21) + (len >> 30) + (len >> 39) + 8) as usize;
        let have = self.free.len() + ((SYS_SIZE - self.next) / 4096) as usize;
        !self.dirty.is_empty() && have < need + 64
    }

    /// Build the shared supervisor half (KPDPT → KPD → 4 KPTs) and the fixed pages.
    pub fn init_shared(&mut self) {
        self.page(IDT_GPA).copy_from_slice(&idt_page());
        self.page(CODE_GPA).copy_from_slice(&code_page());
        self.page(USER_GPA).copy_from_slice(&user_page());
        // Intermediate entries carry US so that the two user pages are reachable; the leaves decide.
        self.table(KPDPT_GPA)[0] = KPD_GPA | TABLE_FLAGS;
        for i in 0..4u64 {
            self.table(KPD_GPA)[i as usize] = (KPT_GPA + i * 4096) | TABLE_FLAGS;
        }
        fn pt(s: &mut Sys, off: u64) -> &mut u64 {
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
        self.table(r)[256] = KPDPT_GPA | TABLE_FLAGS;
        let sp = self.leaf(r, SYSCALL_PAGE_VA, true)?;
        // SAFETY: `leaf` returns a pointer into a table page of the pool.
        unsafe { *sp = USER_GPA | P | US | A };
        let ex = self.leaf(r, EXIT_VA, true)?;
        // SAFETY: as above.
        unsafe { *ex = MMIO_GPA | P | RW | US | A | D | NX };
        Some(r)
    }

    /// Pointer to the PD entry for `va` in `root` (a table link, a 2 MiB leaf or empty), or the
    /// first address above `va` that a missing PDPT/PD could cover.
    fn find_pde(&self, root: u64, va: u64) -> Result<*mut u64, u64> {
        let mut table = root;
        for level in [39u32, 30] {
            let e = self.table_ref(table)[idx(va, level)];
            if e & P == 0 {
                return Err((va | ((1u64 << level) - 1)) + 1);
            }
            table = e & ADDR_MASK;
        }
        Ok(self.u64_at(table + idx(va, 21) as u64 * 8))
    }

    /// Pointer to the PD entry for `va` in `root`, creating the PDPT and PD if missing (links of
    /// new tables are additions: made in place). None: the pool is exhausted.
    fn make_pde(&mut self, root: u64, va: u64) -> Option<*mut u64> {
        let mut table = root;
        for level in [39u32, 30] {
            let i = idx(va, level);
            let e = self.table(table)[i];
            if e & P == 0 {
                let n = self.alloc_pt()?;
                self.table(table)[i] = n | TABLE_FLAGS;
                table = n;
            } else {
                table = e & ADDR_MASK;
            }
        }
        Some(self.u64_at(table + idx(va, 21) as u64 * 8))
    }

    /// Pointer to the leaf entry for `va` in `root`: its PTE, or its PD entry when `va` lies in a
    /// 2 MiB page (check with [`is_huge`]). Creates missing tables if `create` (in place, additions).
    /// Only for reading or for edits that add rights.
    pub fn leaf(&mut self, root: u64, va: u64, create: bool) -> Option<*mut u64> {
        let pde = if create { self.make_pde(root, va)? } else { self.find_pde(root, va).ok()? };
        // SAFETY: `pde` points into a pool table page; tables are edited on the JS thread only.
        let e = unsafe { *pde };
        if is_huge(e) {
            return Some(pde);
        }
        let table = if e & P != 0 {
            e & ADDR_MASK
        } else {
            if !create {
                return None;
            }
            let n = self.alloc_pt()?;
            // SAFETY: as above.
            unsafe { *pde = n | TABLE_FLAGS };
            n
        };
        Some(self.u64_at(table + idx(va, 12) as u64 * 8))
    }

    /// A copy of table page `gpa` (fresh); the original is retired.
    fn copy_pt(&mut self, gpa: u64) -> Option<u64> {
        let n = self.alloc_pt()?;
        let src: [u64; 512] = self.table(gpa).try_into().unwrap();
        self.table(n).copy_from_slice(&src);
        self.replaced.push(gpa);
        self.copies += 1;
        Some(n)
    }

    /// Pointer to the entry for `va` at `level` (21: its PD entry, 12: its PTE) in a table every
    /// walker will see as new: every non-fresh table on the path from `*root` is replaced by a copy
    /// (`*root` too, updated). The tables down to that level must exist (the caller found the entry).
    fn entry_for_downgrade(&mut self, root: &mut u64, va: u64, level: u32) -> Option<*mut u64> {
        if !self.is_fresh(*root) {
            *root = self.copy_pt(*root)?;
        }
        let mut table = *root;
        let above: &[u32] = if level == 21 { &[39, 30] } else { &[39, 30, 21] };
        for &l in above {
            let i = idx(va, l);
            let e = self.table(table)[i];
            debug_assert!(e & P != 0 && !(l == 21 && e & PS != 0));
            let mut child = e & ADDR_MASK;
            if !self.is_fresh(child) {
                child = self.copy_pt(child)?;
                self.table(table)[i] = child | (e & !ADDR_MASK);
            }
            table = child;
        }
        Some(self.u64_at(table + idx(va, level) as u64 * 8))
    }

    /// Set the entry for `va` at `level` (21: PD entry, 12: PTE), which `read` found at `ptr`, to
    /// `new`: in place when that takes nothing away (or the table is fresh), through path copying
    /// otherwise. A page table the PD entry linked (replaced by a 2 MiB leaf, or dropped) is
    /// retired once the edit's shootdown is over, like the tables path copying replaced.
    fn set_entry(&mut self, root: &mut u64, va: u64, level: u32, ptr: *mut u64, new: u64) -> Res<()> {
        // SAFETY: `ptr` points into a pool table page (from `leaf`/`find_pde`), on the JS thread.
        let old = unsafe { *ptr };
        if old == new {
            return Ok(());
        }
        let ptr = if downgrade(old, new) {
            self.entry_for_downgrade(root, va, level).ok_or(POOL)?
        } else {
            ptr
        };
        // SAFETY: as above (possibly the copy's entry).
        unsafe { *ptr = new };
        if level == 21 && old & P != 0 && old & PS == 0 {
            // Still reachable from the old root until the shootdown: zeroed and retired only then.
            self.replaced.push(old & ADDR_MASK);
        }
        Ok(())
    }

    /// Turn the 2 MiB page around `va` into a page table of 512 4 KiB entries with the same
    /// frames and rights (PROT_NONE too). For KVM this replaces a present leaf, so it goes through
    /// path copying; the table itself is fresh and is then edited in place.
    fn split(&mut self, root: &mut u64, va: u64) -> Res<()> {
        let pde = self.find_pde(*root, va).map_err(|_| "split: no page directory")?;
        // SAFETY: `pde` points into a pool table page, on the JS thread.
        let e = unsafe { *pde };
        debug_assert!(is_huge(e));
        let n = self.alloc_pt().ok_or(POOL)?;
        let (base, flags) = (e & HUGE_ADDR_MASK, e & !(ADDR_MASK | PS));
        for (i, pte) in self.table(n).iter_mut().enumerate() {
            *pte = (base + i as u64 * 4096) | flags;
        }
        self.splits += 1;
        self.set_entry(root, va, 21, pde, n | TABLE_FLAGS)
    }

    /// Map `len` bytes at `va` to guest-physical `gpa` with mmap protections `prot`: each 2 MiB
    /// that is aligned in both `va` and `gpa` and wholly inside the range as one 2 MiB leaf (a PD
    /// entry with PS; a page table there is dropped), the rest as 4 KiB leaves (splitting a 2 MiB
    /// leaf they fall into).
    pub fn map_range(&mut self, root: &mut u64, va: u64, gpa: u64, len: u64, prot: u32) -> Res<()> {
        let bits = prot_bits(prot);
        let mut off = 0;
        while off < len {
            let (a, g) = (va + off, gpa + off);
            let pde = self.make_pde(*root, a).ok_or(POOL)?;
            if (a | g) & (HUGE - 1) == 0 && len - off >= HUGE {
                self.set_entry(root, a, 21, pde, g | bits | PS)?;
                off += HUGE;
                continue;
            }
            // SAFETY: `pde` points into a pool table page, on the JS thread.
            let e = unsafe { *pde };
            if is_huge(e) {
                if (e & HUGE_ADDR_MASK) + (a & (HUGE - 1)) == g && e & !(ADDR_MASK | PS) == bits {
                    off += 4096; // already mapped so
                    continue;
                }
                self.split(root, a)?;
            }
            let pte = self.leaf(*root, a, true).ok_or(POOL)?;
            self.set_entry(root, a, 12, pte, (g & ADDR_MASK) | bits)?;
            off += 4096;
        }
        Ok(())
    }

    /// Replace every leaf entry `e` in `[va, va+len)` by `f(e)`, skipping ranges with no page
    /// table. A 2 MiB leaf wholly inside the range is edited as one entry; one the range covers
    /// only in part is split first (unless `f` leaves it unchanged). With `drop_tables`, a page
    /// table wholly inside the range is unlinked instead (`f` must then clear every entry).
    fn edit_range(&mut self, root: &mut u64, va: u64, len: u64, drop_tables: bool, f: impl Fn(u64) -> u64) -> Res<()> {
        let end = va + len;
        let mut a = va;
        while a < end {
            let pde = match self.find_pde(*root, a) {
                Ok(p) => p,
                Err(next) => {
                    a = next;
                    continue;
                }
            };
            // SAFETY: `pde` points into a pool table page, on the JS thread.
            let e = unsafe { *pde };
            let base = a & !(HUGE - 1);
            let whole = a == base && end - a >= HUGE;
            if is_huge(e) {
                if whole {
                    self.set_entry(root, a, 21, pde, f(e))?;
                    a += HUGE;
                } else if f(e) == e {
                    a = (base + HUGE).min(end);
                } else {
                    self.split(root, a)?; // then edit its 4 KiB entries
                }
                continue;
            }
            if e & P == 0 {
                a = base + HUGE;
                continue;
            }
            if whole && drop_tables {
                self.set_entry(root, a, 21, pde, 0)?;
                a += HUGE;
                continue;
            }
            let stop = (base + HUGE).min(end);
            while a < stop {
                // (Looked up again each time: path copying moves the table.)
                let pte = self.leaf(*root, a, false).ok_or("edit: page table vanished")?;
                // SAFETY: `pte` points into a pool table page.
                let old = unsafe { *pte };
                let new = f(old);
                if new != old {
                    self.set_entry(root, a, 12, pte, new)?;
                }
                a += 4096;
            }
        }
        Ok(())
    }

    /// Remove every mapping in `[va, va+len)`.
    pub fn unmap_range(&mut self, root: &mut u64, va: u64, len: u64) -> Res<()> {
        self.edit_range(root, va, len, true, |_| 0)
    }

    /// Change the protections of every mapping (including PROT_NONE ones) in `[va, va+len)`.
    pub fn protect_range(&mut self, root: &mut u64, va: u64, len: u64, prot: u32) -> Res<()> {
        let bits = prot_bits(prot);
        self.edit_range(root, va, len, false, |e| if e & (P | MAPPED_NONE) == 0 { e } else { (e & ADDR_MASK) | bits | (e & PS) })
    }

    /// Leaves and tables of the user half of `root`.
    pub fn census(&self, root: u64) -> Census {
        fn walk(s: &Sys, t: u64, depth: u32, c: &mut Census) {
            c.tables += 1;
            for (i, &e) in s.table_ref(t).iter().enumerate() {
                if depth == 0 && i >= 256 {
                    break;
                }
                if depth == 2 && is_huge(e) {
                    c.huge += 1;
                } else if depth == 3 {
                    if e & (P | MAPPED_NONE) != 0 {
                        c.small += 1;
                    }
                } else if e & P != 0 {
                    walk(s, e & ADDR_MASK, depth + 1, c);
                }
            }
        }
        let mut c = Census::default();
        walk(self, root, 0, &mut c);
        c
    }

    /// Free every user-half table of `root` and the root itself (2 MiB leaves are not tables).
    pub fn free_root(&mut self, root: u64) {
        fn walk(s: &mut Sys, t: u64, depth: u32) {
            if depth < 3 {
                for i in 0..512 {
                    let e = s.table(t)[i];
                    if e & P != 0 && !(depth == 2 && e & PS != 0) {
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

/// Leaf and table counts of one address space ([`Sys::census`]).
#[derive(Default, Clone, Copy)]
pub struct Census {
    /// 2 MiB leaves (PROT_NONE ones included).
    pub huge: u64,
    /// 4 KiB leaves (PROT_NONE ones included).
    pub small: u64,
    /// Table pages, the root included.
    pub tables: u64,
}

/// Index of `va`'s entry in the table of `level` (39, 30, 21 or 12: the shift of what it maps).
fn idx(va: u64, level: u32) -> usize {
    ((va >> level) & 511) as usize
}

/// Is PD entry `e` a 2 MiB leaf (present, or a PROT_NONE placeholder)?
pub fn is_huge(e: u64) -> bool {
    e & PS != 0 && e & (P | MAPPED_NONE) != 0
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
