/** Signal names and numbers as `kill` accepts them (runc: "9", "KILL", "SIGKILL"). */
const NAMES: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
  XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

/** Parse "9", "KILL", "SIGKILL", "sigterm", "RTMIN+3"; throws on anything else. */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
    throw new Error(`invalid signal: ${s}`);
  }
  let name = s.toUpperCase();
  if (name.startsWith('SIG')) name = name.slice(3);
  if (name in NAMES) return NAMES[name]!;
  const rt = /^RTMIN(?:\+(\d+))?$/.exec(name) ?? /^RTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith('RTMIN') ? 34 + off : 64 - off;
    if (n >= 34 && n <= 64) return n;
  }
  throw new Error(`invalid signal: ${s}`);
}

/** Host signal name for a number (for process.kill), or the number itself. */
export function hostSignalName(n: number): NodeJS.Signals | number {
  for (const [k, v] of Object.entries(NAMES)) if (v === n && k !== 'IOT' && k !== 'POLL') return `SIG${k}` as NodeJS.Signals;
  return n;
}

/** Signals whose default action terminates the process (core or not). */
export function defaultKills(n: number): boolean {
  return ![17, 18, 19, 20, 21, 22, 23, 28].includes(n);
}
