import { formatDuration, formatRollTime } from '@berth/core';
import type { ReportData } from './report-data.js';

const COLORS: Readonly<Record<string, string>> = {
  launching: '#c6dbef',
  attaching: '#9ecae1',
  mounting: '#6baed6',
  configuring: '#4292c6',
  joining: '#2171b5',
  healthy: '#74c476',
  'in-service': '#31a354',
  terminating: '#fdae6b',
  down: '#de2d26',
  failed: '#a50f15',
  partitioned: '#9e9ac8',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Tick steps people read easily: whole seconds, minutes and hours (sub-second only for tiny spans). */
const STEPS_MS = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000];

/** The smallest readable step that draws at most `maxTicks` intervals over `spanMs`. */
export function tickStepMs(spanMs: number, maxTicks = 10): number {
  return STEPS_MS.find((s) => spanMs / s <= maxTicks) ?? Math.ceil(spanMs / maxTicks / 3_600_000) * 3_600_000;
}

/** The verdict line: the invariants and the run (a seed and profile for a simulator trace; the target for a live recording). */
function verdict(data: ReportData, violated: number): string {
  const held = data.invariants.length === 0 ? 'No invariants checked' : violated === 0 ? `All ${data.invariants.length} invariants held` : `${violated} of ${data.invariants.length} invariants violated`;
  const run =
    data.source === 'live'
      ? `recorded live${data.target ? ` on ${esc(data.target)}` : ''}, ${data.nodes.length} nodes${data.scenario.maxUnavailable > 0 ? `, maxUnavailable ${data.scenario.maxUnavailable}` : ''}; ${data.ok ? 'ok' : 'not ok'}`
      : `seed ${data.seed}, ${data.nodes.length} nodes, ${esc(data.scenario.profile)} profile, maxUnavailable ${data.scenario.maxUnavailable}; liveness: ${esc(data.liveness?.outcome ?? 'not judged')}${data.liveness?.pending.length ? ` (pending: ${esc(data.liveness.pending.map((p) => `${p.nodeId}: ${p.reason}`).join('; '))})` : ''}`;
  return `<p id="verdict" class="${data.ok ? 'good' : 'bad'}">${held} — ${run}</p>`;
}

