// Shared shape of the syscall conformance test files: compile
// test/conformance/c/<family>.c, then one test per section (`prog SECTION`)
// comparing native and sandboxed output, plus one run of every section in a
// statically linked build.
import { describe, it } from 'vitest';
import { compile, listSections } from '../helpers/compile.ts';
import { compareWithNative } from '../helpers/run.ts';

export interface FamilyOptions {
  /** Also run all sections with a -static build (one test). */
  static?: boolean;
  /** Per-section test timeouts in ms (default: the config's 60 s). */
  timeouts?: Record<string, number>;
  /** Test timeout for the static all-sections run (default 180 s). */
  staticTimeoutMs?: number;
}

export function conformanceFamily(family: string, opts: FamilyOptions = {}): void {
  const bin = compile(family);
  const sections = listSections(bin);
  describe(`conformance: ${family}`, () => {
    for (const section of sections) {
      const timeout = opts.timeouts?.[section] ?? 60_000;
      it(`${family}: ${section}`, { timeout }, async () => {
        await compareWithNative([bin, section], { cwd: '/', timeoutMs: timeout - 5_000 });
      });
    }
    if (opts.static) {
      const timeout = opts.staticTimeoutMs ?? 180_000;
      it(`${family}: all sections, static binary (slow)`, { timeout }, async () => {
        const sbin = compile(family, { static: true });
        await compareWithNative([sbin], { cwd: '/', timeoutMs: timeout - 10_000 });
      });
    }
  });
}
