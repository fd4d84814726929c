//! vCPU threads: every vCPU has a host thread of its own that makes its KVM_RUN calls, so the
//! application's threads run in parallel on the host's CPUs while the JS thread (the Sentry) serves
//! their syscalls. See mod.rs ("Threads") for the design and why it is the fast one.
//!
//! ## Hand-offs
//! * JS → vCPU: [`resume`] stores the task's registers and the address space in the vCPU's
//!   [`Inner`], then flips `cmd` to `GO`; the thread spins on `cmd` for up to [`spin_ns`] after its
//!   last exit, then sleeps in FUTEX_WAIT (woken only if it announced sleeping).
//! * vCPU → JS: the thread finishes with the registers stored back in [`Inner`], sets `DONE` and
//!   pushes its slot on the exit queue (both under its `inner` lock, so a release that takes the
//!   lock finds the exit queued), bumping `EXIT_SEQ`. The JS thread waits in [`wait`]: it spins on
//!   `EXIT_SEQ` for up to [`spin_ns`], then sleeps in FUTEX_WAIT, kicked out by the event-loop
//!   watcher's signal like the ptrace platform's `wait4` (crate::eventloop).
//!
//! Each side announces its sleep with a flag (Dekker-style with the counter it sleeps on), so the
//! other pays a FUTEX_WAKE only when someone really sleeps.
//!
//! ## Kicks
//! [`kick`] sets the run page's `immediate_exit` and sends the thread the event-loop kick signal
//! (empty handler, no SA_RESTART): KVM_RUN returns EINTR whether the thread was in the guest or about
//! to enter it. The thread clears `immediate_exit` only between KVM_RUNs, before it re-checks why it
//! could have been kicked, so no kick is lost. Kicks have three causes, told apart by flags:
//! `interrupt` (the Sentry wants the task: reported as interrupted), a new root of the address space
//! the vCPU runs in (TLB shootdown: the thread re-enters with the new root, unseen by the Sentry) and
//! a full zap (the thread waits for it, then re-enters).
//!
//! ## Placement (TSVISOR_KVM_AFFINITY=1, off by default: it did not measurably help here)
//! A vCPU running alone and the JS thread never run at the same time: each syscall is a hand-off
//! one way and an answer the other. When the scheduler puts them on different CPUs, each hand-off
//! wakes the other CPU, which on this nested host is an idle vCPU of the outer VM (an exit to the
//! outer hypervisor); on one CPU it is a switch on one run queue. The lead measured ≈ 104 µs per
//! round trip unpinned vs ≈ 50 µs with the whole process pinned (`taskset -c 0`) on an idle machine.
//! [`place`] reproduces the pinned shape only while one vCPU is busy: the JS thread and that vCPU's
//! thread confine themselves to the JS thread's CPU, and let go as soon as a second vCPU runs (so
//! application threads still compute in parallel) or, briefly, every [`SOLO_RECHOOSE`] hand-offs.
//! Measured on this 2-CPU host while other work kept it loaded (load average 4–10), alternating
//! off/on in one session, medians: benchmarks/kvm-spike.mjs getpid round trip 47.4 vs 46.2 µs
//! (12 pairs) and 49.7 vs 48.5 µs (16 pairs); `tsvisor do --platform kvm` benchmarks/c/micro.c
//! getppid 66.8 vs 77.5 µs (12 pairs); in the one quieter window (load ≈ 3) spike runs were bimodal,
//! ≈ 46 or ≈ 90–120 µs, with and without. Under load the other CPU is rarely idle, so there is
//! nothing to save, and a pinned pair cannot escape a CPU that other work lands on
//! (`taskset -c 0` itself measured 46–123 µs then). The 2-thread throughput of
//! benchmarks/kvm-parallel.mjs was unchanged (1.79e9 vs 1.77e9 it/s). Hence off by default; the
//! knob stays for measuring on an idle host, where the hand-off is what it would remove.
use super::pt::SysPtr;
use super::vm::{Exit, Step, Vcpu};
use super::LastFault;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub const PARKED: u32 = 0;
pub const GO: u32 = 1;
pub const DONE: u32 = 2;
pub const QUIT: u32 = 3;

