cat > w.py <<'EOF'
import asyncio, multiprocessing as mp, os, queue, subprocess, sys, tempfile, threading

def threads():
    lock, q, total = threading.Lock(), queue.Queue(), [0]
    def worker(n):
        for i in range(1000):
            with lock:
                total[0] += i
        q.put((n, n * n))
    ts = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in ts: t.start()
    for t in ts: t.join()
    got = sorted(q.get_nowait() for _ in ts)
    print("threads", total[0], got)
    ev, cond, results = threading.Event(), threading.Condition(), []
    def waiter(i):
        ev.wait()
        with cond:
            results.append(i); cond.notify_all()
    ws = [threading.Thread(target=waiter, args=(i,)) for i in range(4)]
    for w in ws: w.start()
    ev.set()
    with cond:
        cond.wait_for(lambda: len(results) == 4, timeout=30)
    for w in ws: w.join()
    print("event/condition", sorted(results))
    work = queue.Queue()
    for i in range(100): work.put(i)
    out = queue.Queue()
    def consumer():
        while True:
            try: i = work.get(timeout=0.5)
            except queue.Empty: return
            out.put(i * 2); work.task_done()
    cs = [threading.Thread(target=consumer) for _ in range(4)]
    for c in cs: c.start()
    work.join()
    for c in cs: c.join()
    print("queue sum", sum(out.get() for _ in range(out.qsize())))
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(4) as ex:
        print("executor", list(ex.map(lambda x: x ** 3, range(6))))

