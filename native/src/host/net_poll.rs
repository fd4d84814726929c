//! Readiness of host sockets, delivered to the Sentry on the JS thread without a thread hop.
//!
//! One edge-triggered epoll instance holds every host socket the Sentry owns (registered once, at
//! creation, for EPOLLIN|EPOLLOUT|EPOLLPRI|EPOLLRDHUP|EPOLLET). That epoll fd is itself watched by one
//! libuv poll handle on Node's event loop, so a socket becoming ready makes libuv's backend fd readable:
//! when the JS thread idles in the loop it wakes at once, and when it is blocked in a platform wait the
//! event-loop watcher ([`crate::eventloop`]) kicks it out. The handle's callback drains the epoll
//! instance and calls the Sentry's callback once with the batch `[fd, events, fd, events, …]`; the
//! Sentry treats each entry as "readiness may have changed" (it notifies that socket's wait queue and
//! re-checks readiness with a zero-timeout poll), which is also what its edge-triggered epoll needs.
//!
//! Everything here runs on the JS thread (napi calls and the libuv callback alike).
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use std::cell::RefCell;
use std::ptr;

extern "C" {
    fn uv_handle_size(t: libc::c_int) -> libc::size_t;
    fn uv_poll_init(lp: *mut sys::uv_loop_s, handle: *mut libc::c_void, fd: libc::c_int) -> libc::c_int;
    fn uv_poll_start(handle: *mut libc::c_void, events: libc::c_int, cb: extern "C" fn(*mut libc::c_void, libc::c_int, libc::c_int)) -> libc::c_int;
    fn uv_ref(handle: *mut libc::c_void);
    fn uv_unref(handle: *mut libc::c_void);
}
/// `UV_POLL` in libuv's `uv_handle_type` (uv.h: UNKNOWN, ASYNC, CHECK, FS_EVENT, FS_POLL, HANDLE,
/// IDLE, NAMED_PIPE, POLL…).
const UV_POLL: libc::c_int = 8;
const UV_READABLE: libc::c_int = 1;

struct Poller {
    epfd: i32,
    /// The uv_poll_t (uv_handle_size(UV_POLL) bytes, 8-aligned); never freed (lives as long as the loop).
    handle: *mut libc::c_void,
    env: sys::napi_env,
    callback: sys::napi_ref,
    async_ctx: sys::napi_async_context,
    resource: sys::napi_ref,
}

thread_local! {
    static POLLER: RefCell<Option<Poller>> = const { RefCell::new(None) };
}

const BATCH: usize = 128;

/// Every event pending on the epoll instance, as `[fd, events, …]` (never blocks).
fn collect(epfd: i32) -> Vec<i32> {
    let mut batch: Vec<i32> = Vec::new();
    loop {
        // SAFETY: epoll_event is plain old data.
        let mut evs: [libc::epoll_event; BATCH] = unsafe { std::mem::zeroed() };
        // SAFETY: `evs` has room for BATCH events; zero timeout.
        let n = unsafe { libc::epoll_wait(epfd, evs.as_mut_ptr(), BATCH as i32, 0) };
        if n <= 0 {
            break;
        }
        for e in &evs[..n as usize] {
            batch.push(e.u64 as i32);
            batch.push(e.events as i32);
        }
        if (n as usize) < BATCH {
            break;
        }
    }
    batch
}

extern "C" fn on_ready(_handle: *mut libc::c_void, _status: libc::c_int, _events: libc::c_int) {
    let Some((epfd, env, callback, async_ctx, resource)) =
        POLLER.with(|p| p.borrow().as_ref().map(|p| (p.epfd, p.env, p.callback, p.async_ctx, p.resource)))
    else {
        return;
    };
    let batch = collect(epfd);
    if batch.is_empty() {
        return;
    }
    // SAFETY: on the JS thread inside a libuv callback (no JS on the stack): a handle scope, the
    // callback and resource from their references, a JS array of numbers, and napi_make_callback, which
    // opens a callback scope so that promise jobs and nextTicks run when it returns.
    unsafe {
        let mut scope = ptr::null_mut();
        if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
            return;
        }
        let mut func = ptr::null_mut();
        let mut recv = ptr::null_mut();
        let mut arr = ptr::null_mut();
        sys::napi_get_reference_value(env, callback, &mut func);
        sys::napi_get_reference_value(env, resource, &mut recv);
        sys::napi_create_array_with_length(env, batch.len(), &mut arr);
        for (i, v) in batch.iter().enumerate() {
            let mut num = ptr::null_mut();
            sys::napi_create_int32(env, *v, &mut num);
            sys::napi_set_element(env, arr, i as u32, num);
        }
        let mut result = ptr::null_mut();
        let args = [arr];
        let st = sys::napi_make_callback(env, async_ctx, recv, func, 1, args.as_ptr(), &mut result);
        if st == sys::Status::napi_pending_exception {
            let mut exc = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut exc);
            sys::napi_fatal_exception(env, exc);
        }
        sys::napi_close_handle_scope(env, scope);
    }
}

