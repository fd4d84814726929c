// CI smoke test of the benchmark harness: `node benchmarks/run.mjs --quick` must produce a number for
// every backend that is available here × every workload of the quick set. Timings are never checked.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.ts';

interface Backend {
  id: string;
  status: 'ok' | 'unavailable' | 'hangs' | 'failed';
  reason?: string;
  /** Only these workloads apply to the backend (absent: all). */
  workloads?: string[];
}
interface Cell {
  workload: string;
  backend: string;
  placement: string;
  median?: number;
  errors?: string[];
}
interface Doc {
  quick: boolean;
  machine: { nproc: number; uname: string };
  versions: Record<string, unknown>;
  backends: Backend[];
  workloads: { id: string }[];
  options: { placements: string[] };
  results: Cell[];
}

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-bench-test-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

describe('benchmarks: --quick', () => {
  it('runs every available backend on every quick workload and writes JSON, Markdown and SVG', () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'benchmarks', 'run.mjs'), '--quick', '--out', out], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 540_000,
    });
    const files = fs.readdirSync(out);
    const json = files.find((f) => f.endsWith('.json'));
    expect(json, `no results JSON; stderr:\n${r.stderr}`).toBeDefined();
    const doc = JSON.parse(fs.readFileSync(path.join(out, json!), 'utf8')) as Doc;
    expect(doc.quick).toBe(true);
    expect(doc.machine.nproc).toBeGreaterThan(0);
    expect(doc.workloads.length).toBeGreaterThan(0);

    const status = Object.fromEntries(doc.backends.map((b) => [b.id, b]));
    // Our own backends must run here (kvm where /dev/kvm exists); the others may be missing or
    // broken on a given host (runsc's kvm platform hangs on PVM-based KVM), which is reported.
    expect(status['native']?.status).toBe('ok');
    expect(status['tsvisor-ptrace']?.status, status['tsvisor-ptrace']?.reason).toBe('ok');
    expect(status['tsvisor-oci']?.status, status['tsvisor-oci']?.reason).toBe('ok');
    if (fs.existsSync('/dev/kvm')) expect(status['tsvisor-kvm']?.status, status['tsvisor-kvm']?.reason).toBe('ok');

    const missing: string[] = [];
    for (const b of doc.backends.filter((x) => x.status === 'ok'))
      for (const w of doc.workloads.filter((x) => !b.workloads || b.workloads.includes(x.id)))
        for (const p of doc.options.placements) {
          const c = doc.results.find((x) => x.backend === b.id && x.workload === w.id && x.placement === p);
          if (!c || typeof c.median !== 'number' || !Number.isFinite(c.median))
            missing.push(`${w.id} on ${b.id} (${p}): ${c?.errors?.join('; ') ?? 'not run'}`);
        }
    expect(missing, 'cells without a number').toEqual([]);
    expect(r.status, r.stderr).toBe(0);

    const base = json!.replace(/\.json$/, '');
    expect(files).toContain(`${base}.md`);
    for (const w of doc.workloads) {
      const svg = fs.readFileSync(path.join(out, `${base}-${w.id}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    }
  }, 600_000);
});
