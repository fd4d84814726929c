#!/usr/bin/env node
// Runs a workload under `tsvisor --debug-log FILE do …` and reports the syscalls it used that the
// Sentry does not implement (ENOSYS, "unimplemented syscall" lines) or implements only partly
// (--strace lines of syscalls the table marks partial), with counts.
//
//   node test/compat/gaps.mjs [--root DIR] [--strace] -- CMD ARGS…
//   node test/compat/gaps.mjs --cpython test_os test_posix …   (each module as the workload)
//   node test/compat/gaps.mjs --debian [bash python3 …]          (the Debian workloads, all by default,
//                                                               over the rootfs of rootfs.sh)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function partialNames() {
  try {
    const { buildSyscallTable } = await import(join(repo, 'dist/src/kernel/syscalls/table.js'));
    return new Set(buildSyscallTable().filter((d) => d && d.support === 'partial').map((d) => d.name));
  } catch {
    return new Set();
  }
}

/** Unimplemented syscalls named in a kernel debug log (`--debug-log`), with how often they appear. */
export function unimplementedIn(text) {
  const found = new Map();
  for (const m of text.matchAll(/unimplemented syscall (\w+) \((\d+)\)/g)) found.set(m[1], (found.get(m[1]) ?? 0) + 1);
  return found;
}

export function runWorkload(cmd, { root, strace = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tsvisor-gaps-'));
  const log = join(dir, 'debug.log');
  const args = [join(repo, 'bin/tsvisor.js'), '--debug-log', log, ...(strace ? ['--strace'] : []), 'do', ...(root ? ['--root', root] : []), '--', ...cmd];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28, cwd: '/tmp', timeout: 900_000 });
  let text = '';
  try { text = readFileSync(log, 'utf8'); } catch { /* no log */ }
  rmSync(dir, { recursive: true, force: true });
  const unimplemented = unimplementedIn(text);
  const used = new Map();
  if (strace) {
    for (const line of (r.stderr + '\n' + text).split('\n')) {
      const m = /^\[?\s*\d*\]?\s*(\w+)\(/.exec(line.replace(/^.*?\]\s*/, ''));
      if (m) used.set(m[1], (used.get(m[1]) ?? 0) + 1);
    }
  }
  return { status: r.status, unimplemented, used };
}

async function main() {
  const argv = process.argv.slice(2);
  let root; let strace = false; let cpython = false; let debian = false;
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root') root = argv[++i];
    else if (a === '--strace') strace = true;
    else if (a === '--cpython') cpython = true;
    else if (a === '--debian') debian = true;
    else if (a === '--') { rest.push(...argv.slice(i + 1)); break; } else rest.push(a);
  }
  if (!rest.length && !debian) {
    console.error('usage: gaps.mjs [--root DIR] [--strace] -- CMD… | gaps.mjs --cpython MODULE… | gaps.mjs --debian [NAME…]');
    process.exit(2);
  }
  let workloads;
  if (debian) {
    const { WORKLOADS, script } = await import('./debian-workloads.mjs');
    root ??= process.env.TSVISOR_DEBIAN_ROOTFS ?? '/var/cache/tsvisor-test/debian-rootfs';
    workloads = WORKLOADS.filter((w) => !rest.length || rest.includes(w.name))
      .map((w) => ({ name: w.name, cmd: ['/bin/bash', '-c', script(w)] }));
  } else if (cpython) {
    workloads = rest.map((m) => ({ name: m, cmd: ['/usr/bin/python3', '-m', 'test', m] }));
  } else {
    workloads = [{ name: rest.join(' '), cmd: rest }];
  }
  const partial = await partialNames();
  const total = new Map();
  const totalPartial = new Map();
  for (const w of workloads) {
    const r = runWorkload(w.cmd, { root, strace });
    const names = [...r.unimplemented.keys()].sort();
    console.log(`${w.name}: exit ${r.status}; unimplemented: ${names.length ? names.join(', ') : 'none'}`);
    for (const n of names) total.set(n, [...(total.get(n) ?? []), w.name]);
    for (const [n, c] of r.used) if (partial.has(n)) totalPartial.set(n, (totalPartial.get(n) ?? 0) + c);
  }
  console.log('\n| unimplemented syscall | used by |');
  console.log('|---|---|');
  for (const [n, ws] of [...total].sort()) console.log(`| ${n} | ${ws.join(', ')} |`);
  if (strace) {
    console.log('\n| partial syscall | calls |');
    console.log('|---|---|');
    for (const [n, c] of [...totalPartial].sort()) console.log(`| ${n} | ${c} |`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
