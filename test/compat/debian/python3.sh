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
# OS interfaces: shared memory, subprocess options, rlimits, files and locks, signals and timers, sockets
cat > w3.py <<'PYEOF'
import os, sys, signal, time, socket, select, resource, shutil, tempfile, zipfile, sqlite3, subprocess, threading, errno, stat, fcntl, struct, io
from multiprocessing import shared_memory, get_context
d = tempfile.mkdtemp()
os.chdir(d)
# shared_memory
shm = shared_memory.SharedMemory(create=True, size=4096); shm.buf[:3] = b"shm"
def child(n):
    m = shared_memory.SharedMemory(name=n); m.buf[3:6] = b"abc"; m.close()
p = get_context("fork").Process(target=child, args=(shm.name,)); p.start(); p.join()
print("shared_memory", bytes(shm.buf[:6]), os.path.exists("/dev/shm/" + shm.name)); shm.close(); shm.unlink()
# subprocess options
r = subprocess.run(["sh", "-c", "ps -o sid= -p $$ 2>/dev/null || cut -d' ' -f6 /proc/$$/stat"], start_new_session=True, capture_output=True, text=True)
print("new session", r.returncode)
rfd, wfd = os.pipe(); os.set_inheritable(wfd, False)
r = subprocess.run(["sh", "-c", f"echo passed >&{wfd}"], pass_fds=(wfd,)); os.close(wfd); print("pass_fds", os.read(rfd, 100))
r = subprocess.run(["sh", "-c", "echo $PWD; umask"], cwd="/", preexec_fn=lambda: os.umask(0o077), capture_output=True, text=True); print("cwd/preexec", r.stdout.split())
# resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE); resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard)); print("rlimit", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
fds = []
try:
    while True: fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e: print("EMFILE", e.errno == errno.EMFILE, len(fds) > 200)
for f in fds: os.close(f)
ru = resource.getrusage(resource.RUSAGE_SELF); print("rusage", ru.ru_maxrss > 0)
print("cpu_count", os.cpu_count() >= 1, "affinity", len(os.sched_getaffinity(0)) >= 1, "loadavg", len(os.getloadavg()))
os.makedirs("tree/a/b"); open("tree/a/b/f", "w").write("x" * 1000); os.symlink("b/f", "tree/a/l")
shutil.make_archive("arch", "zip", "tree"); z = zipfile.ZipFile("arch.zip"); print("zip", sorted(z.namelist()))
shutil.copytree("tree", "tree2", symlinks=True); print("copytree", os.readlink("tree2/a/l"), os.path.getsize("tree2/a/b/f"))
shutil.rmtree("tree2"); print("rmtree", os.path.exists("tree2"))
open("linked", "w").write("tmp"); os.utime("linked", ns=(1_000_000_123, 2_000_000_456)); st = os.stat("linked"); print("utime ns", st.st_atime_ns, st.st_mtime_ns)
os.setxattr("linked", "user.k", b"v"); shutil.copy2("linked", "copied"); print("xattr", os.getxattr("copied", "user.k"), os.listxattr("copied"))
try: os.setxattr("fifo0", "user.k", b"v")
except OSError as e: print("xattr on missing", errno.errorcode[e.errno])
os.mkfifo("fifo"); print("fifo", stat.S_ISFIFO(os.stat("fifo").st_mode))
fd = os.open("linked", os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX); print("lockf ok"); 
pid = os.fork()
if pid == 0:
    try: fcntl.lockf(os.open("linked", os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB); os._exit(0)
    except OSError as e: os._exit(e.errno)
print("lockf conflict", errno.errorcode.get(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])))
print("fcntl getfl", fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDWR)
# sqlite via python
c = sqlite3.connect("p.db"); c.execute("create table t(x)"); c.executemany("insert into t values (?)", [(i,) for i in range(1000)]); c.commit(); print("sqlite3 module", c.execute("select sum(x) from t").fetchone())
# signals: alarm, SIGCHLD handler, sigtimedwait, setitimer virtual
got = []
signal.signal(signal.SIGALRM, lambda *a: got.append("alarm")); signal.alarm(1); time.sleep(1.5); print("alarm", got)
signal.signal(signal.SIGCHLD, lambda *a: got.append("chld")); subprocess.run(["true"]); time.sleep(0.1); print("sigchld", "chld" in got)
signal.signal(signal.SIGCHLD, signal.SIG_DFL)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1]); print("sigtimedwait timeout", signal.sigtimedwait([signal.SIGUSR1], 0.1))
signal.pthread_kill(threading.get_ident(), signal.SIGUSR1); i = signal.sigtimedwait([signal.SIGUSR1], 1); print("sigtimedwait", i.si_signo, i.si_code)
signal.setitimer(signal.ITIMER_VIRTUAL, 0.05); signal.signal(signal.SIGVTALRM, lambda *a: got.append("vt"))
t0 = time.process_time()
while "vt" not in got and time.process_time() - t0 < 5: sum(range(1000))
print("itimer virtual", "vt" in got)
# sockets: abstract unix, SO_PEERCRED, getaddrinfo localhost, v6 loopback, nonblocking connect, sendmsg/recvmsg
s = socket.socket(socket.AF_UNIX); s.bind("\0tsv-abstract"); s.listen(); c = socket.socket(socket.AF_UNIX); c.connect("\0tsv-abstract"); a, _ = s.accept()
cred = a.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")); print("peercred", struct.unpack("3i", cred)[0] == os.getpid(), struct.unpack("3i", cred)[1:])
print("getaddrinfo", sorted({x[4][0] for x in socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)}))
nb = socket.socket(); nb.setblocking(False); l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
try: nb.connect(l.getsockname())
except BlockingIOError: print("nonblocking connect EINPROGRESS")
select.select([], [nb], [], 5); print("connect result", nb.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
try: socket.create_connection(("127.0.0.1", 1), timeout=2)
except ConnectionRefusedError: print("ECONNREFUSED")
print("hostname nonempty", bool(socket.gethostname()))
print("done")
PYEOF
PYTHONDONTWRITEBYTECODE=1 python3 -u w3.py
