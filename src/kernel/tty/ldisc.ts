/**
 * The N_TTY line discipline (drivers/tty/n_tty.c): what turns the bytes a terminal driver receives
 * into what read(2) returns, and what write(2) sends into what the driver transmits (the output half
 * and the echo buffer are in output.ts).
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
  IGNBRK, IGNCR, IGNPAR, INLCR, INPCK, ISIG, ISTRIP, IUCLC, IXANY, IXON, NOFLSH, PARMRK, Termios, VEOF, VEOL, VEOL2,
  VERASE, VINTR, VKILL, VLNEXT, VMIN, VQUIT, VREPRINT, VSTART, VSTOP, VSUSP, VTIME, VWERASE,
} from './termios.js';
import {
  ECHO_OP_ERASE_TAB, ECHO_OP_MOVE_BACK_COL, ECHO_OP_SET_CANON_COL, ECHO_OP_START, N_TTY_BUF_SIZE, TtyOutput, isalnum,
  iscntrl, tolower, type LdiscDriver,
} from './output.js';

export { N_TTY_BUF_SIZE, type LdiscDriver } from './output.js';

const MASK = N_TTY_BUF_SIZE - 1;
const SIGINT = 2, SIGQUIT = 3, SIGTSTP = 20;

export class NTty extends TtyOutput {
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
  private readonly charMap = new Uint8Array(256);

  constructor(tty: LdiscDriver) {
    super(tty);
    this.setTermios(undefined);
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

  private finishErasing(): void {
    if (this.erasing) {
      this.echoRaw(0x2f /* / */);
      this.erasing = false;
    }
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