/// Results of a run (what [`super::kvm_take`] returns).
pub const RUN_INTERRUPTED: i32 = 0;
pub const RUN_SYSCALL: i32 = 1;
pub const RUN_FAULT: i32 = 2;
pub const RUN_DEAD: i32 = 3;

/// An address space as the vCPU threads see it: its current page-table root (0 once released).
pub type Space = Arc<AtomicU64>;

/// What the thread and the JS thread exchange through the lock (never contended on the hot path:
/// the JS thread takes it only while the vCPU is not running).
pub struct Inner {
    pub v: Vcpu,
    /// The task's registers, user_regs_struct order.
    pub regs: [u64; 27],
    pub space: Option<Space>,
    pub result: i32,
    pub fault: LastFault,
}

pub struct Shared {
    pub slot: u32,
    /// PARKED / GO / DONE / QUIT; the thread's futex word.
    pub cmd: AtomicU32,
    sleeping: AtomicBool,
    /// The Sentry asked for the task (cleared by [`resume`]).
    pub interrupt: AtomicBool,
    /// The page-table root the vCPU is in the guest with (or about to enter with), 0 outside.
    pub guest_root: AtomicU64,
    /// Bumped (and futex-woken if a shootdown waits) each time the thread leaves KVM_RUN.
    left: AtomicU32,
    /// The vCPU's kvm_run page (for `immediate_exit`).
    run: usize,
    tid: AtomicI32,
    /// The CPU the thread should be confined to (see [`place`]), -1: none.
    want_cpu: AtomicI32,
    /// The CPU the thread is confined to, -1: none (only the thread itself changes its affinity).
    pinned: AtomicI32,
    /// Time spent in KVM_RUN (the task's CPU time in the guest), ns.
    pub run_ns: AtomicU64,
    pub exits: AtomicU64,
    pub inner: Mutex<Inner>,
}

static EXITS: Mutex<VecDeque<u32>> = Mutex::new(VecDeque::new());
static EXIT_SEQ: AtomicU32 = AtomicU32::new(0);
static JS_SLEEPING: AtomicBool = AtomicBool::new(false);
/// Held (shared) by every thread around KVM_RUN; a full zap takes it exclusively.
static ZAP_LOCK: RwLock<()> = RwLock::new(());
static ZAP_REQ: AtomicBool = AtomicBool::new(false);
/// Shootdowns waiting for threads to leave the guest (threads wake `left` only then).
static SHOOT_WAITERS: AtomicU32 = AtomicU32::new(0);
static SPIN_NS: AtomicU64 = AtomicU64::new(u64::MAX);

/// How long a side that waits for the other spins before it sleeps (TSVISOR_KVM_SPIN_US, default
/// 0: no spin). Measured on this host (nested, PVM, 2 CPUs shared with other load), through
/// KvmPlatform.switch: no spin ≈ 60 µs per syscall round trip, 50 µs spin ≈ 130 µs, 200 µs ≈ 475 µs,
/// 1 ms ≈ 3.1 ms: a spinning thread takes the CPU the other side needs (the host's CPUs are
/// themselves vCPUs of an outer VM), so every spin is lost time. The knob stays for hosts with
/// idle CPUs to spare, where a short spin would avoid the FUTEX_WAKE-to-run latency.
pub fn spin_ns() -> u64 {
    let v = SPIN_NS.load(SeqCst);
    if v != u64::MAX {
        return v;
    }
    let us = std::env::var("TSVISOR_KVM_SPIN_US").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    SPIN_NS.store(us * 1000, SeqCst);
    us * 1000
}

fn futex_wait(w: &AtomicU32, val: u32) -> i32 {
    // SAFETY: `w` is a live, aligned u32; no timeout pointer.
    let r = unsafe {
        libc::syscall(libc::SYS_futex, w.as_ptr(), libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG, val, std::ptr::null::<libc::timespec>())
    };
    if r < 0 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    } else {
        0
    }
}

fn futex_wait_for(w: &AtomicU32, val: u32, d: Duration) {
    let ts = libc::timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 };
    // SAFETY: `w` is a live, aligned u32; `ts` a valid relative timeout.
    unsafe { libc::syscall(libc::SYS_futex, w.as_ptr(), libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG, val, &ts as *const libc::timespec) };
}

