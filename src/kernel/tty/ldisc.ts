/**
 * The N_TTY line discipline (drivers/tty/n_tty.c): what turns the bytes a terminal driver receives
 * into what read(2) returns, and what write(2) sends into what the driver transmits.
 *
 * Input: a 4096-byte ring (N_TTY_BUF_SIZE) fed by `receive()`; ISTRIP/IUCLC, IXON flow control
 * (START/STOP, IXANY), ISIG (INTR/QUIT/SUSP → SIGINT/SIGQUIT/SIGTSTP to the foreground process group,
 * flushing input unless NOFLSH), IGNCR/ICRNL/INLCR, and in canonical mode (ICANON) line editing:
 * ERASE, WERASE (IEXTEN), KILL, LNEXT, REPRINT, EOF, EOL, EOL2; echo (ECHO, ECHOE, ECHOK, ECHOKE,
 * ECHONL, ECHOCTL, ECHOPRT) through an echo buffer that is flushed at the end of each received chunk
 * and cleared by a signal character. Lines longer than 4095 bytes are truncated, as in Linux; in
 * non-canonical mode `receive()` takes only what fits (the caller keeps the rest: back-pressure).
 *
 * Output: OPOST processing (ONLCR, OCRNL, ONOCR, ONLRET, OLCUC, XTABS) with column tracking, limited by
 * the driver's write room (0 while output is stopped).
 *
 * Reads are driven by the caller (see pty.ts): `inputAvailable`, `readCanon`, `readRaw`.
 */
import {
  BRKINT, DISABLED_CHAR, ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, ECHOPRT, EXTPROC, ICANON, ICRNL, IEXTEN,
  IGNBRK, IGNCR, IGNPAR, INLCR, INPCK, ISIG, ISTRIP, IUCLC, IUTF8, IXANY, IXON, NOFLSH, OCRNL, OLCUC, ONLCR, ONLRET,
  ONOCR, OPOST, PARMRK, TABDLY, Termios, VEOF, VEOL, VEOL2, VERASE, VINTR, VKILL, VLNEXT, VMIN, VQUIT, VREPRINT,
  VSTART, VSTOP, VSUSP, VTIME, VWERASE, XTABS,
} from './termios.js';

/** Size of the input ring. */
export const N_TTY_BUF_SIZE = 4096;
const MASK = N_TTY_BUF_SIZE - 1;
const ECHO_OP_START = 0xff, ECHO_OP_MOVE_BACK_COL = 0x80, ECHO_OP_SET_CANON_COL = 0x81, ECHO_OP_ERASE_TAB = 0x82;
const ECHO_COMMIT_WATERMARK = 256;
const ECHO_DISCARD_WATERMARK = N_TTY_BUF_SIZE - (256 + 32);
const SIGINT = 2, SIGQUIT = 3, SIGTSTP = 20;

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
function iscntrl(c: number): boolean {
  return c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0);
}
function islower(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0xdf && c <= 0xff && c !== 0xf7);
}
function isupper(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0xc0 && c <= 0xde && c !== 0xd7);
}
function isalnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || islower(c) || isupper(c);
}
function tolower(c: number): number {
  return isupper(c) ? c + 0x20 : c;
}
function toupper(c: number): number {
  return islower(c) && c !== 0xdf && c !== 0xff ? c - 0x20 : c;
}

export class NTty {
  private readonly buf = new Uint8Array(N_TTY_BUF_SIZE);
  /** read_flags: set at the position of each line terminator. */
  private readonly eolAt = new Uint8Array(N_TTY_BUF_SIZE);
  private readHead = 0;
  private readTail = 0;
  private canonHead = 0;
  private commitHead = 0;
  private lnext = false;
  private erasing = false;
  private raw = false;
  private realRaw = false;
  private icanon = false;
  private push = false;
  private column = 0;
  private canonColumn = 0;
  /** The echo buffer: bytes to echo and ECHO_OP_* operations, processed by processEchoes(). */
  private echoes: number[] = [];
  private readonly charMap = new Uint8Array(256);

  constructor(private readonly tty: LdiscDriver) {
    this.setTermios(undefined);
  }

  private get t(): Termios {
    return this.tty.termios;
  }

  // ------------------------------------------------------------------ buffer state

  /** Bytes in the ring (read_cnt). */
  get readCount(): number {
    return this.readHead - this.readTail;
  }

