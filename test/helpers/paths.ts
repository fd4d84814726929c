// Well-known locations, resolved relative to this file so the suite works
// from any cwd and from a fresh clone.
import { fileURLToPath } from 'node:url';

/** Repository root (the directory holding package.json). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

/** The CLI under test. */
export const TSVISOR_BIN = fileURLToPath(new URL('../../bin/tsvisor.js', import.meta.url));

/** Where compiled test programs go (git-ignored). */
export const BUILD_DIR = fileURLToPath(new URL('../.build/', import.meta.url)).replace(/\/$/, '');

/** C sources of the conformance programs (and check.h). */
export const CONFORMANCE_C_DIR = fileURLToPath(new URL('../conformance/c/', import.meta.url)).replace(
  /\/$/,
  '',
);

/** Debian's busybox-static. */
export const HOST_BUSYBOX = '/bin/busybox';

/** Debian's Python (not the pyenv shim that may come first on PATH). */
export const HOST_PYTHON = '/usr/bin/python3';
