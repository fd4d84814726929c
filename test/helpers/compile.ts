// Compile the C test programs with the host gcc, caching by mtime.
//
//   compile('file')                      test/conformance/c/file.c → test/.build/file
//   compile('file', { static: true })    … → test/.build/file-static
//   compile('escape', { src: '/abs/path/escape.c' })
//
// A binary is rebuilt when it is older than its source or than any header
// in the source's directory, or when the flags changed. Builds go to a
// temporary name and are renamed into place, so parallel workers never see
// a half-written binary.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILD_DIR, CONFORMANCE_C_DIR } from './paths.ts';

export interface CompileOptions {
  /** Link with -static (no PT_INTERP, non-PIE). */
  static?: boolean;
  /** Absolute path of the source; default test/conformance/c/<name>.c. */
  src?: string;
  /** Extra gcc flags (appended). */
  flags?: string[];
}

function mtimeMs(p: string): number {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

export function binaryPath(name: string, opts: CompileOptions = {}): string {
  return path.join(BUILD_DIR, opts.static ? `${name}-static` : name);
}

export function compile(name: string, opts: CompileOptions = {}): string {
  const src = opts.src ?? path.join(CONFORMANCE_C_DIR, `${name}.c`);
  if (!fs.existsSync(src)) throw new Error(`compile: no source ${src}`);
  const out = binaryPath(name, opts);
  const flags = ['-O1', '-Wall', ...(opts.static ? ['-static'] : []), ...(opts.flags ?? [])];
  const flagsFile = `${out}.flags`;
  const srcDir = path.dirname(src);
  const deps = [src, ...fs.readdirSync(srcDir).filter((f) => f.endsWith('.h')).map((f) => path.join(srcDir, f))];
  const newestDep = Math.max(...deps.map(mtimeMs));
  const outTime = mtimeMs(out);
  let sameFlags = false;
  try {
    sameFlags = fs.readFileSync(flagsFile, 'utf8') === flags.join(' ');
  } catch {
    sameFlags = false;
  }
  if (outTime >= newestDep && sameFlags) return out;

  fs.mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const args = [...flags, '-o', tmp, src];
  const r = spawnSync('gcc', args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`compile ${name}: cannot run gcc: ${r.error.message}`);
  if (r.status !== 0) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* ignore */
    }
    throw new Error(`compile ${name}: gcc ${args.join(' ')} failed (status ${r.status}):\n${r.stderr}`);
  }
  fs.renameSync(tmp, out);
  fs.writeFileSync(`${flagsFile}.tmp-${process.pid}`, flags.join(' '));
  fs.renameSync(`${flagsFile}.tmp-${process.pid}`, flagsFile);
  return out;
}

/** Section names of a conformance program (`prog --list`). */
export function listSections(bin: string): string[] {
  const r = spawnSync(bin, ['--list'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${bin} --list failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}