def subprocs():
    print("check_output", subprocess.check_output(["sh", "-c", "echo hi; echo there"], text=True).split())
    p = subprocess.Popen(["sort", "-r"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate("a\nc\nb\n"); print("popen", out.split(), p.returncode)
    r = subprocess.run(["sh", "-c", "echo err >&2; exit 5"], capture_output=True, text=True)
    print("run", r.returncode, r.stderr.strip())
    try: subprocess.check_call(["false"])
    except subprocess.CalledProcessError as e: print("CalledProcessError", e.returncode)
    p1 = subprocess.Popen(["seq", "1", "1000"], stdout=subprocess.PIPE)
    p2 = subprocess.Popen(["wc", "-l"], stdin=p1.stdout, stdout=subprocess.PIPE)
    p1.stdout.close(); print("pipeline", p2.communicate()[0].decode().strip(), p1.wait(), p2.returncode)
    try: subprocess.run(["sleep", "5"], timeout=0.3)
    except subprocess.TimeoutExpired: print("timeout expired")
    r = subprocess.run("cat", input=b"x" * 300000, stdout=subprocess.PIPE); print("big pipe", len(r.stdout))
    print("env", subprocess.check_output(["sh", "-c", "echo $FOO"], env={"FOO": "bar", "PATH": os.environ["PATH"]}).decode().strip())
    r, w = os.pipe(); pid = os.fork()
    if pid == 0:
        os.close(r); os.write(w, b"from child"); os._exit(9)
    os.close(w); data = os.read(r, 100); _, st = os.waitpid(pid, 0)
    print("fork", data.decode(), os.waitstatus_to_exitcode(st))

def square(x): return x * x
def producer(q, n):
    for i in range(n): q.put(i)
    q.put(None)

def multiproc():
    ctx = mp.get_context("fork")
    with ctx.Pool(3) as pool:
        print("pool.map", pool.map(square, range(10)))
        print("imap_unordered", sorted(pool.imap_unordered(square, range(20))))
        print("apply_async", pool.apply_async(square, (12,)).get(timeout=60))
    q = ctx.Queue(); p = ctx.Process(target=producer, args=(q, 50)); p.start()
    items = []
    while (x := q.get(timeout=60)) is not None: items.append(x)
    p.join(); print("queue", len(items), sum(items), p.exitcode)
    a, b = ctx.Pipe(); p = ctx.Process(target=lambda c: (c.send(c.recv() * 2), c.close()), args=(b,)); p.start()
    a.send(21); print("pipe", a.recv()); p.join()
    v = ctx.Value("i", 0); lk = ctx.Lock()
    def inc(v, lk):
        for _ in range(200):
            with lk: v.value += 1
    ps = [ctx.Process(target=inc, args=(v, lk)) for _ in range(3)]
    for p in ps: p.start()
    for p in ps: p.join()
    print("shared value", v.value, [p.exitcode for p in ps])

async def handle(reader, writer):
    while line := await reader.readline():
        writer.write(line.upper()); await writer.drain()
    writer.close(); await writer.wait_closed()

async def client(open_conn, words):
    reader, writer = await open_conn()
    got = []
    for w in words:
        writer.write(w.encode() + b"\n"); await writer.drain()
        got.append((await reader.readline()).decode().strip())
    writer.close(); await writer.wait_closed()
    return got

async def aio():
    async def task(i):
        await asyncio.sleep(0.01 * (5 - i)); return i * 10
    print("gather", await asyncio.gather(*(task(i) for i in range(5))))
    t = asyncio.create_task(task(2)); print("task", await t)
    try: await asyncio.wait_for(asyncio.sleep(10), 0.1)
    except asyncio.TimeoutError: print("wait_for timeout")
    proc = await asyncio.create_subprocess_exec("sh", "-c", "read x; echo got:$x; exit 3",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate(b"hello\n"); print("subprocess", out.decode().strip(), proc.returncode)
    proc = await asyncio.create_subprocess_shell("seq 3", stdout=asyncio.subprocess.PIPE)
    print("shell", [l.decode().strip() async for l in proc.stdout], await proc.wait())
    srv = await asyncio.start_server(handle, "127.0.0.1", 0); port = srv.sockets[0].getsockname()[1]
    async with srv:
        res = await asyncio.gather(*(client(lambda: asyncio.open_connection("127.0.0.1", port), [f"c{i}w{j}" for j in range(3)]) for i in range(3)))
        print("tcp", res)
    path = os.path.join(tempfile.mkdtemp(), "s.sock")
    srv = await asyncio.start_unix_server(handle, path)
    async with srv:
        print("unix", await client(lambda: asyncio.open_unix_connection(path), ["alpha", "beta"]))
    q = asyncio.Queue()
    async def prod():
        for i in range(5): await q.put(i)
        await q.put(None)
    async def cons():
        s = 0
        while (x := await q.get()) is not None: s += x
        return s
    print("asyncio queue", (await asyncio.gather(prod(), cons()))[1])
    loop = asyncio.get_running_loop()
    print("executor", await loop.run_in_executor(None, sum, range(100)))

if __name__ == "__main__":
    threads(); subprocs(); multiproc(); asyncio.run(aio())
    print("done", sys.version_info[:2])
EOF
PYTHONDONTWRITEBYTECODE=1 python3 -u w.py
cat > w2.py <<'PYEOF'
import asyncio, concurrent.futures, fcntl, mmap, multiprocessing as mp, os, select, signal, socket, struct, sys, tempfile, threading, time

def cube(x): return x ** 3

def child_mmap(name):
    with open(name, "r+b") as f:
        m = mmap.mmap(f.fileno(), 4096); m[0:5] = b"child"; m.flush(); m.close()

def start_methods():
    for method in ("spawn", "forkserver"):
        ctx = mp.get_context(method)
        with ctx.Pool(2) as pool:
            print(method, "pool", pool.map(cube, range(6)))
        q = ctx.Queue(); p = ctx.Process(target=q.put, args=(method,)); p.start(); print(method, "queue", q.get(timeout=60)); p.join()
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
        print("ProcessPoolExecutor", sorted(ex.map(cube, range(5))))
    with mp.Manager() as mgr:
        d = mgr.dict(); l = mgr.list()
        ps = [mp.Process(target=d.__setitem__, args=(i, i * i)) for i in range(3)]
        for p in ps: p.start()
        for p in ps: p.join()
        print("manager dict", sorted(d.items()))

def sockets_and_fds():
    a, b = socket.socketpair(); a.sendall(b"ping"); print("socketpair", b.recv(4)); a.close(); b.close()
    r, w = os.pipe(); c1, c2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    socket.send_fds(c1, [b"fd"], [r]); msg, fds, _, _ = socket.recv_fds(c2, 10, 1)
    os.write(w, b"through passed fd"); print("scm_rights", msg, os.read(fds[0], 100))
    u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u1.bind(("127.0.0.1", 0))
    u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u2.sendto(b"udp!", u1.getsockname())
    data, addr = u1.recvfrom(100); print("udp", data, addr[0])
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); c = socket.create_connection(s.getsockname()); conn, _ = s.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); conn.sendall(b"x" * 1000000); got = 0
    while got < 1000000: got += len(c.recv(65536))
    print("tcp 1MB", got, c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0)
    p = select.poll(); p.register(c, select.POLLIN); print("poll empty", p.poll(50)); conn.sendall(b"y"); print("poll ready", [e & select.POLLIN for _, e in p.poll(1000)])
    conn.shutdown(socket.SHUT_WR); c.recv(1); print("eof", c.recv(1)); 
    ep = select.epoll(); ep.register(c.fileno(), select.EPOLLIN); print("epoll", [e & select.EPOLLIN for _, e in ep.poll(1)]); ep.close()
    for x in (c, conn, s, u1, u2, c1, c2): x.close()
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
        with open(src, "wb") as f: f.write(os.urandom(1) * 0 + bytes(range(256)) * 1000)
        with open(src, "rb") as fi, open(dst, "wb") as fo: print("sendfile", os.sendfile(fo.fileno(), fi.fileno(), 0, 300000))
        with open(src, "r+b") as f:
            m = mmap.mmap(f.fileno(), 0); p = mp.get_context("fork").Process(target=child_mmap, args=(src,)); p.start(); p.join()
            print("mmap shared", m[0:5], len(m)); m.close()
        an = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED); pid = os.fork()
        if pid == 0: an[0:3] = b"abc"; os._exit(0)
        os.waitpid(pid, 0); print("anon shared", an[0:3])
        fd = os.open(src, os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        pid = os.fork()
        if pid == 0:
            fd2 = os.open(src, os.O_RDWR)
            try: fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB); os._exit(0)
            except BlockingIOError: os._exit(7)
        print("flock conflict", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])); os.close(fd)
        print("scandir", sorted(e.name for e in os.scandir(d)), "statvfs", os.statvfs(d).f_bsize > 0)
        pid = os.posix_spawn("/bin/sh", ["sh", "-c", "exit 4"], os.environ); print("posix_spawn", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

def signals_and_timers():
    got = []
    signal.signal(signal.SIGUSR1, lambda s, f: got.append(s)); signal.raise_signal(signal.SIGUSR1); print("signal handler", got == [signal.SIGUSR1])
    signal.signal(signal.SIGALRM, lambda s, f: got.append("alrm")); signal.setitimer(signal.ITIMER_REAL, 0.05)
    time.sleep(0.5); print("itimer", "alrm" in got)
    t = threading.Timer(0.05, lambda: got.append("timer")); t.start(); t.join(); print("threading.Timer", "timer" in got)
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2]); signal.pthread_kill(threading.get_ident(), signal.SIGUSR2)
    print("sigpending", signal.SIGUSR2 in signal.sigpending(), "sigwait", signal.sigwait([signal.SIGUSR2]) == signal.SIGUSR2)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR2])
    t0 = time.monotonic(); time.sleep(0.1); print("monotonic", time.monotonic() - t0 >= 0.1)
    print("clock_gettime", time.clock_gettime(time.CLOCK_REALTIME) > 1e9, time.process_time() >= 0)

