/**
 * AF_UNIX names (unix(7)): filesystem paths (a socket inode made by bind, looked up by its dev:ino so
 * that renames and hard links keep working), abstract names ('\0…', in the stack's table, gone with the
 * socket) and autobind (a 5-hex-digit abstract name, as Linux's unix_autobind).
 */
import { Errno, SysError, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import { AT_FDCWD, S_IFMT, S_IFSOCK } from '../vfs/constants.js';
import { AF_UNIX } from './constants.js';
import type { SockAddr } from './sockaddr.js';
import type { Bindable, NetStack } from './stack.js';

/** The key of the socket inode at `path` (ECONNREFUSED if it is not a socket). */
function unixKey(t: Task, path: string): string {
  const st = t.kernel.vfs.stat(t, AT_FDCWD, path, true, false);
  if ((st.mode & S_IFMT) !== S_IFSOCK) fail(Errno.ECONNREFUSED);
  return `${st.dev}:${st.ino}`;
}

let autobindCounter = 0;

/** Give `s` an abstract autobind name; returns it. */
export function autobindUnix(stack: NetStack, s: Bindable): SockAddr {
  let name: string;
  do name = '\0' + (autobindCounter++ & 0xfffff).toString(16).padStart(5, '0');
  while (stack.unixAbstract.has(name));
  stack.unixAbstract.set(name, s);
  return { family: AF_UNIX, path: name };
}

/**
 * Bind `s` to `a`: an empty name autobinds; an abstract name must be free (EADDRINUSE); a path gets a
 * socket inode (EADDRINUSE if the path exists). Returns the bound address.
 */
export function bindUnix(t: Task, stack: NetStack, s: Bindable, a: SockAddr): SockAddr {
  const p = a.path ?? '';
  if (p === '') return autobindUnix(stack, s);
  if (p[0] === '\0') {
    if (stack.unixAbstract.has(p)) fail(Errno.EADDRINUSE);
    stack.unixAbstract.set(p, s);
  } else {
    try {
      t.kernel.vfs.mknod(t, AT_FDCWD, p, S_IFSOCK | 0o777, 0);
    } catch (e) {
      if (e instanceof SysError && e.errno === Errno.EEXIST) fail(Errno.EADDRINUSE);
      throw e;
    }
    stack.unixPaths.set(unixKey(t, p), s);
  }
  return { family: AF_UNIX, path: p };
}

/** The socket bound at `a` (EINVAL for an empty name; ECONNREFUSED for a path that is no socket). */
export function findUnix(t: Task, stack: NetStack, a: SockAddr): Bindable | undefined {
  const p = a.path ?? '';
  if (p === '') fail(Errno.EINVAL);
  if (p[0] === '\0') return stack.unixAbstract.get(p);
  return stack.unixPaths.get(unixKey(t, p));
}

/** Drop `s`'s name from the tables (its path inode stays, as on Linux). */
export function unbindUnix(stack: NetStack, s: Bindable, a: SockAddr): void {
  if (!a.path) return;
  if (a.path[0] === '\0') {
    if (stack.unixAbstract.get(a.path) === s) stack.unixAbstract.delete(a.path);
  } else {
    for (const [k, v] of stack.unixPaths) if (v === s) stack.unixPaths.delete(k);
  }
}
