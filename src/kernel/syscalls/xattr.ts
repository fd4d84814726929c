/**
 * Extended attributes (xattr(7), getxattr(2), setxattr(2), listxattr(2), removexattr(2)) and their
 * l* (no symlink following) and f* (open file) forms. Names are "namespace.name", 1..255 bytes
 * (ERANGE otherwise); values at most 64 KiB (E2BIG). The namespace rules of fs/xattr.c
 * xattr_permission: user.* only on regular files and directories (others: EPERM to change, ENODATA
 * to read), needing read or write permission (EACCES); trusted.* only for CAP_SYS_ADMIN (EPERM to
 * change, invisible and ENODATA otherwise); changing security.* needs CAP_SYS_ADMIN (commoncap).
 * Changes need a writable mount (EROFS). Which namespaces are stored is the filesystem's business
 * (tmpfs: user, trusted, security; EOPNOTSUPP for the rest).
 */
import { Errno, fail } from '../errno.js';
import type { Task } from '../task/task.js';
import { AT_FDCWD, PATH_MAX, R_OK, S_IFDIR, S_IFREG, S_ISVTX, W_OK } from '../vfs/constants.js';
import type { Location } from '../vfs/dentry.js';
import { PathFile } from '../vfs/file.js';
import type { Inode } from '../vfs/inode.js';
import { checkAccess, isOwnerOrRoot } from '../vfs/perm.js';
import { CAP_SYS_ADMIN } from '../task/creds.js';
import { fileOf } from './file.js';
import type { SyscallDef } from './types.js';

const XATTR_CREATE = 1, XATTR_REPLACE = 2;
const XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536, XATTR_LIST_MAX = 65536;

type How = 'path' | 'lpath' | 'fd';

function locate(t: Task, how: How, target: bigint): Location {
  if (how === 'fd') {
    const f = fileOf(t, target);
    if (f instanceof PathFile) fail(Errno.EBADF);
    return f.location;
  }
  return t.kernel.vfs.resolve(t, AT_FDCWD, t.mm.copyInString(target, PATH_MAX), how === 'path');
}

function nameOf(t: Task, addr: bigint): string {
  const n = t.mm.copyInString(addr, XATTR_NAME_MAX + 1, Errno.ERANGE);
  if (n.length === 0) fail(Errno.ERANGE);
  return n;
}

/** The namespace checks of xattr_permission (and commoncap for security.*). */
function permit(t: Task, ino: Inode, name: string, write: boolean): void {
  const admin = t.creds.has(CAP_SYS_ADMIN);
  if (name.startsWith('trusted.')) {
    if (!admin) fail(write ? Errno.EPERM : Errno.ENODATA);
    return;
  }
  if (name.startsWith('security.')) {
    if (write && !admin) fail(Errno.EPERM);
    return;
  }
  if (!name.startsWith('user.')) return;
  const type = ino.type;
  if (type !== S_IFREG && type !== S_IFDIR) fail(write ? Errno.EPERM : Errno.ENODATA);
  if (write && type === S_IFDIR && ino.stat().mode & S_ISVTX && !isOwnerOrRoot(t.creds, ino)) fail(Errno.EPERM);
  checkAccess(t.creds, ino, write ? W_OK : R_OK);
}

/** Copy `data` out to a user buffer of `size` bytes: the length if size is 0, ERANGE if too small. */
function reply(t: Task, data: Uint8Array, buf: bigint, size: bigint): number {
  if (size === 0n) return data.length;
  if (BigInt(data.length) > size) fail(Errno.ERANGE);
  t.mm.copyOut(buf, data);
  return data.length;
}

const getxattrFor = (how: How) => (t: Task, target: bigint, name: bigint, buf: bigint, size: bigint): number => {
  const loc = locate(t, how, target);
  const n = nameOf(t, name);
  const ino = loc.dentry.inode;
  permit(t, ino, n, false);
  const value = ino.getxattr(n);
  if (value.length > XATTR_SIZE_MAX) fail(Errno.E2BIG);
  return reply(t, value, buf, size);
};

const listxattrFor = (how: How) => (t: Task, target: bigint, buf: bigint, size: bigint): number => {
  const ino = locate(t, how, target).dentry.inode;
  const names = ino.listxattr().filter((n) => t.creds.has(CAP_SYS_ADMIN) || !n.startsWith('trusted.'));
  const data = Buffer.from(names.map((n) => `${n}\0`).join(''), 'latin1');
  if (data.length > XATTR_LIST_MAX) fail(Errno.E2BIG);
  return reply(t, data, buf, size);
};

const setxattrFor = (how: How) => (t: Task, target: bigint, name: bigint, value: bigint, size: bigint, flags: bigint): number => {
  const loc = locate(t, how, target);
  t.kernel.vfs.checkWritableMount(loc);
  if (flags & ~BigInt(XATTR_CREATE | XATTR_REPLACE)) fail(Errno.EINVAL);
  const n = nameOf(t, name);
  if (size > BigInt(XATTR_SIZE_MAX)) fail(Errno.E2BIG);
  const data = size > 0n ? t.mm.copyIn(value, Number(size)) : new Uint8Array(0);
  const ino = loc.dentry.inode;
  permit(t, ino, n, true);
  ino.setxattr(n, data, Number(flags));
  return 0;
};

const removexattrFor = (how: How) => (t: Task, target: bigint, name: bigint): number => {
  const loc = locate(t, how, target);
  t.kernel.vfs.checkWritableMount(loc);
  const n = nameOf(t, name);
  const ino = loc.dentry.inode;
  permit(t, ino, n, true);
  ino.removexattr(n);
  return 0;
};

export const xattrSyscalls: SyscallDef[] = [
  { nr: 188, name: 'setxattr', args: 'ssbnx', fn: setxattrFor('path') },
  { nr: 189, name: 'lsetxattr', args: 'ssbnx', fn: setxattrFor('lpath') },
  { nr: 190, name: 'fsetxattr', args: 'fsbnx', fn: setxattrFor('fd') },
  { nr: 191, name: 'getxattr', args: 'sspn', fn: getxattrFor('path') },
  { nr: 192, name: 'lgetxattr', args: 'sspn', fn: getxattrFor('lpath') },
  { nr: 193, name: 'fgetxattr', args: 'fspn', fn: getxattrFor('fd') },
  { nr: 194, name: 'listxattr', args: 'spn', fn: listxattrFor('path') },
  { nr: 195, name: 'llistxattr', args: 'spn', fn: listxattrFor('lpath') },
  { nr: 196, name: 'flistxattr', args: 'fpn', fn: listxattrFor('fd') },
  { nr: 197, name: 'removexattr', args: 'ss', fn: removexattrFor('path') },
  { nr: 198, name: 'lremovexattr', args: 'ss', fn: removexattrFor('lpath') },
  { nr: 199, name: 'fremovexattr', args: 'fs', fn: removexattrFor('fd') },
];
