/**
 * A minimal read-only /sys: what libc and language runtimes read to size thread pools
 * (/sys/devices/system/cpu/{online,possible,present}) and a few empty directories commonly probed.
 */
import { TmpFs, type TmpDir, type TmpFile } from './tmpfs.js';

const SYSFS_MAGIC = 0x62656572;

/** Build a sysfs tree for `cpus` CPUs. Mount it read-only. */
export function createSysFs(cpus: number): TmpFs {
  const fs = new TmpFs('sysfs', 0o555, 1 << 20);
  const o = { uid: 0, gid: 0 };
  const dir = (parent: TmpDir, name: string): TmpDir => parent.mkdir(name, 0o755, o);
  const file = (parent: TmpDir, name: string, text: string) => {
    const f = parent.create(name, 0o444, o) as TmpFile;
    f.setContents(Buffer.from(text, 'latin1'));
  };
  const root = fs.root();
  const devices = dir(root, 'devices');
  const system = dir(devices, 'system');
  const cpu = dir(system, 'cpu');
  const range = cpus > 1 ? `0-${cpus - 1}\n` : '0\n';
  file(cpu, 'online', range);
  file(cpu, 'possible', range);
  file(cpu, 'present', range);
  file(cpu, 'offline', '\n');
  for (let i = 0; i < cpus; i++) dir(cpu, `cpu${i}`);
  for (const n of ['block', 'bus', 'class', 'dev', 'firmware', 'kernel', 'module', 'power']) dir(root, n);
  const fsDir = dir(root, 'fs');
  dir(fsDir, 'cgroup');
  void SYSFS_MAGIC;
  return fs;
}
