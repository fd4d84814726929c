// Runs once per `vitest run`, in the main process: builds the shared
// busybox rootfs in a fresh scratch directory and hands its path to the
// test files (inject('busyboxRootfs')); removes it all at the end.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildBusyboxRootfs } from './rootfs-build.ts';

let scratch: string | undefined;

export default function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-test-run-'));
  scratch = dir;
  const rootfs = buildBusyboxRootfs(path.join(dir, 'rootfs-busybox'));
  project.provide('scratchDir', dir);
  project.provide('busyboxRootfs', rootfs);
  return () => {
    if (scratch && !process.env.TSVISOR_TEST_KEEP) fs.rmSync(scratch, { recursive: true, force: true });
  };
}