fn futex_wake(w: &AtomicU32) {
    // SAFETY: `w` is a live, aligned u32.
    unsafe { libc::syscall(libc::SYS_futex, w.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, i32::MAX) };
}

fn set_immediate_exit(run: usize, v: u8) {
    // SAFETY: `run` is the vCPU's kvm_run page, mapped while the vCPU lives (vCPUs are never
    // closed); a byte store the kernel reads at KVM_RUN entry.
    unsafe { std::ptr::write_volatile(&mut (*(run as *mut kvm_bindings::kvm_run)).immediate_exit, v) };
}

/// Make the vCPU thread leave (or not enter) KVM_RUN now.
pub fn kick(h: &Shared) {
    set_immediate_exit(h.run, 1);
    let tid = h.tid.load(SeqCst);
    if tid > 0 {
        // SAFETY: tgkill to a thread of our own process; the signal's handler is empty.
        unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, crate::eventloop::kick_signal()) };
    }
}

/// Start vCPU `v`'s thread.
pub fn spawn(slot: u32, mut v: Vcpu, sys: SysPtr) -> std::io::Result<Arc<Shared>> {
    let run = v.fd.get_kvm_run() as *mut kvm_bindings::kvm_run as usize;
    let h = Arc::new(Shared {
        slot,
        cmd: AtomicU32::new(PARKED),
        sleeping: AtomicBool::new(false),
        interrupt: AtomicBool::new(false),
        guest_root: AtomicU64::new(0),
        left: AtomicU32::new(0),
        run,
        tid: AtomicI32::new(0),
        want_cpu: AtomicI32::new(-1),
        pinned: AtomicI32::new(-1),
        run_ns: AtomicU64::new(0),
        exits: AtomicU64::new(v.exits),
        inner: Mutex::new(Inner { v, regs: [0; 27], space: None, result: RUN_DEAD, fault: LastFault::default() }),
    });
    let t = h.clone();
    std::thread::Builder::new().name(format!("tsvisor-vcpu{slot}")).spawn(move || thread_main(t, sys))?;
    // The thread publishes its tid before it can be kicked (a kick needs a GO first).
    while h.tid.load(SeqCst) == 0 {
        std::thread::yield_now();
    }
    Ok(h)
}

fn thread_main(h: Arc<Shared>, sys: SysPtr) {
    // SAFETY: gettid has no preconditions.
    h.tid.store(unsafe { libc::gettid() }, SeqCst);
    loop {
        let mut c = h.cmd.load(SeqCst);
        if c != GO && c != QUIT {
            let t0 = Instant::now();
            let spin = Duration::from_nanos(spin_ns());
            while c != GO && c != QUIT && t0.elapsed() < spin {
                std::hint::spin_loop();
                c = h.cmd.load(SeqCst);
            }
            while c != GO && c != QUIT {
                h.sleeping.store(true, SeqCst);
                futex_wait(&h.cmd, c);
                h.sleeping.store(false, SeqCst);
                c = h.cmd.load(SeqCst);
            }
        }
        if c == QUIT {
            return;
        }
        let want = h.want_cpu.load(SeqCst);
        if want != h.pinned.load(SeqCst) {
            set_cpu(&h, want);
        }
        let mut g = h.inner.lock().unwrap();
        run_once(&h, &mut g, sys);
        h.exits.store(g.v.exits, SeqCst);
        h.cmd.store(DONE, SeqCst);
        post(h.slot);
        drop(g);
    }
}

/// The vCPU has left the guest: publish it (for shootdowns and zaps) and clear a kick that may
/// still be armed.
fn left_guest(h: &Shared) {
    set_immediate_exit(h.run, 0);
    h.guest_root.store(0, SeqCst);
    h.left.fetch_add(1, SeqCst);
    if SHOOT_WAITERS.load(SeqCst) > 0 {
        futex_wake(&h.left);
    }
}

fn dead(g: &mut Inner, why: &str) {
    if g.v.dead.is_none() {
        g.v.dead = Some(why.to_string());
    }
    g.result = RUN_DEAD;
}

