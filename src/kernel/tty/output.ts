/**
 * The output half of the N_TTY line discipline (drivers/tty/n_tty.c): OPOST processing of what
 * write(2) sends (ONLCR, OCRNL, ONOCR, ONLRET, OLCUC, XTABS) with the column tracking that echoing
 * erases relies on, and the echo buffer: echoed input and ECHO_OP_* operations, written to the driver
 * when flushed unless output is stopped (the oldest give way when it nearly overflows). `NTty`
 * (ldisc.ts) adds the input half.
 */
import { ECHOCTL, IUTF8, OCRNL, OLCUC, ONLCR, ONLRET, ONOCR, OPOST, TABDLY, Termios, XTABS } from './termios.js';

/** Size of the input ring (and the bound of the echo buffer). */
export const N_TTY_BUF_SIZE = 4096;
export const ECHO_OP_START = 0xff, ECHO_OP_MOVE_BACK_COL = 0x80, ECHO_OP_SET_CANON_COL = 0x81, ECHO_OP_ERASE_TAB = 0x82;
const ECHO_COMMIT_WATERMARK = 256;
const ECHO_DISCARD_WATERMARK = N_TTY_BUF_SIZE - (256 + 32);

/** What the line discipline needs from its terminal (the tty_struct and its driver). */
export interface LdiscDriver {
  readonly termios: Termios;
  /** The driver's write (pty_write): hands processed output on; returns the bytes taken. */
  driverWrite(b: Uint8Array): number;
  /** Bytes the driver can take now (0 while output is stopped). */
  writeRoom(): number;
  /** __isig(): `sig` to the terminal's foreground process group. */
  signalForeground(sig: number): void;
  /** stop_tty()/start_tty() (IXON flow control). */
  stopOutput(): void;
  startOutput(): void;
  readonly outputStopped: boolean;
  /** Stopped by TCOOFF (IXANY does not restart it). */
  readonly tcoStopped: boolean;
  /** tty_driver_flush_buffer(). */
  flushDriverOutput(): void;
  /** n_tty_packet_mode_flush(): tell a packet-mode master that input was flushed. */
  packetFlushRead(): void;
  /** The ring has room again (after a read, a flush, a mode change): feed held-back input. */
  unthrottle(): void;
  /** Wake everything waiting on this terminal (readers, writers, pollers). */
  wake(): void;
}

/** iscntrl() of the kernel's Latin-1 ctype table. */
export function iscntrl(c: number): boolean {
  return c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0);
}
function islower(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0xdf && c <= 0xff && c !== 0xf7);
}
function isupper(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0xc0 && c <= 0xde && c !== 0xd7);
}
export function isalnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || islower(c) || isupper(c);
}
export function tolower(c: number): number {
  return isupper(c) ? c + 0x20 : c;
}
function toupper(c: number): number {
  return islower(c) && c !== 0xdf && c !== 0xff ? c - 0x20 : c;
}

export abstract class TtyOutput {
  protected column = 0;
  protected canonColumn = 0;
  /** The echo buffer: bytes to echo and ECHO_OP_* operations, processed by processEchoes(). */
  protected echoes: number[] = [];

  constructor(protected readonly tty: LdiscDriver) {}

  protected get t(): Termios {
    return this.tty.termios;
  }

  /** do_output_char(): one character with OPOST processing into `out`; -1 when `space` is short. */
  protected outputChar(ch: number, space: number, out: number[]): number {
    if (space <= 0) return -1;
    const o = this.t.oflag;
    let c = ch;
    switch (c) {
      case 0x0a:
        if (o & ONLRET) this.column = 0;
        if (o & ONLCR) {
          if (space < 2) return -1;
          this.canonColumn = this.column = 0;
          out.push(0x0d, 0x0a);
          return 2;
        }
        this.canonColumn = this.column;
        break;
      case 0x0d:
        if (o & ONOCR && this.column === 0) return 0;
        if (o & OCRNL) {
          c = 0x0a;
          if (o & ONLRET) this.canonColumn = this.column = 0;
          break;
        }
        this.canonColumn = this.column = 0;
        break;
      case 0x09: {
        const spaces = 8 - (this.column & 7);
        if ((o & TABDLY) === XTABS) {
          if (space < spaces) return -1;
          this.column += spaces;
          for (let i = 0; i < spaces; i++) out.push(0x20);
          return spaces;
        }
        this.column += spaces;
        break;
      }
      case 0x08:
        if (this.column > 0) this.column--;
        break;
      default:
        if (!iscntrl(c)) {
          if (o & OLCUC) c = toupper(c);
          if (!this.isContinuation(c)) this.column++;
        }
        break;
    }
    out.push(c);
    return 1;
  }

