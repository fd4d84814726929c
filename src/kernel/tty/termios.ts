/**
 * Terminal attributes (see termios(3), tty_ioctl(4)): the x86-64 flag and control-character
 * constants, the terminal ioctl request numbers, and `Termios`, the kernel's `struct ktermios` with
 * its user-space encodings (`struct termios`, 36 bytes, for TCGETS/TCSETS*; `struct termios2`, 44
 * bytes, for TCGETS2/TCSETS2*; `struct termio`, 18 bytes, for TCGETA/TCSETA*). Baud rates follow
 * drivers/tty/tty_baudrate.c: c_ispeed/c_ospeed are recomputed from the CBAUD/CIBAUD bits on every
 * set, BOTHER takes them as given.
 */

// c_iflag
export const IGNBRK = 0o1, BRKINT = 0o2, IGNPAR = 0o4, PARMRK = 0o10, INPCK = 0o20, ISTRIP = 0o40, INLCR = 0o100,
  IGNCR = 0o200, ICRNL = 0o400, IUCLC = 0o1000, IXON = 0o2000, IXANY = 0o4000, IXOFF = 0o10000, IMAXBEL = 0o20000,
  IUTF8 = 0o40000;
// c_oflag
export const OPOST = 0o1, OLCUC = 0o2, ONLCR = 0o4, OCRNL = 0o10, ONOCR = 0o20, ONLRET = 0o40, TABDLY = 0o14000,
  XTABS = 0o14000;
// c_cflag
export const CBAUD = 0o10017, B0 = 0, B38400 = 0o17, CSIZE = 0o60, CS8 = 0o60, CREAD = 0o200, PARENB = 0o400,
  HUPCL = 0o2000, CLOCAL = 0o4000, CBAUDEX = 0o10000, BOTHER = 0o10000, CIBAUD = 0o2003600000, IBSHIFT = 16;
// c_lflag
export const ISIG = 0o1, ICANON = 0o2, ECHO = 0o10, ECHOE = 0o20, ECHOK = 0o40, ECHONL = 0o100, NOFLSH = 0o200,
  TOSTOP = 0o400, ECHOCTL = 0o1000, ECHOPRT = 0o2000, ECHOKE = 0o4000, FLUSHO = 0o10000, PENDIN = 0o40000,
  IEXTEN = 0o100000, EXTPROC = 0o200000;
// c_cc indexes
export const VINTR = 0, VQUIT = 1, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6, VSWTC = 7, VSTART = 8,
  VSTOP = 9, VSUSP = 10, VEOL = 11, VREPRINT = 12, VDISCARD = 13, VWERASE = 14, VLNEXT = 15, VEOL2 = 16;
/** Control characters in the kernel's struct termios (glibc's has 32, the tail unused). */
export const NCCS = 19;
/** A c_cc value that disables the function (_POSIX_VDISABLE). */
export const DISABLED_CHAR = 0;

// ioctl requests (asm-generic/ioctls.h)
export const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TCGETA = 0x5405, TCSETA = 0x5406,
  TCSETAW = 0x5407, TCSETAF = 0x5408, TCSBRK = 0x5409, TCXONC = 0x540a, TCFLSH = 0x540b, TIOCEXCL = 0x540c,
  TIOCNXCL = 0x540d, TIOCSCTTY = 0x540e, TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410, TIOCOUTQ = 0x5411,
  TIOCSTI = 0x5412, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, TIOCMGET = 0x5415, TIOCGSOFTCAR = 0x5419,
  TIOCSSOFTCAR = 0x541a, TIOCINQ = 0x541b, TIOCCONS = 0x541d, TIOCPKT = 0x5420, TIOCNOTTY = 0x5422,
  TIOCSETD = 0x5423, TIOCGETD = 0x5424, TCSBRKP = 0x5425, TIOCSBRK = 0x5427, TIOCCBRK = 0x5428, TIOCGSID = 0x5429,
  TCGETS2 = 0x802c542a, TCSETS2 = 0x402c542b, TCSETSW2 = 0x402c542c, TCSETSF2 = 0x402c542d, TIOCGPTN = 0x80045430,
  TIOCSPTLCK = 0x40045431, TIOCGDEV = 0x80045432, TIOCSIG = 0x40045436, TIOCVHANGUP = 0x5437,
  TIOCGPKT = 0x80045438, TIOCGPTLCK = 0x80045439, TIOCGEXCL = 0x80045440, TIOCGPTPEER = 0x5441;
// TCFLSH / TCXONC arguments
export const TCIFLUSH = 0, TCOFLUSH = 1, TCIOFLUSH = 2;
export const TCOOFF = 0, TCOON = 1, TCIOFF = 2, TCION = 3;
// TIOCPKT status bits
export const TIOCPKT_DATA = 0, TIOCPKT_FLUSHREAD = 1, TIOCPKT_FLUSHWRITE = 2, TIOCPKT_STOP = 4, TIOCPKT_START = 8,
  TIOCPKT_NOSTOP = 16, TIOCPKT_DOSTOP = 32, TIOCPKT_IOCTL = 64;
/** The N_TTY line discipline number (TIOCGETD/TIOCSETD). */
export const N_TTY = 0;

/** tty_baudrate.c's baud_table: index (CBAUD with CBAUDEX folded to 16…) → bits per second. */
const BAUD_TABLE = [
  0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800,
  500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
];

function baudOf(cbaud: number, given: number): number {
  if (cbaud === BOTHER) return given;
  let i = cbaud;
  if (i & CBAUDEX) i = (i & ~CBAUDEX) + 15;
  return BAUD_TABLE[i] ?? 0;
}