async def aio_more():
    loop = asyncio.get_running_loop(); fut = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, fut.set_result, "sig"); os.kill(os.getpid(), signal.SIGUSR1); print("add_signal_handler", await asyncio.wait_for(fut, 10))
    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, tr): self.tr = tr
        def datagram_received(self, data, addr): self.tr.sendto(data.upper(), addr)
    tr, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0)); addr = tr.get_extra_info("sockname")
    got = loop.create_future()
    class Cli(asyncio.DatagramProtocol):
        def datagram_received(self, data, a): got.set_result(data)
    ctr, _ = await loop.create_datagram_endpoint(Cli, remote_addr=addr); ctr.sendto(b"dgram"); print("udp endpoint", await asyncio.wait_for(got, 10)); ctr.close(); tr.close()
    procs = [await asyncio.create_subprocess_exec("sh", "-c", f"sleep 0.{i}; echo {i}", stdout=asyncio.subprocess.PIPE) for i in range(1, 5)]
    outs = await asyncio.gather(*(p.communicate() for p in procs)); print("parallel subprocesses", [o[0].decode().strip() for o in outs])
    p = await asyncio.create_subprocess_exec("sleep", "30"); p.terminate(); print("terminate", await p.wait())
    r, w = os.pipe(); got2 = loop.create_future(); loop.add_reader(r, lambda: got2.set_result(os.read(r, 10))); os.write(w, b"reader"); print("add_reader", await got2); loop.remove_reader(r)

if __name__ == "__main__":
    start_methods(); sockets_and_fds(); signals_and_timers(); asyncio.run(aio_more())
PYEOF
PYTHONDONTWRITEBYTECODE=1 python3 -u w2.py
