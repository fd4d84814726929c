// Real programs over the host's root (`tsvisor do -- CMD`, read-only host /
// with an in-memory writable overlay), compared with native runs of the
// same commands: dash, bash, coreutils, Debian's python3.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOST_PYTHON } from '../helpers/paths.ts';
import { removeTree, tempDir } from '../helpers/rootfs.ts';
import { compareWithNative, runSandbox } from '../helpers/run.ts';

const sh = (script: string) => ['/bin/sh', '-c', script];
const bash = (script: string) => ['/bin/bash', '-c', script];
const py = (code: string) => [HOST_PYTHON, '-c', code];

// Scripts that need a scratch directory make their own and remove it.
const INTO_TMP = 'set -e; d=$(mktemp -d); trap \'cd /; rm -rf "$d"\' EXIT; cd "$d"\n';

describe('host root: shell', () => {
  it("/bin/sh -c 'echo hi | tr a-z A-Z' prints HI", async () => {
    const { sandbox } = await compareWithNative(sh('echo hi | tr a-z A-Z'));
    expect(sandbox.stdout).toBe('HI\n');
    expect(sandbox.exitCode).toBe(0);
  });

  it("sh -c 'exit 7' exits with status 7", async () => {
    const { sandbox } = await compareWithNative(['sh', '-c', 'exit 7']);
    expect(sandbox.exitCode).toBe(7);
  });

  it('death by signal n gives 128+n', async () => {
    // A child's death: the command itself is the sandbox's init, which (as any pid-namespace init)
    // ignores signals it has no handler for, even from itself.
    const { sandbox } = await compareWithNative(sh(`sh -c 'kill -TERM $$'; exit $?`));
    expect(sandbox.exitCode).toBe(143);
    const segv = await compareWithNative(sh(`sh -c 'kill -SEGV $$'; exit $?`));
    expect(segv.sandbox.exitCode).toBe(139);
  });

  it('stdin, stdout and stderr are connected', async () => {
    const input = 'x'.repeat(1 << 20);
    const { sandbox } = await compareWithNative(sh('wc -c; echo to-stderr >&2'), { input, compareStderr: true });
    expect(sandbox.stdout.trim()).toBe(String(1 << 20));
    expect(sandbox.stderr).toBe('to-stderr\n');
  });

  it('the working directory is --cwd', async () => {
    const { sandbox } = await compareWithNative(['/bin/pwd'], { cwd: '/usr/share' });
    expect(sandbox.stdout).toBe('/usr/share\n');
  });

  it('non-ASCII arguments and environment arrive UTF-8 encoded', async () => {
    const { sandbox } = await compareWithNative(sh('printf "%s" "$X" | od -An -tx1'), {
      env: { X: 'ü日本' },
    });
    expect(sandbox.stdout.trim()).toBe('c3 bc e6 97 a5 e6 9c ac');
    const args = await compareWithNative(['/bin/echo', 'é', 'naïve ß']);
    expect(args.sandbox.stdout).toBe('é naïve ß\n');
  });

  it('bash: loops, functions, command substitution, pipelines, arrays', async () => {
    await compareWithNative(
      bash(`
        set -euo pipefail
        fib() { local n=$1; if (( n < 2 )); then echo "$n"; else echo $(( $(fib $((n-1))) + $(fib $((n-2))) )); fi; }
        echo "fib 8 = $(fib 8)"
        arr=(one two three); echo "\${#arr[@]} \${arr[1]}"; for x in "\${arr[@]}"; do echo "- $x"; done
        declare -A m=([a]=1 [b]=2); echo "m[b]=\${m[b]} keys=$(printf '%s\\n' "\${!m[@]}" | sort | tr '\\n' ' ')"
        s="Hello World"; echo "\${s,,} \${s^^} \${s/World/There} \${s:6:3}"
        read -r a b <<< "x y"; echo "$b$a"
        printf '%05d|%-4s|%x|%s\\n' 42 ab 255 "$(date -u -d @86400 +%F)"
        [[ "abc" =~ ^a(b)c$ ]] && echo "match \${BASH_REMATCH[1]}"
        echo $(( 2**10 )) $(( 17 % 5 )) $(( -7 / 2 ))
        seq 1 5 | paste -sd, -; echo "pipestatus \${PIPESTATUS[*]}"
        for ((i = 0; i < 3; i++)); do echo -n "$i "; done; echo
        total=0; while read -r n; do total=$((total + n)); done <<< "$(seq 1 100)"; echo "total=$total"
        case "$BASH_VERSION" in [0-9]*) echo version-ok;; esac
        f() { return 4; }; f || echo "f rc=$?"
        out=$( { echo out; echo err >&2; } 2>&1 ); echo "$out" | sort | tr '\\n' ' '; echo
        shopt -s nullglob; files=(/nonexistent/*); echo "nullglob \${#files[@]}"
        trap 'echo "exit trap"' EXIT
      `),
    );
  });

  it('bash: process substitution and /dev/fd', async () => {
    await compareWithNative(
      bash(`
        diff <(seq 1 3) <(seq 1 3) && echo same
        while read -r l; do echo "got $l"; done < <(printf 'a\\nb\\n')
        exec 5< <(echo from-fd-5); cat <&5
        cat /dev/fd/0 <<< "via /dev/fd/0"
      `),
    );
  });

  it('bash: background jobs, wait, traps and kill', async () => {
    await compareWithNative(
      bash(`
        sleep 0.2 & p=$!; wait $p; echo "wait=$?"
        ( sleep 5 ) & p=$!; kill -TERM $p; wait $p || echo "killed=$?"
        trap 'echo got USR1' USR1; kill -USR1 $$; echo after
        for i in 1 2 3; do ( echo "job $i" ) & done; wait
        coproc cat; echo "to coproc" >&"\${COPROC[1]}"; exec {COPROC[1]}>&-; read -r l <&"\${COPROC[0]}"; echo "$l"; wait
      `),
      { normalize: (s) => s.split('\n').sort().join('\n') },
    );
  });
});

