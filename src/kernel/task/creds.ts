/** Credentials of a task (see credentials(7)): real/effective/saved/fs ids and supplementary groups. */
export class Credentials {
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
  ) {}

  static of(uid: number, gid: number, groups: number[] = []): Credentials {
    return new Credentials(uid, uid, uid, uid, gid, gid, gid, gid, groups);
  }

  clone(): Credentials {
    return new Credentials(this.ruid, this.euid, this.suid, this.fsuid, this.rgid, this.egid, this.sgid, this.fsgid, [...this.groups]);
  }

  /** Is the fs uid 0 (bypasses permission checks, as CAP_DAC_OVERRIDE in the sandbox's user ns)? */
  get isRoot(): boolean {
    return this.fsuid === 0;
  }
}
