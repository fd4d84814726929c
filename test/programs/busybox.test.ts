// Real programs over a minimal rootfs: Debian's static busybox, run as
// `tsvisor do --root <busybox rootfs> -- /bin/busybox sh -c SCRIPT`, and
// natively as <rootfs>/bin/busybox with PATH pointing into the rootfs (so
// both sides run the very same binary and applets). Every script works in
// its own `mktemp -d` directory and prints nothing that depends on time,
// pids, inode numbers or owners.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { busyboxRootfs, nativeBusyboxPath } from '../helpers/rootfs.ts';
import { compareWithNative, type CompareOptions } from '../helpers/run.ts';

const root = busyboxRootfs();

function bb(script: string, opts: CompareOptions = {}) {
  return compareWithNative(['/bin/busybox', 'sh', '-c', script], {
    root,
    cwd: '/',
    ...opts,
    nativeArgv: [path.join(root, 'bin/busybox'), 'sh', '-c', script],
    native: { env: { PATH: nativeBusyboxPath(root), ...(opts.env ?? {}) }, ...(opts.native ?? {}) },
  });
}

const INTO_TMP = 'set -e; W=$(mktemp -d); trap \'cd /; rm -rf "$W"\' EXIT; cd "$W"\n';

describe('busybox: shell', () => {
  it('echo | tr prints HI', async () => {
    const { sandbox } = await bb('echo hi | tr a-z A-Z');
    expect(sandbox.stdout).toBe('HI\n');
  });

  it('pipelines', async () => {
    await bb(`
      echo hello world | tr a-z A-Z
      printf 'a\\nb\\nc\\n' | wc -l
      echo one two three | awk '{print $2}'
      seq 1 100 | awk '{s+=$1} END {print s}'
      seq 1 20000 | sort -rn | head -3
      echo abcdef | rev | cut -c2-4
      printf '3\\n1\\n2\\n' | sort | tr '\\n' ' '; echo
    `);
  });

  it('large data through pipes, and SIGPIPE to the writer', async () => {
    await bb(`
      yes | head -c 1000000 | wc -c
      seq 1 200000 | md5sum
      dd if=/dev/zero bs=4096 count=256 2>/dev/null | wc -c
      yes abc | head -n 3
    `);
  });

  it('redirections and here-documents', async () => {
    await bb(
      INTO_TMP +
        `
      echo x > f; echo y >> f; cat f
      cat < f | wc -c
      ls nope 2>err || echo "status $?"; cat err
      { echo a; echo b >&2; } 2>&1 | sort
      exec 3>g; echo via3 >&3; exec 3>&-; cat g
      cat <<EOF
here $((6*7)) \${PWD##*/tmp.*}
EOF
      cat <<'EOF'
literal $HOME
EOF
      : > f; wc -c < f
      echo tee | tee t1 t2 >/dev/null; cat t1 t2
      echo to-null > /dev/null; echo "null ok"
    `,
    );
  });

  it('subshells, functions, control flow and expansions', async () => {
    await bb(`
      x=outer; (x=inner; echo $x); echo $x
      echo $(echo a; echo b)
      f() { echo "f:$1"; return 3; }; f z; echo "rc=$?"
      for i in 1 2 3; do echo "i=$i"; done
      i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo "i=$i"
      case foo in f*) echo matched;; *) echo no;; esac
      true && echo and; false || echo or
      set -- a b c; echo "$# $2 $*"
      v=$(printf '%s-' x y z); echo "$v \${#v} \${v%-} \${v#x-}"
      sh -c 'exit 5'; echo "child rc=$?"
      (exit 7); echo "subshell rc=$?"
      echo "$(( (3 + 4) * 5 % 6 ))"
      [ -d / ] && [ ! -e /nonexistent ] && echo tests
      FOO=bar sh -c 'echo "env: $FOO"'
      trap 'echo trapped' EXIT
    `);
  });

  it('background jobs, wait and signals', async () => {
    await bb(`
      sleep 0.2 & p=$!; wait $p; echo "wait rc=$?"
      (sleep 0.1; echo bg) & wait; echo after
      sh -c 'kill -TERM $$'; echo "killed rc=$?"
      sh -c 'kill -KILL $$'; echo "killed rc=$?"
      sleep 5 & p=$!; kill $p; wait $p; echo "wait killed rc=$?"
      timeout 1 sleep 5; echo "timeout rc=$?"
    `);
  });

  it('exit status of the shell is propagated', async () => {
    const { sandbox } = await bb('echo before; exit 3');
    expect(sandbox.exitCode).toBe(3);
  });

  it('death of a shell by a signal is 128+n', async () => {
    // A child shell: the outer one is the sandbox's init, which ignores kill -9 from inside (Linux's
    // pid-namespace rule).
    const { sandbox } = await bb(`sh -c 'kill -9 $$'; exit $?`);
    expect(sandbox.exitCode).toBe(137);
  });

  it('stdin is connected', async () => {
    const input = Array.from({ length: 20000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const { sandbox } = await bb('wc -l; echo done', { input });
    expect(sandbox.stdout).toBe('20000\ndone\n');
    await bb('sort -r | head -2', { input: 'b\na\nc\n' });
  });
});

describe('busybox: files', () => {
  it('ls -la on a directory made inside the sandbox', async () => {
    await bb(
      INTO_TMP +
        `
      mkdir sub emptydir; echo hello > a.txt; printf 'xyz' > b.bin; chmod 600 b.bin
      ln -s a.txt link; ln a.txt hard; mkfifo fifo; chmod 751 sub; touch sub/inner
      ls -la | awk '
        $1 ~ /^l/ { print $1, $(NF-2), $(NF-1), $NF; next }
        $1 ~ /^[-p]/ { print $1, $2, $5, $NF; next }
        $1 ~ /^d/ && $NF != "." && $NF != ".." { print $1, $NF }'
      ls -1; ls -F; ls -R
      ls -d */; ls -a sub
    `,
    );
  });

  it('cp, mv, rm, ln, readlink, stat', async () => {
    await bb(
      INTO_TMP +
        `
      mkdir -p a/b/c; echo data > a/f
      cp a/f a/g; mv a/g a/b/h; cp -r a z; rm a/f; ls -R a z
      ln -s ../f a/b/rel; readlink a/b/rel; cat z/f
      cd a/b; pwd -P | sed 's,.*/,,'; cd ../..
      touch -d '2001-02-03 04:05:06' z/f; stat -c '%n %s %a %F %Y' z/f; stat -c '%n %s %a %F' z/b/h; stat -c '%n %a %F' z/b
      chmod 4755 z/f; stat -c '%a' z/f
      rm -r a; ls; [ ! -e a ] && echo gone
      mv z/b/h z/b/h2 && ls z/b
      realpath z/b/../f | sed 's,.*/tmp\\.[^/]*/,,'
    `,
    );
  });

  it('text tools: cat, wc, sort, uniq, grep, sed, awk, cut, head, tail', async () => {
    await bb(
      INTO_TMP +
        `
      printf 'banana 3\\napple 10\\ncherry 7\\napple 2\\nBanana 1\\n' > fruit
      cat -n fruit
      wc fruit; wc -l < fruit; wc -w fruit | cut -d' ' -f1
      sort fruit; sort -k2 -n fruit; sort -r -k1,1 -s fruit; sort -u -k1,1 fruit
      cut -d' ' -f1 fruit | sort | uniq -c
      grep -c apple fruit; grep -v apple fruit; grep -i banana fruit; grep -E 'an{1}a' fruit
      grep -o '[0-9]\\+' fruit | tr '\\n' ','; echo
      grep -n cherry fruit; grep -q nothing fruit || echo "grep rc=$?"
      sed 's/a/A/g' fruit; sed -n '2,3p' fruit; sed '/apple/d' fruit
      sed -i 's/cherry/CHERRY/' fruit; cat fruit
      awk '{ sum[$1] += $2 } END { for (k in sum) print k, sum[k] }' fruit | sort
      awk -F' ' 'NR % 2 == 1 { printf "%-8s|%5.2f\\n", $1, $2 / 3 }' fruit
      head -n 2 fruit; tail -n 2 fruit; tail -c 5 fruit
      tr 'a-z' 'A-Z' < fruit | tac
      printf 'abc\\001\\377' | od -c
      printf 'hello' | xxd
      seq 1 10 | xargs -n 3 echo
      expr 7 \\* 6; expr length hello
      printf '%s=%d\\n' a 1 b 2
      echo "a,b,,c" | awk -F, '{print NF}'
      date -u -d @0; date -u -d @1234567890 '+%Y-%m-%d %H:%M:%S %j %a'
      basename /x/y/z.txt .txt; dirname /x/y/z.txt
      echo "hello world" | md5sum; echo "hello world" | sha256sum
    `,
    );
  });

  it('find', async () => {
    await bb(
      INTO_TMP +
        `
      mkdir -p t/a/b t/c t/empty; touch t/a/one.txt t/a/b/two.txt t/c/three.log t/top.txt
      ln -s a t/link; echo 123456789 > t/c/big
      find t | sort
      find t -type f | sort
      find t -type d | sort
      find t -type l
      find t -name '*.txt' | sort
      find t -maxdepth 1 | sort
      find t -mindepth 2 -type f | sort
      find t -empty | sort
      find t -size +0 -type f
      find t -path '*a/b*' | sort
      find t -name '*.log' -exec echo found {} \\;
      find t -type f -name '*.txt' | xargs -n1 basename | sort
      find -L t -name two.txt | sort
      find t -newer t/top.txt -name nothing; echo "find rc=$?"
    `,
    );
  });

  it('tar + gzip round trip (slow)', { timeout: 120_000 }, async () => {
    await bb(
      INTO_TMP +
        `
      mkdir -p src/d1/d2 src/emptydir
      for i in 1 2 3; do seq 1 $((i*3000)) > src/d1/f$i; done
      echo hi > src/d1/d2/deep; ln -s d1/f1 src/link
      dd if=/dev/urandom of=src/rand bs=1024 count=64 2>/dev/null
      chmod 640 src/d1/f2; chmod 700 src/d1/d2
      tar czf a.tgz -C src .
      gzip -t a.tgz && echo "gzip -t ok"
      mkdir dst; tar xzf a.tgz -C dst
      diff -r src dst && echo "diff -r: same"
      for f in d1/f1 d1/f2 d1/f3 d1/d2/deep rand; do cmp src/$f dst/$f && echo "cmp $f: same"; done
      readlink dst/link
      stat -c '%a %n' dst/d1/f2 dst/d1/d2 dst/emptydir
      tar tzf a.tgz | sort
      gzip -c src/d1/f3 > f3.gz; gunzip -c f3.gz | cmp - src/d1/f3 && echo "gzip round trip: same"
      gzip -9 src/d1/f2; ls src/d1; gunzip src/d1/f2.gz; cmp src/d1/f2 dst/d1/f2 && echo "gunzip in place: same"
      tar cf - -C src d1 | tar tf - | sort
      md5sum < src/d1/f3
      bzip2 -c src/d1/f1 | bunzip2 -c | cmp - src/d1/f1 && echo "bzip2 round trip: same"
    `,
      { timeoutMs: 110_000 },
    );
  });
});