describe('host root: coreutils', () => {
  it('ls, cp, mv, rm, mkdir, ln, stat', async () => {
    await compareWithNative(
      sh(
        INTO_TMP +
          `
        mkdir -p a/b/c; echo hello > a/f; cp a/f a/g; mv a/g a/h; rm a/f; ln -s h a/link; ln a/h a/hard
        cp -a a copy; rm -r copy/b; mv copy moved
        ls -R . | sed 's,^\\./,,'
        ls -l --time-style=+ a | awk 'NR > 1 && $1 !~ /^d/ { print $1, $2, $5, $NF }'
        ls -1a a; ls -F a; ls -d a/*/
        stat -c '%n %s %a %F %h' a/h a/link a/hard; stat -L -c '%n %s %F' a/link; stat -c '%n %a %F' a/b
        touch -d '2001-02-03 04:05:06 UTC' a/h; stat -c '%n %Y %y' a/h
        chmod 751 a/b; chmod u+s,g-r a/h; stat -c '%n %a %A' a/b a/h
        readlink a/link; readlink -f a/link | sed 's,.*/,,'
        mkdir -m 700 private; stat -c '%a' private
        rmdir a/b/c; rm -rf a; ls
        install -m 640 /dev/null inst; stat -c '%a %s' inst
        truncate -s 10k sparse; stat -c '%s' sparse; wc -c < sparse
      `,
      ),
    );
  });

  it('seq, sort, sha256sum, md5sum, date, wc, tr, head, tail, cut, tac, od', async () => {
    await compareWithNative(
      sh(`
        seq 1 5; seq -s, 0 3 12; seq -w 8 11
        seq 1 1000 | sort -R --random-source=/dev/zero | sort -n | tail -3
        printf 'b 2\\na 10\\nc 1\\n' | sort -k2,2n
        seq 1 100000 | sha256sum; printf x | sha256sum; seq 1 1000 | md5sum
        date -d @0 -u; date -u -d '2020-02-29 12:00' '+%j %A %s'; date -u -d @1700000000 --iso-8601=seconds
        seq 1 20 | head -3; seq 1 20 | tail -2; seq 1 20 | wc -l
        echo 'a:b:c' | cut -d: -f2-; echo hello | tr a-z A-Z; seq 3 | tac
        printf 'AB\\001' | od -An -tx1
        echo "scale=5; 4*a(1)" | (command -v bc >/dev/null && bc -l || echo 3.14156)
        factor 360; expr 6 \\* 7; basename /a/b/c.txt .txt; dirname /a/b/c.txt
        printf '%s\\n' one two three | nl
        yes | head -5 | uniq -c
        numfmt --to=iec 1048576 2>/dev/null || echo 1.0M
        getconf PAGESIZE; nproc >/dev/null && echo nproc-ok
        id -u >/dev/null && echo id-ok
        env -i FOO=bar /usr/bin/env
      `),
    );
  });

  it('a large directory of the host is listed identically', async () => {
    await compareWithNative(
      sh('ls -la /usr/bin | awk \'NR > 1 && $9 != "." && $9 != ".." { print $1, $5, $9, $10, $11 }\' | md5sum; ls /usr/lib/x86_64-linux-gnu | wc -l'),
    );
  });

  it('host files read identically', async () => {
    await compareWithNative(sh('cat /etc/os-release; sha256sum /usr/bin/ls /bin/busybox; head -c 1000 /usr/share/common-licenses/GPL-3 | md5sum'));
  });

  it('find over a host tree', async () => {
    await compareWithNative(sh('find /usr/share/common-licenses /etc/apt -maxdepth 2 | sort; find /usr/lib/python3.11/json -name "*.py" | sort'));
  });
});

