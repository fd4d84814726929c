/**
 * Credentials of a task (see credentials(7) and capabilities(7)): real/effective/saved/fs user and
 * group ids, supplementary groups, the five capability sets (bit n for capability n) and the
 * securebits. Credentials are replaced, never changed in place, once a task uses them: a syscall
 * that changes them builds a clone and assigns it.
 *
 * Capabilities are those of the sandbox's user namespace: uid 0 inside the sandbox holds what the
 * container's config grants (Docker's default set, or all for `tsvisor do`), and the Sentry checks
 * each privileged operation against the effective set, as Linux's capable(9) does.
 */

export const CAP_CHOWN = 0, CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2, CAP_FOWNER = 3, CAP_FSETID = 4,
  CAP_KILL = 5, CAP_SETGID = 6, CAP_SETUID = 7, CAP_SETPCAP = 8, CAP_LINUX_IMMUTABLE = 9,
  CAP_NET_BIND_SERVICE = 10, CAP_NET_BROADCAST = 11, CAP_NET_ADMIN = 12, CAP_NET_RAW = 13, CAP_IPC_LOCK = 14,
  CAP_IPC_OWNER = 15, CAP_SYS_MODULE = 16, CAP_SYS_RAWIO = 17, CAP_SYS_CHROOT = 18, CAP_SYS_PTRACE = 19,
  CAP_SYS_PACCT = 20, CAP_SYS_ADMIN = 21, CAP_SYS_BOOT = 22, CAP_SYS_NICE = 23, CAP_SYS_RESOURCE = 24,
  CAP_SYS_TIME = 25, CAP_SYS_TTY_CONFIG = 26, CAP_MKNOD = 27, CAP_LEASE = 28, CAP_AUDIT_WRITE = 29,
  CAP_AUDIT_CONTROL = 30, CAP_SETFCAP = 31, CAP_MAC_OVERRIDE = 32, CAP_MAC_ADMIN = 33, CAP_SYSLOG = 34,
  CAP_WAKE_ALARM = 35, CAP_BLOCK_SUSPEND = 36, CAP_AUDIT_READ = 37, CAP_PERFMON = 38, CAP_BPF = 39,
  CAP_CHECKPOINT_RESTORE = 40;
/** The highest capability number (/proc/sys/kernel/cap_last_cap). */
export const CAP_LAST_CAP = 40;
/** Every capability. */
export const CAP_FULL_SET = (1n << BigInt(CAP_LAST_CAP + 1)) - 1n;

