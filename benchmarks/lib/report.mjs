// Markdown tables and hand-written SVG bar charts from a results object (see run.mjs for its shape).

export const PLACEMENT_TITLES = { unpinned: 'unpinned', pinned: 'pinned to one CPU (taskset -c 0)' };

/** A number with 3 significant digits (no exponent). */
export function fmt(v) {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

const fmtRatio = (r) => (r === undefined || r === null || !Number.isFinite(r) ? "" : r >= 10 ? `×${r.toFixed(0)}` : r >= 0.1 ? `×${r.toFixed(1)}` : `×${r.toFixed(2)}`);

function cell(results, w, b, p) {
  return results.results.find((r) => r.workload === w && r.backend === b && r.placement === p);
}

function backendNote(b) {
  if (b.status === 'ok') return '';
  return b.status === 'hangs' ? 'hangs' : 'n/a';
}

/** The Markdown report: machine, backends, one matrix per placement, exits, details. */
export function markdown(results, { detail = true, heading = '#' } = {}) {
  const h2 = `${heading}#`;
  const L = [];
  const m = results.machine;
  const v = results.versions;
  L.push(`${heading} tsvisor benchmarks — ${results.startedAt}${results.quick ? ' (quick smoke run: numbers are not meaningful)' : ''}`);
  L.push('');
  L.push(`Machine: ${m.cpuModel}, ${m.nproc} CPUs, ${m.memTotalGiB} GiB; \`${m.uname}\`.`);
  L.push(
    `Load average (1 min) at start ${m.loadavgStart[0].toFixed(2)}, at end ${m.loadavgEnd[0].toFixed(2)}, highest seen ${m.loadavgMax.toFixed(2)} ` +
      `(other work was running on the machine${m.loadavgMax > 1 ? ': expect noise' : ''}).`,
  );
  L.push(
    `Versions: node ${v.node}; runc ${v.runc?.replace(/^runc version /, '') ?? '–'}; runsc ${v.runsc?.replace(/^runsc version /, '') ?? '–'}; proot ${v.proot ?? '–'}; ${v.python3 ?? ''}; ` +
      `tsvisor ${v.tsvisorCommit?.slice(0, 12) ?? '?'}${v.tsvisorDirty ? ' (work tree had uncommitted changes)' : ''}.`,
  );
  L.push(
    `Method: ${results.options.runs} run(s) per cell${results.options.warmup ? ' after one warm-up run' : ''}, median (ratio to native's median in the same run and placement); ` +
      `lower is better. Micro workloads time their own inner loop (start-up excluded); "wall" ones time the whole command through the backend's CLI.`,
  );
  L.push('');
  L.push('Backends: ' + results.backends.map((b) => `**${b.label}** ${b.status === 'ok' ? 'ran' : `${b.status} (${b.reason})`}`).join('; ') + '.');
  L.push('');
  const bs = results.backends;
  for (const p of results.options.placements) {
    L.push(`${h2} ${PLACEMENT_TITLES[p]}`);
    L.push('');
    L.push(`| workload | unit | ${bs.map((b) => b.label).join(' | ')} |`);
    L.push(`|---|---|${bs.map(() => '---:').join('|')}|`);
    for (const w of results.workloads) {
      const cells = bs.map((b) => {
        if (b.status !== 'ok') return backendNote(b);
        const c = cell(results, w.id, b.id, p);
        if (!c) return b.workloads && !b.workloads.includes(w.id) ? '·' : '';
        if (c.median === undefined) return `fails`;
        return `${fmt(c.median)}${b.id === 'native' ? '' : ` ${fmtRatio(c.ratio)}`}${c.errors?.length ? ` ⚠${c.errors.length}` : ''}`;
      });
      L.push(`| ${w.title} | ${w.unit} | ${cells.join(' | ')} |`);
    }
    L.push('');
  }
  if (bs.some((b) => b.workloads)) L.push('·: not run on that backend (tsvisor run: whole-command workloads only; inside it is the kernel and platform of tsvisor do).\n');
  if (results.results.some((c) => c.errors?.length && c.median !== undefined))
    L.push('⚠n: n runs of that cell (warm-up included) failed and are left out of the median: see Failures.\n');
  const pending = results.pending ?? [];
  for (const reason of new Set(pending.map((x) => x.reason)))
    L.push(`Not run yet (${reason}): ${pending.filter((x) => x.reason === reason).map((x) => x.title).join(', ')}.\n`);
  const failures = results.results.filter((r) => r.errors?.length);
  if (failures.length) {
    L.push(`${h2} Failures`);
    L.push('');
    for (const f of failures) {
      const more = f.errors.length > 1 ? ` (${f.errors.length} failures${f.values.length ? `, ${f.values.length} runs succeeded` : ''}; the others: ${[...new Set(f.errors.slice(1))].join(' / ')})` : '';
      L.push(`- ${f.workload} on ${f.backend} (${f.placement}): ${f.errors[0]}${more}`);
    }
    L.push('');
  }
  if (results.exits?.length) {
    L.push(`${h2} Platform exits per operation`);
    L.push('');
    L.push(
      'Where a backend exposes a counter: tsvisor kvm counts KVM_RUN calls (native kvmStats(), read by KvmPlatform.stats()). ' +
        'Measured as the difference between two runs with different iteration counts, so start-up cancels out. ' +
        'tsvisor ptrace, runsc and proot expose no counter (omitted).',
    );
    L.push('');
    L.push('| workload | backend | exits per op | op |');
    L.push('|---|---|---:|---|');
    for (const e of results.exits) {
      const w = results.workloads.find((x) => x.id === e.workload);
      L.push(`| ${w?.title ?? e.workload} | ${e.backend} | ${e.exitsPerOp === undefined ? `fails: ${e.error}` : fmt(e.exitsPerOp)} | ${w?.unit.replace(/^[^/]*\/?/, '') || 'op'} |`);
    }
    L.push('');
  }
  if (detail) {
    L.push(`${h2} Details: median [min – max] of each cell`);
    L.push('');
    L.push(`| workload | backend | ${results.options.placements.map((p) => p).join(' | ')} |`);
    L.push(`|---|---|${results.options.placements.map(() => '---').join('|')}|`);
    for (const w of results.workloads)
      for (const b of bs) {
        if (b.status !== 'ok' || (b.workloads && !b.workloads.includes(w.id))) continue;
        const cells = results.options.placements.map((p) => {
          const c = cell(results, w.id, b.id, p);
          if (!c || c.median === undefined) return 'fails';
          return `${fmt(c.median)} [${fmt(c.min)} – ${fmt(c.max)}] ${w.unit}${b.id === 'native' ? '' : ` ${fmtRatio(c.ratio)}`}`;
        });
        L.push(`| ${w.id} | ${b.label} | ${cells.join(' | ')} |`);
      }
    L.push('');
  }
  return L.join('\n');
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = { unpinned: '#4e79a7', pinned: '#f28e2b' };

/** One horizontal grouped bar chart (a bar per placement for each backend, min–max whiskers). */
export function svgChart(results, w) {
  const bs = results.backends.filter((b) => !b.workloads || b.workloads.includes(w.id));
  const ps = results.options.placements;
  const barH = 14;
  const groupH = ps.length * barH + 10;
  const left = 130;
  const plotW = 460;
  const right = 150;
  const top = 46;
  const height = top + bs.length * groupH + 30;
  const width = left + plotW + right;
  let max = 0;
  for (const b of bs)
    for (const p of ps) {
      const c = cell(results, w.id, b.id, p);
      if (c?.max !== undefined) max = Math.max(max, c.max);
    }
  if (max <= 0) max = 1;
  // round axis: 4–8 ticks of 1, 2 or 5 × 10^k
  const mag = 10 ** Math.floor(Math.log10(max / 4));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => max / s <= 8) ?? 10 * mag;
  const ticks = Math.ceil(max / step);
  max = ticks * step;
  const x = (v) => left + (v / max) * plotW;
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  o.push(`<rect width="100%" height="100%" fill="white"/>`);
  o.push(`<text x="10" y="18" font-size="13" font-weight="bold">${esc(w.title)}</text>`);
  o.push(`<text x="10" y="34" fill="#555">${esc(`${w.unit}, lower is better; median of ${results.options.runs}, whiskers min–max; ${results.startedAt}`)}</text>`);
  ps.forEach((p, i) => {
    o.push(`<rect x="${width - right + 10}" y="${6 + i * 14}" width="10" height="10" fill="${COLORS[p]}"/>`);
    o.push(`<text x="${width - right + 24}" y="${6 + i * 14 + 9}">${esc(p === 'pinned' ? 'pinned (CPU 0)' : p)}</text>`);
  });
  bs.forEach((b, gi) => {
    const gy = top + gi * groupH;
    o.push(`<text x="${left - 6}" y="${gy + groupH / 2}" text-anchor="end">${esc(b.label)}</text>`);
    ps.forEach((p, pi) => {
      const y = gy + pi * barH;
      const c = cell(results, w.id, b.id, p);
      if (b.status !== 'ok' || !c || c.median === undefined) {
        const why = b.status === 'hangs' ? 'hangs' : b.status !== 'ok' ? 'n/a' : c ? 'fails' : '';
        o.push(`<text x="${left + 4}" y="${y + barH - 3}" fill="#999">${esc(why)}</text>`);
        return;
      }
      o.push(`<rect x="${left}" y="${y + 1}" width="${Math.max(1, x(c.median) - left).toFixed(1)}" height="${barH - 2}" fill="${COLORS[p]}"/>`);
      const my = y + barH / 2;
      o.push(`<line x1="${x(c.min).toFixed(1)}" x2="${x(c.max).toFixed(1)}" y1="${my}" y2="${my}" stroke="#333"/>`);
      const ratio = b.id === 'native' ? '' : ` ${fmtRatio(c.ratio)}`;
      const warn = c.errors?.length ? ` (${c.errors.length} failed)` : '';
      o.push(`<text x="${(x(c.max) + 4).toFixed(1)}" y="${y + barH - 3}">${esc(fmt(c.median) + ratio + warn)}</text>`);
    });
  });
  o.push(`<line x1="${left}" x2="${left}" y1="${top - 4}" y2="${height - 26}" stroke="#333"/>`);
  for (let k = 0; k <= ticks; k++) {
    const v = k * step;
    o.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${height - 26}" y2="${height - 22}" stroke="#333"/>`);
    o.push(`<text x="${x(v).toFixed(1)}" y="${height - 10}" text-anchor="middle" fill="#555">${esc(String(Number(v.toPrecision(6))))}</text>`);
  }
  o.push('</svg>');
  return o.join('\n');
}