/// Load the task, run the vCPU until an exit the Sentry must see, store the task back.
fn run_once(h: &Shared, g: &mut Inner, sys: SysPtr) {
    let Some(space) = g.space.clone() else { return dead(g, "no address space") };
    // Anything armed before this run (a kick that arrived after the last exit) is stale: the
    // Sentry's interrupts of this run are in `interrupt`, checked below after this store.
    set_immediate_exit(h.run, 0);
    if g.v.dead.is_some() {
        return dead(g, "");
    }
    if h.interrupt.load(SeqCst) {
        // Nothing loaded: the task's registers stay as the Sentry gave them.
        g.result = RUN_INTERRUPTED;
        return;
    }
    let mut root = space.load(SeqCst);
    if root == 0 {
        return dead(g, "address space released");
    }
    let regs = g.regs;
    if let Err(e) = g.v.load(sys, root, &regs) {
        return dead(g, &e);
    }
    let exit = loop {
        let guard = ZAP_LOCK.read().unwrap();
        h.guest_root.store(root, SeqCst);
        let now = space.load(SeqCst);
        if now != root || ZAP_REQ.load(SeqCst) {
            left_guest(h);
            drop(guard);
            if now == 0 {
                break Exit::Dead;
            }
            if now != root {
                root = now;
                if let Err(e) = g.v.set_cr3(root) {
                    g.v.dead = Some(e);
                    break Exit::Dead;
                }
            } else {
                // A zap is being prepared: wait until it holds the lock (then `read` blocks).
                std::thread::yield_now();
            }
            continue;
        }
        let t0 = Instant::now();
        let step = g.v.step();
        h.run_ns.fetch_add(t0.elapsed().as_nanos() as u64, SeqCst);
        left_guest(h);
        drop(guard);
        match step {
            Step::Done(x) => break x,
            Step::Kicked(true) if h.interrupt.load(SeqCst) => break Exit::Interrupted,
            Step::Kicked(_) => {}
        }
    };
    if exit == Exit::Dead {
        if space.load(SeqCst) == 0 {
            dead(g, "address space released");
        }
        g.result = RUN_DEAD;
        return;
    }
    let mut regs = g.regs;
    let out = g.v.store(sys, exit, &mut regs);
    g.regs = regs;
    g.result = match out {
        Exit::Syscall => RUN_SYSCALL,
        Exit::Interrupted => RUN_INTERRUPTED,
        Exit::Dead => RUN_DEAD,
        Exit::Exception { vector, error, cr2 } | Exit::UserFault { vector, error, cr2 } => {
            let mut f = LastFault { vector: vector as u32, error, cr2, prot_none: false, fpu_code: 0 };
            if vector == 16 || vector == 19 {
                if let Ok(xs) = g.v.fd.get_xsave() {
                    let fcw = xs.region[0] & 0xffff;
                    let fsw = xs.region[0] >> 16;
                    let mxcsr = xs.region[6];
                    f.fpu_code = if vector == 16 { fsw & !fcw & 0x3f } else { mxcsr & !(mxcsr >> 7) & 0x3f };
                }
            }
            g.fault = f;
            RUN_FAULT
        }
    };
}

fn post(slot: u32) {
    EXITS.lock().unwrap().push_back(slot);
    EXIT_SEQ.fetch_add(1, SeqCst);
    if JS_SLEEPING.load(SeqCst) {
        futex_wake(&EXIT_SEQ);
    }
}

fn pop() -> Option<u32> {
    EXITS.lock().unwrap().pop_front()
}

/// Forget queued exits of `slot` (its vCPU is being released; the caller holds its `inner` lock,
/// so the thread is not between DONE and the queue).
pub fn unqueue(slot: u32) {
    EXITS.lock().unwrap().retain(|&s| s != slot);
}

/// Start a run of `h` (the caller stored registers and space in its `inner`); `all`: every vCPU.
pub fn resume(h: &Shared, all: &[Arc<Shared>]) {
    place(h, all);
    h.interrupt.store(false, SeqCst);
    h.cmd.store(GO, SeqCst);
    if h.sleeping.load(SeqCst) {
        futex_wake(&h.cmd);
    }
}

