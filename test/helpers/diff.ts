// A small line-based unified diff, for readable failure messages.

type Op = { kind: ' ' | '-' | '+'; line: string };

function lcsOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // Trim common prefix/suffix to keep the table small.
  let pre = 0;
  while (pre < n && pre < m && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < n - pre && suf < m - pre && a[n - 1 - suf] === b[m - 1 - suf]) suf++;
  const A = a.slice(pre, n - suf);
  const B = b.slice(pre, m - suf);
  const ops: Op[] = a.slice(0, pre).map((line) => ({ kind: ' ', line }));
  if (A.length * B.length > 4_000_000) {
    // Too big for the quadratic table: show it as replace-all.
    for (const line of A) ops.push({ kind: '-', line });
    for (const line of B) ops.push({ kind: '+', line });
  } else {
    const w = B.length + 1;
    const t = new Uint32Array((A.length + 1) * w);
    for (let i = A.length - 1; i >= 0; i--)
      for (let j = B.length - 1; j >= 0; j--)
        t[i * w + j] = A[i] === B[j] ? t[(i + 1) * w + j + 1] + 1 : Math.max(t[(i + 1) * w + j], t[i * w + j + 1]);
    let i = 0;
    let j = 0;
    while (i < A.length && j < B.length) {
      if (A[i] === B[j]) {
        ops.push({ kind: ' ', line: A[i] });
        i++;
        j++;
      } else if (t[(i + 1) * w + j] >= t[i * w + j + 1]) {
        ops.push({ kind: '-', line: A[i++] });
      } else {
        ops.push({ kind: '+', line: B[j++] });
      }
    }
    while (i < A.length) ops.push({ kind: '-', line: A[i++] });
    while (j < B.length) ops.push({ kind: '+', line: B[j++] });
  }
  for (const line of a.slice(n - suf)) ops.push({ kind: ' ', line });
  return ops;
}

function splitLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += '  ⟵ (no newline at end)';
  return lines;
}

/**
 * Unified diff of two texts, `-` lines from `a`, `+` lines from `b`, with
 * `context` unchanged lines around each change. Returns '' when equal.
 */
export function unifiedDiff(a: string, b: string, labels = { a: 'expected', b: 'actual' }, context = 3): string {
  if (a === b) return '';
  const ops = lcsOps(splitLines(a), splitLines(b));
  const out: string[] = [`--- ${labels.a}`, `+++ ${labels.b}`];
  const changed = ops.map((o) => o.kind !== ' ');
  const keep = ops.map((_, i) => {
    for (let k = Math.max(0, i - context); k <= Math.min(ops.length - 1, i + context); k++) if (changed[k]) return true;
    return false;
  });
  let aLine = 1;
  let bLine = 1;
  let inHunk = false;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    if (keep[i]) {
      if (!inHunk) {
        out.push(`@@ line ${aLine} (${labels.a}) / ${bLine} (${labels.b}) @@`);
        inHunk = true;
      }
      out.push(`${o.kind} ${o.line}`);
    } else {
      inHunk = false;
    }
    if (o.kind !== '+') aLine++;
    if (o.kind !== '-') bLine++;
  }
  if (a !== b && out.length === 2) out.push('(texts differ only in trailing newline)');
  return out.join('\n');
}
