/**
 * The self-contained HTML report: a targets table, a bar chart and a table per case, the scaling
 * curves and the memory points. Charts are inline SVG written here; nothing is loaded from elsewhere.
 */
import type { CaseResult, Results, Stats, TargetResult } from './analyze.js';
import type { SyncTiming } from './sync-timing.js';

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A number in a few significant digits. */
export function fmt(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en');
  return Number(n.toPrecision(digits)).toString();
}

const COLORS: Record<string, string> = {
  ours: '#1f6feb', 'ours-strict': '#1f6feb', 'ours-relaxed': '#58a6ff',
  raw: '#8957e5', 'raw-strict': '#8957e5', 'raw-relaxed': '#bc8cff',
  idb: '#d29922', 'idb-strict': '#d29922', 'idb-relaxed': '#e3b341',
  postMessage: '#6e7781', reread: '#cf222e',
  dexie: '#2da44e', 'dexie-strict': '#2da44e', 'dexie-default': '#7ee2a8',
};
const colorOf = (name: string, i: number) => COLORS[name] ?? ['#2da44e', '#bf3989', '#0550ae', '#953800', '#1a7f37', '#8250df', '#57606a'][i % 7]!;

/** Horizontal bars of ops/s, one per contender, on a log scale so that floors and slow baselines both fit. */
function barChart(stats: Record<string, Stats>): string {
  const entries = Object.entries(stats);
  const rowH = 22;
  const labelW = 240;
  const plotW = 420;
  const values = entries.map(([, s]) => s.opsPerSec).filter((v) => v > 0 && Number.isFinite(v));
  const max = Math.log10(Math.max(...values, 1) * 1.5);
  const min = Math.min(0, Math.floor(Math.log10(Math.min(...values, 1))));
  const x = (v: number) => ((Math.log10(Math.max(v, 10 ** min)) - min) / (max - min)) * plotW;
  const bars = entries
    .map(([name, s], i) => {
      const y = i * rowH;
      const w = Number.isFinite(s.opsPerSec) ? Math.max(1, x(s.opsPerSec)) : 0;
      return `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(name)}</text>
<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colorOf(name, i)}"/>
<text x="${labelW + w + 4}" y="${y + 15}">${fmt(s.opsPerSec)} ops/s</text>`;
    })
    .join('\n');
  return `<svg class="chart" width="${labelW + plotW + 110}" height="${entries.length * rowH + 4}" font-size="12" font-family="sans-serif">${bars}</svg>`;
}

function caseTable(c: CaseResult): string {
  const rows = Object.entries(c.stats)
    .map(([name, s]) => `<tr><td>${esc(name)}</td><td>${fmt(s.p50)}</td><td>${fmt(s.p95)}</td><td>${fmt(s.mean)}</td><td>${fmt(s.opsPerSec)}</td><td>${s.ops}</td></tr>`)
    .join('');
  const ratios = Object.entries(c.ratios)
    .map(([k, v]) => `<li>${esc(k)}: <b>${fmt(v)}×</b></li>`)
    .join('');
  return `<table><tr><th>contender</th><th>p50 ms</th><th>p95 ms</th><th>mean ms</th><th>ops/s</th><th>ops</th></tr>${rows}</table>
${ratios ? `<ul class="ratios">${ratios}</ul>` : ''}`;
}