/// Start host-socket readiness delivery (once; later calls replace the callback). `callback` gets
/// one array `[fd, epollEvents, …]` per batch. Returns 0 or -errno.
#[napi]
pub fn net_poll_init(env: Env, callback: Function<'_, Unknown<'_>, Unknown<'_>>) -> Result<i64> {
    let raw_env = env.raw();
    let func = callback.value().value;
    let existing = POLLER.with(|p| p.borrow().as_ref().map(|p| p.callback));
    if let Some(old) = existing {
        let mut r = ptr::null_mut();
        // SAFETY: on the JS thread; `func` is a live function value of this call.
        unsafe {
            sys::napi_delete_reference(raw_env, old);
            sys::napi_create_reference(raw_env, func, 1, &mut r);
        }
        POLLER.with(|p| {
            if let Some(p) = p.borrow_mut().as_mut() {
                p.callback = r;
            }
        });
        return Ok(0);
    }
    // SAFETY: epoll_create1 takes no pointers.
    let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if epfd < 0 {
        return Ok(crate::neg_errno());
    }
    let lp = env.get_uv_event_loop()?;
    // SAFETY: uv_handle_size has no preconditions.
    let size = unsafe { uv_handle_size(UV_POLL) };
    let words = size.div_ceil(8);
    let handle = Box::into_raw(vec![0u64; words].into_boxed_slice()) as *mut u64 as *mut libc::c_void;
    // SAFETY: `handle` is a zeroed, 8-aligned block of uv_handle_size(UV_POLL) bytes that is never freed;
    // `lp` is Node's loop and we are on its thread.
    let r = unsafe { uv_poll_init(lp, handle, epfd) };
    if r < 0 {
        // SAFETY: our own fd.
        unsafe { libc::close(epfd) };
        return Ok(r as i64);
    }
    // SAFETY: `handle` was initialised by uv_poll_init above.
    let r = unsafe { uv_poll_start(handle, UV_READABLE, on_ready) };
    if r < 0 {
        return Ok(r as i64);
    }
    // The handle does not keep the loop alive by itself (see net_poll_ref).
    // SAFETY: an initialised handle on the loop's thread.
    unsafe { uv_unref(handle) };
    let mut cb_ref = ptr::null_mut();
    let mut res_ref = ptr::null_mut();
    let mut async_ctx = ptr::null_mut();
    // SAFETY: on the JS thread; creates an object for the async resource, a reference to it and to the
    // callback, and an async context (napi_async_init) used by napi_make_callback.
    unsafe {
        let mut obj = ptr::null_mut();
        sys::napi_create_object(raw_env, &mut obj);
        let mut name = ptr::null_mut();
        sys::napi_create_string_utf8(raw_env, c"tsvisor:hostnet".as_ptr(), -1isize as _, &mut name);
        sys::napi_async_init(raw_env, obj, name, &mut async_ctx);
        sys::napi_create_reference(raw_env, obj, 1, &mut res_ref);
        sys::napi_create_reference(raw_env, func, 1, &mut cb_ref);
    }
    POLLER.with(|p| {
        *p.borrow_mut() = Some(Poller { epfd, handle, env: raw_env, callback: cb_ref, async_ctx, resource: res_ref });
    });
    Ok(0)
}

/// The events pending right now, `[fd, events, …]` (empty before init or when none): lets the Sentry
/// consume edges that happened before it checks a socket's readiness, so that they are not taken
/// later for new ones.
#[napi]
pub fn net_poll_drain() -> Vec<i32> {
    match POLLER.with(|p| p.borrow().as_ref().map(|p| p.epfd)) {
        Some(epfd) => collect(epfd),
        None => Vec::new(),
    }
}

/// Keep the event loop alive while host sockets exist (`on` true) or not. No-op before init.
#[napi]
pub fn net_poll_ref(on: bool) {
    POLLER.with(|p| {
        if let Some(p) = p.borrow().as_ref() {
            // SAFETY: an initialised handle, on the loop's thread.
            unsafe {
                if on {
                    uv_ref(p.handle)
                } else {
                    uv_unref(p.handle)
                }
            }
        }
    });
}

/// Register host socket `fd` for edge-triggered readiness reports (until it is closed: closing the
/// only fd of a socket removes it from the epoll set). 0 or -errno; -EBADFD before init.
#[napi]
pub fn net_poll_add(fd: i32) -> i64 {
    let Some(epfd) = POLLER.with(|p| p.borrow().as_ref().map(|p| p.epfd)) else { return -(libc::EBADFD as i64) };
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLPRI | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
        u64: fd as u64,
    };
    // SAFETY: `ev` is a valid epoll_event for the call.
    super::ret(unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) } as i64)
}
