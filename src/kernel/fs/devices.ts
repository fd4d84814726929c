/**
 * Character devices the Sentry implements (see null(4), zero(4), full(4), random(4), tty(4),
 * ptmx(4)). Device inodes on any filesystem (dev's tmpfs, a tmpfs where root ran mknod) open through
 * `openDevice` by their rdev; unknown devices give ENXIO, as an unregistered major/minor does on Linux.
 */
import { randomFillSync } from 'node:crypto';
import { Errno, fail } from '../errno.js';
import type { MappableFile } from '../mm/mm.js';
import type { Location } from '../vfs/dentry.js';
import { FileDescription } from '../vfs/file.js';
import type { OpenRequest } from '../vfs/inode.js';
import { openPtmxNode } from './devpts.js';
import { CAP_SYS_ADMIN } from '../task/creds.js';

/** Linux's dev_t encoding (new_encode_dev): what st_rdev holds. */
export function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}
export function major(dev: number): number {
  return (dev >>> 8) & 0xfff;
}
export function minor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & ~0xff);
}

type ReadKind = 'eof' | 'zero' | 'random';
type WriteKind = 'sink' | 'enospc';

/** /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom. Seeks succeed and do nothing (offset stays 0). */
class SimpleDevice extends FileDescription {
  readonly seekable = true;
  constructor(
    location: Location,
    flags: number,
    private readonly r: ReadKind,
    private readonly w: WriteKind,
  ) {
    super(location, flags);
  }
  override read(dst: Uint8Array): number {
    switch (this.r) {
      case 'eof':
        return 0;
      case 'zero':
        dst.fill(0);
        return dst.length;
      case 'random':
        for (let i = 0; i < dst.length; i += 65536) randomFillSync(dst.subarray(i, Math.min(dst.length, i + 65536)));
        return dst.length;
    }
  }
  override write(src: Uint8Array): number {
    if (this.w === 'enospc') fail(Errno.ENOSPC);
    return src.length;
  }
  override seek(): number {
    this.offset = 0;
    return 0;
  }
  override size(): number {
    return 0;
  }
  override mappable(): MappableFile | undefined {
    if (this.r !== 'zero') return undefined;
    return {
      mapName: '/dev/zero (deleted)',
      pread(dst: Uint8Array): number {
        dst.fill(0);
        return dst.length;
      },
    };
  }
  override truncate(): void {
    fail(Errno.EINVAL);
  }
}

/**
 * Open character device `rdev` (at `req.location`, with `req.flags`). /dev/tty (5:0) is the caller's
 * controlling terminal (ENXIO without one); /dev/ptmx (5:2) outside devpts opens through the devpts
 * mounted at "pts" beside it. ENXIO for devices the Sentry does not provide.
 */
export function openDevice(rdev: number, req: OpenRequest): FileDescription {
  const { location, flags } = req;
  const maj = major(rdev);
  const min = minor(rdev);
  if (maj === 1) {
    switch (min) {
      case 3:
        return new SimpleDevice(location, flags, 'eof', 'sink');
      case 5:
        return new SimpleDevice(location, flags, 'zero', 'sink');
      case 7:
        return new SimpleDevice(location, flags, 'zero', 'enospc');
      case 8:
      case 9:
        return new SimpleDevice(location, flags, 'random', 'sink');
    }
  }
  if (maj === 5 && min === 0) {
    const ctty = req.ctx?.tg?.ctty ?? fail(Errno.ENXIO);
    return ctty.reopen(location, flags, req.ctx?.creds.has(CAP_SYS_ADMIN) ?? false);
  }
  if (maj === 5 && min === 2) return openPtmxNode(req);
  fail(Errno.ENXIO);
}