  protected isContinuation(c: number): boolean {
    return (this.t.iflag & IUTF8) !== 0 && (c & 0xc0) === 0x80;
  }

  /**
   * n_tty_write() of `src` as far as the driver has room: returns the bytes of `src` consumed (0
   * when the driver is full or stopped: the caller waits).
   */
  write(src: Uint8Array): number {
    this.processEchoes();
    if (!(this.t.oflag & OPOST)) {
      const n = Math.min(this.tty.writeRoom(), src.length);
      return n > 0 ? this.tty.driverWrite(src.subarray(0, n)) : 0;
    }
    let space = this.tty.writeRoom();
    const out: number[] = [];
    let i = 0;
    for (; i < src.length; i++) {
      const r = this.outputChar(src[i]!, space, out);
      if (r < 0) break;
      space -= r;
    }
    if (out.length > 0) this.tty.driverWrite(Uint8Array.from(out));
    return i;
  }

  // ------------------------------------------------------------------ echo

  protected echoRaw(c: number): void {
    if (c === ECHO_OP_START) this.echoes.push(ECHO_OP_START, ECHO_OP_START);
    else this.echoes.push(c);
  }

  /** echo_char(): control characters as "^X" with ECHOCTL (except TAB). */
  protected echoChar(c: number): void {
    if (c === ECHO_OP_START) this.echoes.push(ECHO_OP_START, ECHO_OP_START);
    else {
      if (this.t.lflag & ECHOCTL && iscntrl(c) && c !== 0x09) this.echoes.push(ECHO_OP_START);
      this.echoes.push(c);
    }
  }

  /** commit_echoes(): process accumulated echoes once a block has built up. */
  protected commitEchoes(): void {
    if (this.echoes.length >= ECHO_COMMIT_WATERMARK) this.processEchoes();
  }

  /** __process_echoes(): write pending echoes to the driver unless output is stopped. */
  processEchoes(): void {
    const e = this.echoes;
    if (e.length === 0) return;
    if (this.tty.outputStopped) {
      // The oldest echoes give way when the buffer nearly overflows.
      while (e.length >= ECHO_DISCARD_WATERMARK) e.splice(0, e[0] === ECHO_OP_START ? (e[1] === ECHO_OP_ERASE_TAB ? 3 : 2) : 1);
      return;
    }
    const opost = (this.t.oflag & OPOST) !== 0;
    const out: number[] = [];
    let i = 0;
    while (i < e.length) {
      const c = e[i]!;
      if (c !== ECHO_OP_START) {
        if (opost) this.outputChar(c, Infinity, out);
        else out.push(c);
        i++;
        continue;
      }
      const op = e[i + 1]!;
      switch (op) {
        case ECHO_OP_ERASE_TAB: {
          let num = e[i + 2]!;
          if (!(num & 0x80)) num += this.canonColumn;
          let bs = 8 - (num & 7);
          while (bs-- > 0) {
            out.push(0x08);
            if (this.column > 0) this.column--;
          }
          i += 3;
          break;
        }
        case ECHO_OP_SET_CANON_COL:
          this.canonColumn = this.column;
          i += 2;
          break;
        case ECHO_OP_MOVE_BACK_COL:
          if (this.column > 0) this.column--;
          i += 2;
          break;
        case ECHO_OP_START:
          out.push(ECHO_OP_START);
          this.column++;
          i += 2;
          break;
        default:
          out.push(0x5e /* ^ */, op ^ 0o100);
          this.column += 2;
          i += 2;
      }
    }
    this.echoes = [];
    if (out.length > 0) this.tty.driverWrite(Uint8Array.from(out));
  }
}