/** Terminal window size (struct winsize: rows, columns, x and y pixels; u16 each). */
export interface Winsize {
  row: number;
  col: number;
  xpixel: number;
  ypixel: number;
}

export function decodeWinsize(b: Uint8Array): Winsize {
  const dv = new DataView(b.buffer, b.byteOffset, 8);
  return { row: dv.getUint16(0, true), col: dv.getUint16(2, true), xpixel: dv.getUint16(4, true), ypixel: dv.getUint16(6, true) };
}

export function encodeWinsize(w: Winsize): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, w.row, true);
  dv.setUint16(2, w.col, true);
  dv.setUint16(4, w.xpixel, true);
  dv.setUint16(6, w.ypixel, true);
  return b;
}

/** struct ktermios: flags, line discipline, control characters and the two speeds (bits/s). */
export class Termios {
  iflag = 0;
  oflag = 0;
  cflag = 0;
  lflag = 0;
  line = N_TTY;
  cc = new Uint8Array(NCCS);
  ispeed = 0;
  ospeed = 0;

  clone(): Termios {
    const t = new Termios();
    t.iflag = this.iflag;
    t.oflag = this.oflag;
    t.cflag = this.cflag;
    t.lflag = this.lflag;
    t.line = this.line;
    t.cc = this.cc.slice();
    t.ispeed = this.ispeed;
    t.ospeed = this.ospeed;
    return t;
  }

  /** tty_std_termios: what a new terminal starts with (a pty slave: with c_cflag B38400|CS8|CREAD). */
  static standard(): Termios {
    const t = new Termios();
    t.iflag = ICRNL | IXON;
    t.oflag = OPOST | ONLCR;
    t.cflag = B38400 | CS8 | CREAD | HUPCL;
    t.lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
    // INIT_C_CC: ^C ^\ DEL ^U ^D, TIME 0, MIN 1, SWTC 0, ^Q ^S ^Z, EOL 0, ^R ^O ^W ^V, EOL2 0.
    t.cc.set([3, 0o34, 0o177, 0o25, 4, 0, 1, 0, 0o21, 0o23, 0o32, 0, 0o22, 0o17, 0o27, 0o26, 0]);
    t.ispeed = 38400;
    t.ospeed = 38400;
    return t;
  }

  /** Output speed from the flags (tty_termios_baud_rate). */
  outputBaud(): number {
    return baudOf(this.cflag & CBAUD, this.ospeed);
  }
  /** Input speed from the flags (tty_termios_input_baud_rate): CIBAUD B0 means "same as output". */
  inputBaud(): number {
    const c = (this.cflag >>> IBSHIFT) & CBAUD;
    if (c === B0) return this.outputBaud();
    return baudOf(c, this.ispeed);
  }

  /** Encode as struct termios (36 bytes) or, with `v2`, struct termios2 (44 bytes). */
  encode(v2: boolean): Uint8Array {
    const b = new Uint8Array(v2 ? 44 : 36);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, this.iflag >>> 0, true);
    dv.setUint32(4, this.oflag >>> 0, true);
    dv.setUint32(8, this.cflag >>> 0, true);
    dv.setUint32(12, this.lflag >>> 0, true);
    b[16] = this.line;
    b.set(this.cc, 17);
    if (v2) {
      dv.setUint32(36, this.ispeed >>> 0, true);
      dv.setUint32(40, this.ospeed >>> 0, true);
    }
    return b;
  }

  /**
   * A copy of this with the fields of a user struct termios (36 bytes) or termios2 (44) applied, the
   * speeds recomputed as set_termios() does.
   */
  decoded(b: Uint8Array): Termios {
    const t = this.clone();
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    t.iflag = dv.getUint32(0, true);
    t.oflag = dv.getUint32(4, true);
    t.cflag = dv.getUint32(8, true);
    t.lflag = dv.getUint32(12, true);
    t.line = b[16]!;
    t.cc = b.slice(17, 17 + NCCS);
    if (b.length >= 44) {
      t.ispeed = dv.getUint32(36, true);
      t.ospeed = dv.getUint32(40, true);
    }
    t.ispeed = t.inputBaud();
    t.ospeed = t.outputBaud();
    return t;
  }

  /** struct termio (18 bytes: the low 16 bits of each flag, the line and 8 control characters). */
  encodeTermio(): Uint8Array {
    const b = new Uint8Array(18);
    const dv = new DataView(b.buffer);
    dv.setUint16(0, this.iflag & 0xffff, true);
    dv.setUint16(2, this.oflag & 0xffff, true);
    dv.setUint16(4, this.cflag & 0xffff, true);
    dv.setUint16(6, this.lflag & 0xffff, true);
    b[8] = this.line;
    b.set(this.cc.subarray(0, 8), 9);
    return b;
  }

  /** A copy with a user struct termio applied (user_termio_to_kernel_termios: high flag bits kept). */
  decodedTermio(b: Uint8Array): Termios {
    const t = this.clone();
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    t.iflag = (t.iflag & 0xffff0000) | dv.getUint16(0, true);
    t.oflag = (t.oflag & 0xffff0000) | dv.getUint16(2, true);
    t.cflag = (t.cflag & 0xffff0000) | dv.getUint16(4, true);
    t.lflag = (t.lflag & 0xffff0000) | dv.getUint16(6, true);
    t.line = b[8]!;
    t.cc.set(b.subarray(9, 17));
    t.ispeed = t.inputBaud();
    t.ospeed = t.outputBaud();
    return t;
  }
}