/** Capability names as capabilities(7) and the OCI spec spell them ("CAP_CHOWN" …), by number. */
export const CAP_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Capability sets by name, as OCI process.capabilities lists them ("CAP_CHOWN" …). */
export interface CapNames {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/** CapSets from names; names this kernel does not know are ignored (as runc warns and goes on). */
export function capSetsFromNames(n: CapNames): CapSets {
  const set = (names: string[] | undefined) =>
    (names ?? []).reduce((m, name) => {
      const i = CAP_NAMES.indexOf(name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`);
      return i < 0 ? m : m | capBit(i);
    }, 0n);
  return { bounding: set(n.bounding), effective: set(n.effective), inheritable: set(n.inheritable), permitted: set(n.permitted), ambient: set(n.ambient) };
}

/** The capabilities an fs uid change to/from 0 drops/raises in the effective set (CAP_FS_MASK). */
const CAP_FS_MASK = [CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_LINUX_IMMUTABLE,
  CAP_MKNOD, CAP_MAC_OVERRIDE].reduce((m, c) => m | (1n << BigInt(c)), 0n);

/**
 * securebits (see capabilities(7), "The securebits flags"); each *_LOCKED bit is the next one up.
 * SECURE_EXEC_RESTRICT_FILE (8) and SECURE_EXEC_DENY_INTERACTIVE (10) are advisory for script
 * interpreters (Linux 6.14): the kernel only stores them, as the Sentry does.
 */
export const SECURE_NOROOT = 0, SECURE_NO_SETUID_FIXUP = 2, SECURE_KEEP_CAPS = 4, SECURE_NO_CAP_AMBIENT_RAISE = 6;
export const SECURE_ALL_BITS = 0x555, SECURE_ALL_LOCKS = 0xaaa;

/** Bit of capability `cap` in a set. */
export function capBit(cap: number): bigint {
  return 1n << BigInt(cap);
}

/** The five capability sets. */
export interface CapSets {
  inheritable: bigint;
  permitted: bigint;
  effective: bigint;
  bounding: bigint;
  ambient: bigint;
}

/** Sets of a process started by root with every capability (uid 0 in `tsvisor do`). */
export function fullCaps(): CapSets {
  return { inheritable: 0n, permitted: CAP_FULL_SET, effective: CAP_FULL_SET, bounding: CAP_FULL_SET, ambient: 0n };
}

export class Credentials {
  /** Capability sets; defaults: everything for uid 0, nothing else (bounding full). */
  caps: CapSets;
  /** securebits (SECURE_* bit numbers). */
  securebits = 0;

  constructor(
    public ruid = 0,
    public euid = 0,
    public suid = 0,
    public fsuid = 0,
    public rgid = 0,
    public egid = 0,
    public sgid = 0,
    public fsgid = 0,
    public groups: number[] = [],
    caps?: CapSets,
  ) {
    this.caps = caps ?? (euid === 0 ? fullCaps() : { ...fullCaps(), permitted: 0n, effective: 0n });
  }

  /** Credentials of a new process: `caps` from the container's config, else per the uid (see above). */
  static of(uid: number, gid: number, groups: number[] = [], caps?: CapSets): Credentials {
    return new Credentials(uid, uid, uid, uid, gid, gid, gid, gid, groups, caps ? { ...caps } : undefined);
  }

  clone(): Credentials {
    const c = new Credentials(this.ruid, this.euid, this.suid, this.fsuid, this.rgid, this.egid, this.sgid, this.fsgid,
      [...this.groups], { ...this.caps });
    c.securebits = this.securebits;
    return c;
  }

  /** capable(cap): is `cap` in the effective set? */
  has(cap: number): boolean {
    return (this.caps.effective & capBit(cap)) !== 0n;
  }

  /** Is securebit `bit` set? */
  secure(bit: number): boolean {
    return (this.securebits & (1 << bit)) !== 0;
  }

  /**
   * CAP_DAC_OVERRIDE: bypasses read/write/execute checks (execute still needs one x bit on a
   * non-directory). Kept under this name for the many permission checks that ask it.
   */
  get isRoot(): boolean {
    return this.has(CAP_DAC_OVERRIDE);
  }

  /**
   * Capability fixups after a setuid-family change from `old` (capabilities(7), "Effect of user ID
   * changes on capabilities"; the kernel's cap_emulate_setxuid): leaving all-nonzero r/e/s uids
   * clears permitted and effective (unless SECURE_KEEP_CAPS) and ambient; euid 0 → nonzero clears
   * effective; nonzero → 0 sets effective to permitted. Disabled by SECURE_NO_SETUID_FIXUP.
   */
  fixupSetuid(old: Credentials): void {
    if (this.secure(SECURE_NO_SETUID_FIXUP)) return;
    const wasRoot = old.ruid === 0 || old.euid === 0 || old.suid === 0;
    const nowRoot = this.ruid === 0 || this.euid === 0 || this.suid === 0;
    if (wasRoot && !nowRoot) {
      if (!this.secure(SECURE_KEEP_CAPS)) this.caps.permitted = this.caps.effective = 0n;
      this.caps.ambient = 0n;
    }
    if (old.euid === 0 && this.euid !== 0) this.caps.effective = 0n;
    if (old.euid !== 0 && this.euid === 0) this.caps.effective = this.caps.permitted;
  }

  /** Fixups after setfsuid(2) from `old`: fs uid 0 → nonzero drops the fs capabilities, and back. */
  fixupSetfsuid(old: Credentials): void {
    if (this.secure(SECURE_NO_SETUID_FIXUP)) return;
    if (old.fsuid === 0 && this.fsuid !== 0) this.caps.effective &= ~CAP_FS_MASK;
    if (old.fsuid !== 0 && this.fsuid === 0) this.caps.effective |= this.caps.permitted & CAP_FS_MASK;
  }

  /**
   * The transformation of execve(2) for a file without file capabilities (capabilities(7),
   * "Transformation of capabilities during execve()" and "Capabilities and execution of programs by
   * root"): with `setid` the program was set-user/group-ID. Returns whether the exec is "secure"
   * (AT_SECURE): ids changed or capabilities were gained.
   */
  applyExec(setid: boolean): boolean {
    const c = this.caps;
    if (setid) c.ambient = 0n;
    let permitted = 0n;
    const rootPrivileged = !this.secure(SECURE_NOROOT);
    if (rootPrivileged && (this.euid === 0 || this.ruid === 0)) permitted = c.bounding | c.inheritable;
    c.permitted = permitted | c.ambient;
    c.effective = rootPrivileged && this.euid === 0 ? c.permitted : c.ambient;
    this.securebits &= ~(1 << SECURE_KEEP_CAPS);
    this.suid = this.euid;
    this.fsuid = this.euid;
    this.sgid = this.egid;
    this.fsgid = this.egid;
    const idChanged = this.euid !== this.ruid || this.egid !== this.rgid;
    const gained = this.ruid !== 0 && ((rootPrivileged && this.euid === 0) || (c.permitted & ~c.ambient) !== 0n);
    return idChanged || gained;
  }
}

/**
 * Environment variable through which a confined sandbox process receives its caller's capability
 * sets (JSON of hex strings: effective, permitted, inheritable, bounding, ambient); see
 * src/sandbox/confine.ts.
 */
export const CALLER_CAPS_ENV = 'TSVISOR_CALLER_CAPS';