/// Stop the thread (after its current run, if any).
pub fn quit(h: &Shared) {
    h.cmd.store(QUIT, SeqCst);
    futex_wake(&h.cmd);
}

/// JS thread: the slot of the next vCPU that stopped, or -1 when the event loop needs the thread
/// (see crate::eventloop) or `timeout_ms` passed.
pub fn wait(timeout_ms: i32) -> i32 {
    // The event loop first, as the ptrace platform's wait does: work libuv has now (a Sentry timer
    // that is due, I/O) is served before the next stop is handed out, so what the Sentry decided
    // with a timer (a timerfd expiry, an itimer signal) is in place before the task it concerns
    // goes on.
    if !crate::eventloop::enter_wait(timeout_ms) {
        return -1;
    }
    let seq0 = EXIT_SEQ.load(SeqCst);
    if let Some(s) = pop() {
        crate::eventloop::leave_wait();
        return s as i32;
    }
    let t0 = Instant::now();
    let spin = Duration::from_nanos(spin_ns());
    while t0.elapsed() < spin {
        if EXIT_SEQ.load(SeqCst) != seq0 {
            if let Some(s) = pop() {
                crate::eventloop::leave_wait();
                return s as i32;
            }
        }
        std::hint::spin_loop();
    }
    let r = loop {
        let seq = EXIT_SEQ.load(SeqCst);
        if let Some(s) = pop() {
            break s as i32;
        }
        JS_SLEEPING.store(true, SeqCst);
        let e = futex_wait(&EXIT_SEQ, seq);
        JS_SLEEPING.store(false, SeqCst);
        if e == libc::EINTR {
            break pop().map(|s| s as i32).unwrap_or(-1);
        }
    };
    crate::eventloop::leave_wait();
    r
}

/// TLB shootdown: address space `space` moved from root `old` to a new one. Returns once no vCPU
/// is in the guest with `old` (those that were are kicked and re-enter with the new root).
pub fn shootdown(vcpus: &[Arc<Shared>], old: u64) {
    for h in vcpus {
        if h.guest_root.load(SeqCst) != old {
            continue;
        }
        SHOOT_WAITERS.fetch_add(1, SeqCst);
        loop {
            let l = h.left.load(SeqCst);
            if h.guest_root.load(SeqCst) != old {
                break;
            }
            kick(h);
            futex_wait_for(&h.left, l, Duration::from_millis(1));
        }
        SHOOT_WAITERS.fetch_sub(1, SeqCst);
    }
}

/// Run `f` (a full zap) with no vCPU in the guest.
pub fn quiesced<T>(vcpus: &[Arc<Shared>], f: impl FnOnce() -> T) -> T {
    ZAP_REQ.store(true, SeqCst);
    for h in vcpus {
        if h.guest_root.load(SeqCst) != 0 {
            kick(h);
        }
    }
    let w = ZAP_LOCK.write().unwrap();
    let r = f();
    drop(w);
    ZAP_REQ.store(false, SeqCst);
    r
}

/// Is any vCPU between GO and its exit (possibly in the guest)?
pub fn any_running(vcpus: &[Arc<Shared>]) -> bool {
    vcpus.iter().any(|h| h.cmd.load(SeqCst) == GO)
}

/// Resumes in a row that found no other vCPU running.
static SOLO: AtomicU32 = AtomicU32::new(0);
/// Solo resumes in a row before a vCPU thread is confined to the JS thread's CPU.
const SOLO_MIN: u32 = 4;
/// The CPU the JS thread confined itself to while one vCPU runs alone, -1: none.
static JS_CPU: AtomicI32 = AtomicI32::new(-1);

/// Solo resumes after which the JS thread lets go of its CPU for [`SOLO_MIN`] resumes (and then
/// confines itself and the vCPU to wherever the scheduler put it).
const SOLO_RECHOOSE: u32 = 2048;

/// 1: affinity placement on (TSVISOR_KVM_AFFINITY=1; default off, see the module doc), 0: off,
/// 2: not read yet.
static AFFINITY: AtomicU32 = AtomicU32::new(2);