  private put(c: number): void {
    this.buf[this.readHead & MASK] = c;
    this.readHead++;
  }

  /** reset_buffer_flags(): drop all input and pending echoes. */
  private resetBuffer(): void {
    this.readHead = this.canonHead = this.readTail = this.commitHead = 0;
    this.echoes = [];
    this.erasing = false;
    this.eolAt.fill(0);
    this.push = false;
  }

  /** n_tty_flush_buffer() (TCIFLUSH, TCSETSF, hangup). */
  flushInput(): void {
    this.resetBuffer();
    this.tty.packetFlushRead();
    this.tty.unthrottle();
    this.tty.wake();
  }

  // ------------------------------------------------------------------ output

  /** do_output_char(): one character with OPOST processing into `out`; -1 when `space` is short. */
  private outputChar(ch: number, space: number, out: number[]): number {
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

  private isContinuation(c: number): boolean {
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

  private echoRaw(c: number): void {
    if (c === ECHO_OP_START) this.echoes.push(ECHO_OP_START, ECHO_OP_START);
    else this.echoes.push(c);
  }

  /** echo_char(): control characters as "^X" with ECHOCTL (except TAB). */
  private echoChar(c: number): void {
    if (c === ECHO_OP_START) this.echoes.push(ECHO_OP_START, ECHO_OP_START);
    else {
      if (this.t.lflag & ECHOCTL && iscntrl(c) && c !== 0x09) this.echoes.push(ECHO_OP_START);
      this.echoes.push(c);
    }
  }

  private finishErasing(): void {
    if (this.erasing) {
      this.echoRaw(0x2f /* / */);
      this.erasing = false;
    }
  }

  /** commit_echoes(): process accumulated echoes once a block has built up. */
  private commitEchoes(): void {
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

  // ------------------------------------------------------------------ input

  /**
   * n_tty_receive_buf2(): process as much of `cp` as fits; returns the bytes taken (fewer than
   * cp.length when the ring is full: the driver keeps the rest and retries after a read).
   */
  receive(cp: Uint8Array): number {
    let rcvd = 0;
    while (rcvd < cp.length) {
      const tail = this.readTail;
      let room = N_TTY_BUF_SIZE - (this.readHead - tail);
      if (this.t.iflag & PARMRK) room = Math.floor((room + 2) / 3);
      room--;
      if (room <= 0) {
        // Canonical mode without a complete line keeps accepting (and truncating) so that
        // erase characters and the line end still work.
        const overflow = this.icanon && this.canonHead === tail;
        if (overflow && room < 0) this.readHead--;
        room = overflow ? 1 : 0;
      }
      const n = Math.min(cp.length - rcvd, room);
      if (n === 0) break;
      this.receiveChunk(cp.subarray(rcvd, rcvd + n));
      rcvd += n;
    }
    return rcvd;
  }

  /** __receive_buf(). */
  private receiveChunk(cp: Uint8Array): void {
    const t = this.t;
    const preops = (t.iflag & ISTRIP) !== 0 || ((t.iflag & IUCLC) !== 0 && (t.lflag & IEXTEN) !== 0);
    if (this.realRaw || this.raw || (t.lflag & EXTPROC && !preops)) {
      for (const c of cp) this.put(c);
    } else {
      for (let c of cp) {
        if (t.iflag & ISTRIP) c &= 0x7f;
        if (t.iflag & IUCLC && t.lflag & IEXTEN) c = tolower(c);
        if (this.lnext) {
          this.lnext = false;
          this.receiveCharInline(c);
        } else if (t.lflag & EXTPROC) this.put(c);
        else if (!this.charMap[c]) this.receiveCharInline(c);
        else this.receiveCharSpecial(c);
      }
      if (t.lflag & (ECHO | ECHONL)) this.processEchoes();
    }
    if (this.icanon && !(t.lflag & EXTPROC)) return;
    this.commitHead = this.readHead;
    this.tty.wake();
  }

  private receiveCharInline(c: number): void {
    const t = this.t;
    if (this.tty.outputStopped && !this.tty.tcoStopped && t.iflag & IXON && t.iflag & IXANY) {
      this.tty.startOutput();
      this.processEchoes();
    }
    if (t.lflag & ECHO) {
      this.finishErasing();
      if (this.canonHead === this.readHead) this.echoes.push(ECHO_OP_START, ECHO_OP_SET_CANON_COL);
      this.echoChar(c);
      this.commitEchoes();
    }
    if (c === 0xff && t.iflag & PARMRK) this.put(c);
    this.put(c);
  }

  private receiveSignalChar(sig: number, c: number): void {
    this.isig(sig);
    if (this.t.iflag & IXON) this.tty.startOutput();
    if (this.t.lflag & ECHO) {
      this.echoChar(c);
      this.commitEchoes();
    } else this.processEchoes();
  }

  /** isig(): signal the foreground group, then flush everything unless NOFLSH. */
  private isig(sig: number): void {
    this.tty.signalForeground(sig);
    if (this.t.lflag & NOFLSH) return;
    this.echoes = [];
    this.tty.flushDriverOutput();
    this.resetBuffer();
    this.tty.packetFlushRead();
  }

  private handleNewline(c: number): void {
    this.eolAt[this.readHead & MASK] = 1;
    this.put(c);
    this.canonHead = this.readHead;
    this.tty.wake();
  }

  /** n_tty_receive_char_special(): characters in the char map. */
  private receiveCharSpecial(ch: number): void {
    const t = this.t;
    const cc = t.cc;
    let c = ch;
    if (t.iflag & IXON) {
      if (c === cc[VSTART]) {
        this.tty.startOutput();
        this.processEchoes();
        return;
      }
      if (c === cc[VSTOP]) {
        this.tty.stopOutput();
        return;
      }
    }
    if (t.lflag & ISIG) {
      if (c === cc[VINTR]) return this.receiveSignalChar(SIGINT, c);
      if (c === cc[VQUIT]) return this.receiveSignalChar(SIGQUIT, c);
      if (c === cc[VSUSP]) return this.receiveSignalChar(SIGTSTP, c);
    }
    if (this.tty.outputStopped && !this.tty.tcoStopped && t.iflag & IXON && t.iflag & IXANY) {
      this.tty.startOutput();
      this.processEchoes();
    }
    if (c === 0x0d) {
      if (t.iflag & IGNCR) return;
      if (t.iflag & ICRNL) c = 0x0a;
    } else if (c === 0x0a && t.iflag & INLCR) c = 0x0d;

    if (this.icanon) {
      if (c === cc[VERASE] || c === cc[VKILL] || (c === cc[VWERASE] && t.lflag & IEXTEN)) {
        this.eraser(c);
        this.commitEchoes();
        return;
      }
      if (c === cc[VLNEXT] && t.lflag & IEXTEN) {
        this.lnext = true;
        if (t.lflag & ECHO) {
          this.finishErasing();
          if (t.lflag & ECHOCTL) {
            this.echoRaw(0x5e);
            this.echoRaw(0x08);
            this.commitEchoes();
          }
        }
        return;
      }
      if (c === cc[VREPRINT] && t.lflag & ECHO && t.lflag & IEXTEN) {
        this.finishErasing();
        this.echoChar(c);
        this.echoRaw(0x0a);
        for (let i = this.canonHead; i !== this.readHead; i++) this.echoChar(this.buf[i & MASK]!);
        this.commitEchoes();
        return;
      }
      if (c === 0x0a) {
        if (t.lflag & (ECHO | ECHONL)) {
          this.echoRaw(0x0a);
          this.commitEchoes();
        }
        return this.handleNewline(c);
      }
      if (c === cc[VEOF]) return this.handleNewline(DISABLED_CHAR);
      if (c === cc[VEOL] || (c === cc[VEOL2] && t.lflag & IEXTEN)) {
        if (t.lflag & ECHO) {
          if (this.canonHead === this.readHead) this.echoes.push(ECHO_OP_START, ECHO_OP_SET_CANON_COL);
          this.echoChar(c);
          this.commitEchoes();
        }
        if (c === 0xff && t.iflag & PARMRK) this.put(c);
        return this.handleNewline(c);
      }
    }
    if (t.lflag & ECHO) {
      this.finishErasing();
      if (c === 0x0a) this.echoRaw(0x0a);
      else {
        if (this.canonHead === this.readHead) this.echoes.push(ECHO_OP_START, ECHO_OP_SET_CANON_COL);
        this.echoChar(c);
      }
      this.commitEchoes();
    }
    if (c === 0xff && t.iflag & PARMRK) this.put(c);
    this.put(c);
  }

  /** eraser(): ERASE, WERASE and KILL in canonical mode, with their echo. */
  private eraser(ch: number): void {
    const t = this.t;
    if (this.readHead === this.canonHead) return;
    let kind: 'erase' | 'werase' | 'kill';
    if (ch === t.cc[VERASE]) kind = 'erase';
    else if (ch === t.cc[VWERASE]) kind = 'werase';
    else {
      if (!(t.lflag & ECHO)) {
        this.readHead = this.canonHead;
        return;
      }
      if (!(t.lflag & ECHOK) || !(t.lflag & ECHOKE) || !(t.lflag & ECHOE)) {
        this.readHead = this.canonHead;
        this.finishErasing();
        this.echoChar(ch);
        if (t.lflag & ECHOK) this.echoRaw(0x0a);
        return;
      }
      kind = 'kill';
    }
    let seenAlnums = 0;
    while (this.readHead !== this.canonHead) {
      let head = this.readHead;
      let c: number;
      // One (possibly multi-byte UTF-8) character.
      do {
        head--;
        c = this.buf[head & MASK]!;
      } while (this.isContinuation(c) && head !== this.canonHead);
      if (this.isContinuation(c)) break;
      if (kind === 'werase') {
        if (isalnum(c) || c === 0x5f) seenAlnums++;
        else if (seenAlnums) break;
      }
      let cnt = this.readHead - head;
      this.readHead = head;
      if (t.lflag & ECHO) {
        if (t.lflag & ECHOPRT) {
          if (!this.erasing) {
            this.echoRaw(0x5c /* \ */);
            this.erasing = true;
          }
          this.echoChar(c);
          while (--cnt > 0) {
            head++;
            this.echoRaw(this.buf[head & MASK]!);
            this.echoes.push(ECHO_OP_START, ECHO_OP_MOVE_BACK_COL);
          }
        } else if (kind === 'erase' && !(t.lflag & ECHOE)) {
          this.echoChar(t.cc[VERASE]!);
        } else if (c === 0x09) {
          let numChars = 0;
          let afterTab = false;
          for (let tail = this.readHead; tail !== this.canonHead;) {
            tail--;
            const p = this.buf[tail & MASK]!;
            if (p === 0x09) {
              afterTab = true;
              break;
            } else if (iscntrl(p)) {
              if (t.lflag & ECHOCTL) numChars += 2;
            } else if (!this.isContinuation(p)) numChars++;
          }
          this.echoes.push(ECHO_OP_START, ECHO_OP_ERASE_TAB, (numChars & 7) | (afterTab ? 0x80 : 0));
        } else {
          if (iscntrl(c) && t.lflag & ECHOCTL) this.echoes.push(0x08, 0x20, 0x08);
          if (!iscntrl(c) || t.lflag & ECHOCTL) this.echoes.push(0x08, 0x20, 0x08);
        }
      }
      if (kind === 'erase') break;
    }
    if (this.readHead === this.canonHead && t.lflag & ECHO) this.finishErasing();
  }

  // ------------------------------------------------------------------ termios

  /** n_tty_set_termios(): called after the terminal's termios changed from `old`. */
  setTermios(old: Termios | undefined): void {
    const t = this.t;
    if (!old || (old.lflag ^ t.lflag) & (ICANON | EXTPROC)) {
      this.eolAt.fill(0);
      if (!(t.lflag & ICANON) || this.readCount === 0) {
        this.canonHead = this.readTail;
        this.push = false;
      } else {
        this.eolAt[(this.readHead - 1) & MASK] = 1;
        this.canonHead = this.readHead;
        this.push = true;
      }
      this.commitHead = this.readHead;
      this.erasing = false;
      this.lnext = false;
    }
    this.icanon = (t.lflag & ICANON) !== 0;
    const i = t.iflag;
    const l = t.lflag;
    if (i & (ISTRIP | IUCLC | IGNCR | ICRNL | INLCR | IXON | PARMRK) || l & (ICANON | ISIG | ECHO)) {
      const m = this.charMap;
      m.fill(0);
      if (i & (IGNCR | ICRNL)) m[0x0d] = 1;
      if (i & INLCR) m[0x0a] = 1;
      if (l & ICANON) {
        for (const k of [VERASE, VKILL, VEOF, VEOL]) m[t.cc[k]!] = 1;
        m[0x0a] = 1;
        if (l & IEXTEN) {
          m[t.cc[VWERASE]!] = 1;
          m[t.cc[VLNEXT]!] = 1;
          m[t.cc[VEOL2]!] = 1;
          if (l & ECHO) m[t.cc[VREPRINT]!] = 1;
        }
      }
      if (i & IXON) {
        m[t.cc[VSTART]!] = 1;
        m[t.cc[VSTOP]!] = 1;
      }
      if (l & ISIG) {
        m[t.cc[VINTR]!] = 1;
        m[t.cc[VQUIT]!] = 1;
        m[t.cc[VSUSP]!] = 1;
      }
      m[DISABLED_CHAR] = 0;
      this.raw = false;
      this.realRaw = false;
    } else {
      this.raw = true;
      // The pty drivers are TTY_DRIVER_REAL_RAW.
      this.realRaw = (i & IGNBRK || (!(i & BRKINT) && !(i & PARMRK))) && (i & IGNPAR || !(i & INPCK)) ? true : false;
    }
    if (!(i & IXON) && old && old.iflag & IXON && !this.tty.tcoStopped) {
      this.tty.startOutput();
      this.processEchoes();
    }
    if (old) this.tty.unthrottle();
    this.tty.wake();
  }

  // ------------------------------------------------------------------ reading

  /**
   * input_available_p(): is there something for read(2)? With `poll`, a non-canonical terminal with
   * VMIN > 0 and VTIME 0 needs VMIN bytes.
   */
  inputAvailable(poll: boolean): boolean {
    const t = this.t;
    if (this.icanon && !(t.lflag & EXTPROC)) return this.canonHead !== this.readTail;
    const amt = poll && !t.cc[VTIME] && t.cc[VMIN] ? t.cc[VMIN]! : 1;
    return this.commitHead - this.readTail >= amt;
  }

  private copyOut(from: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) out[k] = this.buf[(from + k) & MASK]!;
    return out;
  }

  /** copy_from_read_buf(): up to `max` committed bytes (non-canonical read). */
  readRaw(max: number): Uint8Array {
    const n = Math.min(this.commitHead - this.readTail, max);
    const out = this.copyOut(this.readTail, n);
    this.readTail += n;
    if (n > 0) this.tty.unthrottle();
    return out;
  }

  /**
   * canon_copy_from_read_buf(): at most `max` bytes of the next line, its terminator included (an
   * EOF character is consumed but not returned). A line longer than `max` is returned in pieces; when
   * a piece fills `max` exactly and an EOF marker follows, the marker is skipped (canon_skip_eof).
   */
  readCanon(max: number): Uint8Array {
    if (max === 0) return new Uint8Array(0);
    const avail = this.canonHead - this.readTail;
    const n = Math.min(max, avail);
    let found = -1;
    for (let k = 0; k < n; k++) {
      if (this.eolAt[(this.readTail + k) & MASK]) {
        found = k;
        break;
      }
    }
    if (found < 0) {
      const out = this.copyOut(this.readTail, n);
      this.readTail += n;
      // The reader's buffer is full: an EOF right behind is consumed now.
      const p = this.readTail & MASK;
      if (this.readTail !== this.canonHead && this.eolAt[p] && this.buf[p] === DISABLED_CHAR) {
        this.eolAt[p] = 0;
        this.readTail++;
      }
      this.tty.unthrottle();
      return out;
    }
    const eol = (this.readTail + found) & MASK;
    const isEof = this.buf[eol] === DISABLED_CHAR;
    const out = this.copyOut(this.readTail, isEof ? found : found + 1);
    this.eolAt[eol] = 0;
    this.readTail += found + 1;
    if (this.push) this.push = false;
    this.tty.unthrottle();
    return out;
  }

  /** TIOCINQ/FIONREAD: complete lines (EOF markers not counted) in canonical mode, else every byte. */
  inq(): number {
    if (!(this.t.lflag & ICANON)) return this.readCount;
    let nr = this.canonHead - this.readTail;
    for (let i = this.readTail; i !== this.canonHead; i++) {
      if (this.eolAt[i & MASK] && this.buf[i & MASK] === DISABLED_CHAR) nr--;
    }
    return nr;
  }
}