describe('host root: python3', () => {
  it('json, os, hashlib', async () => {
    const { sandbox } = await compareWithNative(
      py(`
import hashlib, json, os, shutil, sys, tempfile
print(json.dumps({"b": [1, 2.5, None, True], "a": "x\\u00e9"}, sort_keys=True))
print(json.loads('{"k": [1, {"n": null}]}')["k"][1])
print(hashlib.sha256(b"x").hexdigest())
print(hashlib.md5(b"abc" * 100000).hexdigest(), hashlib.sha1(b"").hexdigest())
d = tempfile.mkdtemp()
for n in ["b", "a", "c"]:
    with open(os.path.join(d, n), "w") as f:
        f.write(n * 3)
print(sorted(os.listdir(d)), os.path.getsize(os.path.join(d, "a")))
os.rename(os.path.join(d, "a"), os.path.join(d, "z"))
os.mkdir(os.path.join(d, "sub"), 0o750)
st = os.stat(os.path.join(d, "sub"))
print(sorted(os.listdir(d)), oct(st.st_mode & 0o777))
print(sorted((e.name, e.is_dir()) for e in os.scandir(d)))
shutil.rmtree(d)
print(os.path.exists(d))
os.chdir("/usr/share"); print(os.getcwd())
print(os.environ.get("LC_ALL"), sys.version_info[:2], sys.executable)
print(os.getpid() > 0, os.getppid() >= 0, os.cpu_count() > 0)
print(int.from_bytes(os.urandom(4), "little") >= 0)
`),
    );
    expect(sandbox.stdout).toContain('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
  });

  it('hashlib.sha256(b"x") equals native', async () => {
    const { sandbox } = await compareWithNative(py('import hashlib; print(hashlib.sha256(b"x").hexdigest())'));
    expect(sandbox.stdout).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n');
  });

  it('subprocess: run echo and capture its output', async () => {
    const { sandbox } = await compareWithNative(
      py(`
import subprocess
print(subprocess.run(["echo", "hi from echo"], capture_output=True, text=True).stdout, end="")
print(subprocess.check_output(["sh", "-c", "echo $((6*7))"], text=True), end="")
r = subprocess.run(["sh", "-c", "echo err >&2; exit 3"], capture_output=True, text=True)
print(r.returncode, repr(r.stderr))
p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out, _ = p.communicate(b"through cat\\n" * 1000)
print(len(out), p.returncode)
print(subprocess.run(["sh", "-c", "kill -9 $$"]).returncode)
`),
    );
    expect(sandbox.stdout.startsWith('hi from echo\n42\n')).toBe(true);
  });

  it('threads, multiprocessing-style fork, and signals', { timeout: 90_000 }, async () => {
    await compareWithNative(
      py(`
import os, signal, threading, queue, time
q = queue.Queue()
def work(n):
    q.put(sum(i * i for i in range(n)))
ts = [threading.Thread(target=work, args=(10000 * (k + 1),)) for k in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(sorted(q.get() for _ in range(4)))
lock = threading.Lock(); counter = [0]
def inc():
    for _ in range(1000):
        with lock: counter[0] += 1
ts = [threading.Thread(target=inc) for _ in range(4)]
for t in ts: t.start()
for t in ts: t.join()
print(counter[0])
pid = os.fork()
if pid == 0:
    os._exit(9)
print(os.waitpid(pid, 0)[1] >> 8)
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print(got)
signal.setitimer(signal.ITIMER_REAL, 0.05)
signal.signal(signal.SIGALRM, lambda s, f: got.append(s))
time.sleep(0.3)
print(got)
r, w = os.pipe()
os.write(w, b"pipe data")
print(os.read(r, 100))
`),
      { timeoutMs: 85_000 },
    );
  });
});

describe('host root: isolation', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeTree));

  it('files written inside `do` never appear on the host', async () => {
    const d = tempDir('tsvisor-host-');
    dirs.push(d);
    fs.writeFileSync(path.join(d, 'keep.txt'), 'original keep\n');
    fs.writeFileSync(path.join(d, 'mod.txt'), 'original mod\n');
    fs.chmodSync(path.join(d, 'mod.txt'), 0o644);
    const fresh = `/tmp/tsvisor-inside-${process.pid}-${Date.now()}`;
    const r = await runSandbox(
      sh(`set -e
        cd '${d}'
        echo secret > inside.txt; cat inside.txt
        mkdir sub; touch sub/x
        echo changed > mod.txt; cat mod.txt; chmod 600 mod.txt
        rm keep.txt; test ! -e keep.txt && echo removed
        ln -s /etc/passwd lnk; mv mod.txt moved.txt
        ls
        mkdir -p '${fresh}/deep'; echo x > '${fresh}/deep/f'; cat '${fresh}/deep/f'
        echo ok`),
    );
    expect(r.stdout, r.stderr).toBe('secret\nchanged\nremoved\ninside.txt\nlnk\nmoved.txt\nsub\nx\nok\n');
    expect(r.exitCode).toBe(0);
    expect(fs.readdirSync(d).sort()).toEqual(['keep.txt', 'mod.txt']);
    expect(fs.readFileSync(path.join(d, 'keep.txt'), 'utf8')).toBe('original keep\n');
    expect(fs.readFileSync(path.join(d, 'mod.txt'), 'utf8')).toBe('original mod\n');
    expect(fs.statSync(path.join(d, 'mod.txt')).mode & 0o777).toBe(0o644);
    expect(fs.existsSync(fresh)).toBe(false);
  });

  it('each `do` starts from a clean overlay', async () => {
    const p = `/tmp/tsvisor-overlay-${process.pid}-${Date.now()}`;
    const a = await runSandbox(sh(`echo one > ${p}; cat ${p}`));
    expect(a.stdout, a.stderr).toBe('one\n');
    expect(a.exitCode).toBe(0);
    const b = await runSandbox(sh(`test -e ${p} && echo leaked || echo clean`));
    expect(b.stdout, b.stderr).toBe('clean\n');
    expect(b.exitCode).toBe(0);
    expect(fs.existsSync(p)).toBe(false);
  });

  it('deleting a host file inside only hides it in the overlay', async () => {
    const d = tempDir('tsvisor-host-');
    dirs.push(d);
    fs.mkdirSync(path.join(d, 'tree/sub'), { recursive: true });
    fs.writeFileSync(path.join(d, 'tree/sub/file'), 'data\n');
    const r = await runSandbox(sh(`rm -rf '${d}/tree' && test ! -e '${d}/tree' && echo gone; ls -A '${d}'; mkdir '${d}/tree'; ls -A '${d}/tree'; echo done`));
    expect(r.stdout, r.stderr).toBe('gone\ndone\n');
    expect(r.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(d, 'tree/sub/file'), 'utf8')).toBe('data\n');
  });
});

describe('host root: CLI options', () => {
  it('--platform ptrace runs a command', async () => {
    const { sandbox } = await compareWithNative(sh('echo platform-ok'), { platform: 'ptrace' });
    expect(sandbox.stdout).toBe('platform-ok\n');
  });

  it('--strace traces syscalls without changing stdout', async () => {
    const { sandbox } = await compareWithNative(['/bin/echo', 'traced'], { strace: true });
    expect(sandbox.stdout).toBe('traced\n');
    expect(sandbox.stderr).toMatch(/\b(write|execve|exit_group)\b/);
  });
});