fn affinity_on() -> bool {
    match AFFINITY.load(SeqCst) {
        2 => {
            let on = std::env::var("TSVISOR_KVM_AFFINITY").is_ok_and(|v| v == "1");
            AFFINITY.store(on as u32, SeqCst);
            on
        }
        v => v == 1,
    }
}

/// The process's CPU set when first asked (what a released thread gets back).
fn all_cpus() -> libc::cpu_set_t {
    static ALL: std::sync::OnceLock<libc::cpu_set_t> = std::sync::OnceLock::new();
    *ALL.get_or_init(|| {
        // SAFETY: cpu_set_t is plain bits; zeroed is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid cpu_set_t of the size passed. On failure it stays empty, and
        // `set_cpu` then fails harmlessly (EINVAL) and leaves the thread where it was.
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
        set
    })
}

/// Confine the calling thread (`h`'s) to `cpu` (-1: give it back the process's CPUs). A thread
/// changes only its own affinity: another thread of this process may not (the sandbox drops
/// capabilities on the JS thread only, so the vCPU threads' permitted sets are not a subset of its
/// own and cap_task_setscheduler refuses with EPERM). Best effort: a refusal leaves it where it was.
fn set_cpu(h: &Shared, cpu: i32) {
    set_own_cpu(cpu);
    h.pinned.store(cpu, SeqCst);
}

/// Confine the calling thread to `cpu` (-1: the process's CPUs); best effort.
fn set_own_cpu(cpu: i32) {
    let set = if cpu < 0 {
        all_cpus()
    } else {
        // SAFETY: cpu_set_t is plain bits; zeroed is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        if cpu as usize >= 8 * std::mem::size_of::<libc::cpu_set_t>() {
            return;
        }
        // SAFETY: `cpu` is below the set's capacity (checked above).
        unsafe { libc::CPU_SET(cpu as usize, &mut set) };
        set
    };
    // SAFETY: pid 0 is the calling thread; `set` a valid cpu_set_t of the size passed.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    let _ = r; // on failure the wish is remembered anyway: no retry on every run
}

/// Where `h`'s thread should run for the run about to start (only with TSVISOR_KVM_AFFINITY=1;
/// see "Placement" in the module doc). After [`SOLO_MIN`] resumes in a row that found no other vCPU
/// running, the JS thread confines itself to the CPU it is on and asks `h`'s thread to follow (the
/// thread applies it when its run starts, see [`set_cpu`]); every [`SOLO_RECHOOSE`] solo resumes
/// both let go for a moment, so that the pair moves if the scheduler moves the JS thread. As soon as
/// a resume finds another vCPU running, the JS thread lets go at once and every vCPU thread does at
/// its next run (one computing meanwhile keeps sharing the JS thread's CPU until its next exit; the
/// new one runs elsewhere).
fn place(h: &Shared, all: &[Arc<Shared>]) {
    if !affinity_on() {
        return;
    }
    if all.iter().any(|o| o.slot != h.slot && o.cmd.load(SeqCst) == GO) {
        SOLO.store(0, SeqCst);
        if JS_CPU.load(SeqCst) >= 0 {
            set_own_cpu(-1);
            JS_CPU.store(-1, SeqCst);
        }
        for o in all {
            o.want_cpu.store(-1, SeqCst);
        }
        return;
    }
    let n = SOLO.fetch_add(1, SeqCst) + 1;
    if n < SOLO_MIN {
        return;
    }
    let mut cpu = JS_CPU.load(SeqCst);
    if cpu >= 0 && n.is_multiple_of(SOLO_RECHOOSE) {
        // Let the scheduler move the JS thread now and then (if its CPU got other load) and follow.
        set_own_cpu(-1);
        JS_CPU.store(-1, SeqCst);
        SOLO.store(0, SeqCst);
        h.want_cpu.store(-1, SeqCst);
        return;
    }
    if cpu < 0 {
        // SAFETY: no preconditions (vDSO getcpu).
        cpu = unsafe { libc::sched_getcpu() };
        if cpu >= 0 {
            set_own_cpu(cpu);
            JS_CPU.store(cpu, SeqCst);
        }
    }
    if cpu >= 0 {
        h.want_cpu.store(cpu, SeqCst);
    }
}
