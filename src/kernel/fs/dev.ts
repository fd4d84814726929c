/**
 * /dev: a tmpfs populated with the devices the Sentry implements (null, zero, full, random, urandom,
 * tty), the /proc/self/fd symlinks (stdin, stdout, stderr, fd), and the directories shm (a writable
 * tmpfs directory), pts (where devpts is mounted) and mqueue. Host devices are never passed through.
 */
import { S_IFCHR } from '../vfs/constants.js';
import { makedev } from './devices.js';
import { TmpFs, type TmpDir } from './tmpfs.js';

/** Build a fresh /dev filesystem. */
export function createDevFs(): TmpFs {
  const fs = new TmpFs('devtmpfs', 0o755, 64 << 20);
  const root: TmpDir = fs.root();
  const o = { uid: 0, gid: 0 };
  const chr = (name: string, maj: number, min: number, mode = 0o666) => {
    root.mknod(name, S_IFCHR | mode, makedev(maj, min), o);
  };
  chr('null', 1, 3);
  chr('zero', 1, 5);
  chr('full', 1, 7);
  chr('random', 1, 8);
  chr('urandom', 1, 9);
  chr('tty', 5, 0);
  root.symlink('stdin', '/proc/self/fd/0', o);
  root.symlink('stdout', '/proc/self/fd/1', o);
  root.symlink('stderr', '/proc/self/fd/2', o);
  root.symlink('fd', '/proc/self/fd', o);
  root.symlink('ptmx', 'pts/ptmx', o);
  root.mkdir('shm', 0o1777, o).setattr({ mode: 0o1777 });
  root.mkdir('pts', 0o755, o);
  root.mkdir('mqueue', 0o1777, o).setattr({ mode: 0o1777 });
  return fs;
}