/** A margin as a signed count of members: `+2`, `0`, `−1`. */
const signed = (n: number) => (n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0');

/**
 * A self-contained HTML report (inline SVG and CSS, no script, no network): one lane per node
 * with its phase over time, the quorum margin, faults, batches, sessions and the invariants
 * checked. The JSON of `data` is embedded too. Times are shown relative to the roll's start
 * (`+1m05s`, as in roll reports and the demo), batches numbered from 1.
 *
 * @example
 * ```ts
 * const result = await runScenario(scenario, { keepEvidence: true });
 * await writeFile('chaos.html', renderHtmlReport(buildReportData(result)));
 * ```
 */
export function renderHtmlReport(data: ReportData): string {
  const left = 120;
  const width = 1000;
  const lane = 26;
  const span = Math.max(1, data.endMs);
  const x = (ms: number) => left + (Math.max(0, Math.min(ms, span)) / span) * (width - left - 10);
  const top = 40;
  const lanesH = data.nodes.length * lane;
  const marginTop = top + lanesH + 34;
  const marginH = 80;
  const maxM = Math.max(1, ...data.quorumMargin.map((m) => Math.abs(m.margin)));
  const my = (m: number) => marginTop + marginH / 2 - (m / maxM) * (marginH / 2 - 4);
  const height = marginTop + marginH + 46;
  const svg: string[] = [];
  svg.push(`<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline">`);
  // Time axis: readable steps, labelled as time since the roll started.
  const step = tickStepMs(span);
  for (let t = 0; t <= span; t += step) {
    svg.push(`<line x1="${x(t)}" y1="${top - 5}" x2="${x(t)}" y2="${marginTop + marginH}" stroke="#eee"/><text class="time-tick" x="${x(t)}" y="${top - 10}" font-size="10" text-anchor="middle">${formatRollTime(t)}</text>`);
  }
  svg.push(`<text class="axis-title" x="${left}" y="12" font-size="11" fill="#555">time since ${esc(data.origin ?? 'the roll started')} (ticks every ${formatDuration(step)})</text>`);
  data.nodes.forEach((n, i) => {
    const y = top + i * lane;
    svg.push(`<text class="node-label" x="4" y="${y + 17}" font-size="12">${esc(n.nodeId)}</text>`);
    for (const s of n.segments) {
      svg.push(`<rect x="${x(s.fromMs)}" y="${y + 3}" width="${Math.max(0.5, x(s.toMs) - x(s.fromMs))}" height="${lane - 6}" fill="${COLORS[s.state] ?? '#bbb'}"><title>${esc(n.nodeId)}: ${esc(s.state)} ${formatRollTime(s.fromMs)} → ${formatRollTime(s.toMs)} (${formatDuration(s.toMs - s.fromMs)})</title></rect>`);
    }
  });
  for (const b of data.batches) {
    svg.push(`<rect x="${x(b.startMs)}" y="${top - 4}" width="${Math.max(1, x(b.endMs ?? span) - x(b.startMs))}" height="${lanesH + 4}" fill="none" stroke="#333" stroke-dasharray="3 2"><title>batch ${b.index + 1} (${esc(b.session)}): ${esc(b.nodeIds.join(', '))}, ${formatRollTime(b.startMs)} → ${b.endMs === null ? 'not finished' : formatRollTime(b.endMs)}</title></rect>`);
  }
  for (const f of data.faults) {
    svg.push(`<line x1="${x(f.atMs)}" y1="${top - 4}" x2="${x(f.atMs)}" y2="${top + lanesH}" stroke="#d62728" stroke-width="2"><title>${formatRollTime(f.atMs)} ${esc(f.kind)} ${esc(f.detail)}</title></line><text x="${x(f.atMs) + 2}" y="${top + lanesH + 12}" font-size="9" fill="#d62728">${esc(f.kind)}</text>`);
  }
  // Quorum margin: healthy reachable members above the quorum, with its unit on the axis.
  svg.push(`<text class="axis-title" x="4" y="${marginTop + marginH / 2 - 6}" font-size="11">quorum margin</text><text class="axis-title" x="4" y="${marginTop + marginH / 2 + 8}" font-size="10" fill="#555">(members)</text>`);
  for (let m = -maxM; m <= maxM; m++) {
    if (maxM > 4 && m % Math.ceil(maxM / 4) !== 0) continue;
    svg.push(`<text class="margin-tick" x="${left - 4}" y="${my(m) + 3}" font-size="9" text-anchor="end">${signed(m)}</text><line x1="${left - 2}" y1="${my(m)}" x2="${left}" y2="${my(m)}" stroke="#999"/>`);
  }
  svg.push(`<line x1="${left}" y1="${my(0)}" x2="${width - 10}" y2="${my(0)}" stroke="#999" stroke-dasharray="4 3"><title>0: exactly a quorum healthy, no further failure tolerated</title></line>`);
  const pts: string[] = [];
  data.quorumMargin.forEach((m, i) => {
    const next = data.quorumMargin[i + 1]?.atMs ?? span;
    pts.push(`${x(m.atMs)},${my(m.margin)} ${x(next)},${my(m.margin)}`);
  });
  svg.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  svg.push('</svg>');

  const legend = Object.entries(COLORS).map(([k, c]) => `<span class="key"><i style="background:${c}"></i>${esc(k)}</span>`).join(' ');
  const rows = (items: readonly string[]) => items.map((r) => `<tr>${r}</tr>`).join('');
  const violated = data.invariants.filter((i) => i.violations > 0).length;
  const inv = rows(data.invariants.map((i) => `<td>${i.number}</td><td>${esc(i.id)}</td><td class="${i.violations ? 'bad' : 'good'}">${i.violations ? `${i.violations} violation(s)` : 'held'}</td><td>${esc(i.messages.join(' | '))}</td>`));
  const faults = rows(data.faults.map((f) => `<td>${formatRollTime(f.atMs)}</td><td>${esc(f.kind)}</td><td>${esc(f.detail)}</td>`));
  const batches = rows(data.batches.map((b) => `<td>${esc(b.session)}</td><td>${b.index + 1}</td><td>${esc(b.nodeIds.join(', '))}</td><td>${formatRollTime(b.startMs)}</td><td>${b.endMs === null ? '—' : formatRollTime(b.endMs)}</td><td>${b.endMs === null ? '—' : formatDuration(b.endMs - b.startMs)}</td>`));
  const sessions = rows(data.sessions.map((s) => `<td>${esc(s.session)}</td><td>${esc(s.outcome)}</td><td>${formatRollTime(s.startedAtMs)}</td><td>${s.settledAtMs === null ? '—' : formatRollTime(s.settledAtMs)}</td><td>${esc(s.message ?? '')}</td>`));
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const r = data.replacements;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(data.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:20px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:12px}.bad{color:#a50f15;font-weight:bold}.good{color:#31a354}.key{margin-right:10px;font-size:12px}.key i{display:inline-block;width:10px;height:10px;margin-right:3px}</style>
</head><body>
<h1>${esc(data.title)}</h1>
${verdict(data, violated)}
${data.stopped ? `<p id="stopped" class="bad">Stopped at ${formatRollTime(data.stopped.atMs)}: ${esc(data.stopped.reason)} — ${esc(data.stopped.detail)}</p>\n` : ''}
<p id="replacements">${r.finished} of ${data.nodes.length} nodes replaced${r.started > r.finished ? ` (${r.started - r.finished} more started, not finished)` : ''}; ${data.batches.length} batch${data.batches.length === 1 ? '' : 'es'}; timeline ${formatDuration(data.endMs)} from ${data.origin ? `when ${esc(data.origin)}` : "the roll's start"}</p>
<h2>Timeline</h2>
${data.resolution ? `<p id="resolution">${esc(data.resolution.note)}</p>\n` : ''}<div>${legend} <span class="key"><i style="background:#d62728"></i>fault</span> <span class="key">dashed box: batch</span></div>
${svg.join('\n')}
<h2>Invariants: ${data.invariants.length} checked, at ${data.checks.length} point${data.checks.length === 1 ? '' : 's'}${data.source === 'live' && data.invariants.length === 0 ? ' (a live recording checks none: run the game-day in the simulator for that)' : ''}</h2><table><tr><th>#</th><th>invariant</th><th>result</th><th>details</th></tr>${inv}</table>
<h2>Faults injected</h2><table><tr><th>at</th><th>fault</th><th>detail</th></tr>${faults}</table>
<h2>Batches</h2><table><tr><th>controller</th><th>batch</th><th>nodes</th><th>started</th><th>finished</th><th>took</th></tr>${batches}</table>
<h2>Controllers</h2><table><tr><th>session</th><th>outcome</th><th>started</th><th>settled</th><th>message</th></tr>${sessions}</table>
<h2>Notes</h2><ul>${data.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<script type="application/json" id="report-data">${json}</script>
</body></html>
`;
}