/** A line chart of mean ms/op against database size (log x), one line per series. */
function lineChart(title: string, series: { name: string; points: [number, number][] }[]): string {
  const W = 560;
  const H = 240;
  const pad = { l: 60, r: 150, t: 24, b: 36 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  if (xs.length === 0 || ys.length === 0) return '';
  const x0 = Math.log10(Math.min(...xs));
  const x1 = Math.max(x0 + 1, Math.log10(Math.max(...xs)));
  const y1 = Math.max(...ys) * 1.15 || 1;
  const px = (v: number) => pad.l + ((Math.log10(v) - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const py = (v: number) => H - pad.b - (v / y1) * (H - pad.t - pad.b);
  const ticks = [...new Set(xs)].map((v) => `<text x="${px(v)}" y="${H - pad.b + 16}" text-anchor="middle">${fmt(v)}</text>`).join('');
  const yticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${pad.l - 6}" y="${py(f * y1) + 4}" text-anchor="end">${fmt(f * y1, 2)}</text><line x1="${pad.l}" x2="${W - pad.r}" y1="${py(f * y1)}" y2="${py(f * y1)}" stroke="#eee"/>`).join('');
  const lines = series
    .map((s, i) => {
      const c = colorOf(s.name, i);
      const pts = s.points.map(([a, b]) => `${px(a).toFixed(1)},${py(b).toFixed(1)}`).join(' ');
      const dots = s.points.map(([a, b]) => `<circle cx="${px(a).toFixed(1)}" cy="${py(b).toFixed(1)}" r="3" fill="${c}"/>`).join('');
      return `<polyline points="${pts}" fill="none" stroke="${c}" stroke-width="2"/>${dots}<text x="${W - pad.r + 8}" y="${pad.t + 14 + i * 16}" fill="${c}">${esc(s.name)}</text>`;
    })
    .join('');
  return `<svg class="chart" width="${W}" height="${H}" font-size="11" font-family="sans-serif"><text x="${pad.l}" y="14" font-weight="bold">${esc(title)}</text>${yticks}${ticks}
<text x="${(W - pad.r + pad.l) / 2}" y="${H - 4}" text-anchor="middle">messages in the database (log)</text><text x="12" y="${pad.t + 8}">ms/op</text>${lines}</svg>`;
}

function scalingSection(r: Results): string {
  const scaling = r.cases.filter((c) => c.group === 'scaling');
  if (scaling.length === 0) return '';
  const curve = (prefix: string, contender: string) => ({
    name: `${contender} ${prefix}`,
    points: scaling.filter((c) => c.id.startsWith(`scaling-${prefix}-`) && c.stats[contender]).map((c) => [Number(c.params['messages']), c.stats[contender]!.mean] as [number, number]),
  });
  const memRows = r.memory
    .map((m) => `<tr><td>${esc(m.contender)}</td><td>${fmt(m.messages)}</td><td>${fmt(m.heapBytes / 2 ** 20)}</td><td>${m.sqliteBytes === null ? '–' : fmt(m.sqliteBytes / 2 ** 20)}</td></tr>`)
    .join('');
  return `<h2>Scaling</h2>
<p>The same probe thread is appended to and read (limit 100) while the rest of the database grows.</p>
${lineChart('appendMessage, strict', [curve('append', 'ours-strict'), curve('append', 'raw-strict')])}
${lineChart('listMessages(probe, 100)', [curve('list', 'ours'), curve('list', 'raw')])}
<h3>Worker memory</h3>
<p>wasm heap of the worker (the package's worker hosted by the bench page, and the raw worker); sqlite3_memory_used where the raw engine can report it.
performance.measureUserAgentSpecificMemory needs cross-origin isolation, which the bench page does not have (see the note below).</p>
<table><tr><th>worker</th><th>messages</th><th>wasm heap MiB</th><th>SQLite in use MiB</th></tr>${memRows}</table>`;
}

const verdictOf = (t: TargetResult) => (t.pass === null ? 'not measured' : t.pass ? 'pass' : 'miss');

/** The load average as the run recorded it, before and after, for the report and the Markdown. */
function loadLine(r: Results): string {
  const list = (v: unknown) => (Array.isArray(v) ? v.join(' / ') : '–');
  return `load average (1/5/15 min) ${list(r.meta['loadAverageBefore'])} before the run, ${list(r.meta['loadAverageAfter'])} after`;
}

/**
 * The targets as a Markdown table to paste into the README: one row per target with the measured
 * value, the figures behind it and pass/miss, and a line on when and under what load it ran.
 */
export function renderTargetsMarkdown(r: Results, sync: SyncTiming[] = []): string {
  const rows = r.targets.map((t) => `| ${t.group} | ${t.description} | ${t.goal} | ${fmt(t.value)} ${t.unit}${t.detail ? ` (${t.detail})` : ''} | ${verdictOf(t)} |`);
  return [
    `Run of ${String(r.meta['date'] ?? '').slice(0, 16).replace('T', ' ')} UTC${r.config.quick ? ' (quick run: sizes too small for the targets)' : ''}, commit ${String(r.meta['commit'])}` +
      `${r.meta['sourceDirty'] ? ' with uncommitted src/worker changes' : ''}, ${String(r.meta['durationSeconds'])} s; ${loadLine(r)}.`,
    'Ratios are times as fast as Dexie (ops/s from batch time, both measured side by side, interleaved round by round, persistent on-disk profile).',
    '',
    '| group | target | goal | measured | verdict |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...(sync.length > 0
      ? [
          'Measured by the sync suite (test/sync: Chromium devices against a local workerd sync server), no target:',
          '',
          '| measured | value | when, and the load |',
          '|---|---|---|',
          ...sync.map((t) => `| ${t.description} | ${fmt(t.value)} ${t.unit} | ${t.date.slice(0, 16).replace('T', ' ')} UTC, commit ${String(t.commit)}; ${t.detail} |`),
          '',
        ]
      : []),
  ].join('\n');
}

/** The whole report as one HTML document. */
export function renderReport(r: Results, sync: SyncTiming[] = []): string {
  const targets = r.targets
    .map((t) => {
      const verdict = `<td class="${t.pass === null ? 'na' : t.pass ? 'pass' : 'miss'}">${verdictOf(t)}</td>`;
      return `<tr><td>${esc(t.group)}</td><td>${esc(t.description)}</td><td>${esc(t.goal)}</td><td>${fmt(t.value)} ${esc(t.unit)}${t.detail ? `<br><small>${esc(t.detail)}</small>` : ''}</td>${verdict}</tr>`;
    })
    .join('');
  const sections = r.cases
    .filter((c) => c.group !== 'scaling')
    .map((c) => `<section><h3>${esc(c.title)}</h3><p class="params">${esc(JSON.stringify(c.params))}</p>${barChart(c.stats)}${caseTable(c)}</section>`)
    .join('\n');
  const meta = Object.entries(r.meta).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>agent-state-store benchmarks</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1000px;color:#1f2328}
table{border-collapse:collapse;margin:6px 0 10px}td,th{border:1px solid #d0d7de;padding:3px 8px;font-size:13px;text-align:right}
td:first-child,th:first-child{text-align:left}.pass{background:#dafbe1}.miss{background:#ffebe9}.na{background:#f6f8fa}
section{border-top:1px solid #d0d7de;padding-top:6px}.params{color:#57606a;font-size:12px;margin:0}.ratios{font-size:13px;margin:0 0 8px}
.chart{display:block;margin:6px 0}
</style></head><body>
<h1>agent-state-store benchmarks${r.config.quick ? ' (quick run)' : ''}</h1>
<p>All contenders run in one page of Debian Chromium with an on-disk profile, interleaved round by round, so ratios hold on a noisy machine.
ours = the store through <code>openStateStore</code>; raw = sqlite-wasm in a worker, same VFS, pragmas and SQL, no API;
idb = IndexedDB, one transaction per operation; dexie = Dexie 4 in the page (default, or <code>chromeTransactionDurability: 'strict'</code>), one rw transaction per append, the branch as one indexed query walked in JS; postMessage = a worker ping-pong with the same payloads; reread = the seed's session-index lookup.
Bars are ops/s on a log scale. Latencies are per operation; timers are coarsened to about ${fmt(Number(r.meta['timerResolutionMs']))} ms without cross-origin isolation, so mean (from batch time) is the precise figure.</p>
<h2>Targets</h2><p>${esc(loadLine(r))}. Under contention a Node spin loop pinned to one core runs while the contention cases measure.</p>
<table><tr><th>group</th><th>target</th><th>goal</th><th>measured</th><th>verdict</th></tr>${targets}</table>
${sync.length > 0 ? `<h2>Sync</h2><p>Measured by the sync suite (test/sync: Chromium devices against a local workerd sync server); no target.</p>
<table><tr><th>measured</th><th>value</th><th>when, and the load</th></tr>${sync.map((t) => `<tr><td>${esc(t.description)}</td><td>${fmt(t.value)} ${esc(t.unit)}</td><td>${esc(`${t.date.slice(0, 16).replace('T', ' ')} UTC, commit ${String(t.commit)}; ${t.detail}`)}</td></tr>`).join('')}</table>` : ''}
${scalingSection(r)}
<h2>Cases</h2>${sections}
<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<h2>Run</h2><table>${meta}</table>
</body></html>`;
}
