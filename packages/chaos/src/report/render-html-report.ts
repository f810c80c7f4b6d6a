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

/**
 * A self-contained HTML report (inline SVG and CSS, no script, no network): one lane per node
 * with its phase over time, the quorum margin, faults, batches, sessions and the invariants
 * checked. The JSON of `data` is embedded too.
 *
 * @example
 * ```ts
 * const result = await runScenario(scenario, { keepEvidence: true });
 * await writeFile('chaos.html', renderHtmlReport(buildReportData(result)));
 * ```
 */
export function renderHtmlReport(data: ReportData): string {
  const left = 110;
  const width = 1000;
  const lane = 26;
  const span = Math.max(1, data.endMs);
  const x = (ms: number) => left + (Math.max(0, Math.min(ms, span)) / span) * (width - left - 10);
  const top = 30;
  const lanesH = data.nodes.length * lane;
  const marginTop = top + lanesH + 30;
  const marginH = 80;
  const maxM = Math.max(1, ...data.quorumMargin.map((m) => Math.abs(m.margin)));
  const my = (m: number) => marginTop + marginH / 2 - (m / maxM) * (marginH / 2 - 4);
  const height = marginTop + marginH + 40;
  const svg: string[] = [];
  svg.push(`<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="timeline">`);
  for (let i = 0; i <= 10; i++) {
    const t = (span * i) / 10;
    svg.push(`<line x1="${x(t)}" y1="${top - 5}" x2="${x(t)}" y2="${marginTop + marginH}" stroke="#eee"/><text x="${x(t)}" y="${top - 10}" font-size="10" text-anchor="middle">${(t / 1000).toFixed(1)}s</text>`);
  }
  data.nodes.forEach((n, i) => {
    const y = top + i * lane;
    svg.push(`<text class="node-label" x="4" y="${y + 17}" font-size="12">${esc(n.nodeId)}</text>`);
    for (const s of n.segments) {
      svg.push(`<rect x="${x(s.fromMs)}" y="${y + 3}" width="${Math.max(0.5, x(s.toMs) - x(s.fromMs))}" height="${lane - 6}" fill="${COLORS[s.state] ?? '#bbb'}"><title>${esc(n.nodeId)}: ${esc(s.state)} ${s.fromMs}–${s.toMs} ms</title></rect>`);
    }
  });
  for (const b of data.batches) {
    svg.push(`<rect x="${x(b.startMs)}" y="${top - 4}" width="${Math.max(1, x(b.endMs ?? span) - x(b.startMs))}" height="${lanesH + 4}" fill="none" stroke="#333" stroke-dasharray="3 2"><title>batch ${b.index} (${esc(b.session)}): ${esc(b.nodeIds.join(', '))}</title></rect>`);
  }
  for (const f of data.faults) {
    svg.push(`<line x1="${x(f.atMs)}" y1="${top - 4}" x2="${x(f.atMs)}" y2="${top + lanesH}" stroke="#d62728" stroke-width="2"><title>${esc(f.kind)} ${esc(f.detail)}</title></line><text x="${x(f.atMs) + 2}" y="${top + lanesH + 12}" font-size="9" fill="#d62728">${esc(f.kind)}</text>`);
  }
  svg.push(`<text x="4" y="${marginTop + marginH / 2 + 4}" font-size="11">quorum margin</text>`);
  svg.push(`<line x1="${left}" y1="${my(0)}" x2="${width - 10}" y2="${my(0)}" stroke="#999" stroke-dasharray="4 3"/>`);
  const pts: string[] = [];
  data.quorumMargin.forEach((m, i) => {
    const next = data.quorumMargin[i + 1]?.atMs ?? span;
    pts.push(`${x(m.atMs)},${my(m.margin)} ${x(next)},${my(m.margin)}`);
  });
  svg.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  svg.push('</svg>');

  const legend = Object.entries(COLORS).map(([k, c]) => `<span class="key"><i style="background:${c}"></i>${esc(k)}</span>`).join(' ');
  const rows = (items: readonly string[]) => items.map((r) => `<tr>${r}</tr>`).join('');
  const inv = rows(data.invariants.map((i) => `<td>${i.number}</td><td>${esc(i.id)}</td><td class="${i.violations ? 'bad' : 'good'}">${i.violations ? `${i.violations} violation(s)` : 'held'}</td><td>${esc(i.messages.join(' | '))}</td>`));
  const faults = rows(data.faults.map((f) => `<td>+${f.atMs}ms</td><td>${esc(f.kind)}</td><td>${esc(f.detail)}</td>`));
  const batches = rows(data.batches.map((b) => `<td>${esc(b.session)}</td><td>${b.index}</td><td>${esc(b.nodeIds.join(', '))}</td><td>+${b.startMs}ms</td><td>${b.endMs === null ? '—' : `+${b.endMs}ms`}</td>`));
  const sessions = rows(data.sessions.map((s) => `<td>${esc(s.session)}</td><td>${esc(s.outcome)}</td><td>${esc(s.message ?? '')}</td>`));
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(data.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:20px;color:#222}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:12px}.bad{color:#a50f15;font-weight:bold}.good{color:#31a354}.key{margin-right:10px;font-size:12px}.key i{display:inline-block;width:10px;height:10px;margin-right:3px}</style>
</head><body>
<h1>${esc(data.title)}</h1>
<p id="verdict" class="${data.ok ? 'good' : 'bad'}">${data.ok ? 'All invariants held' : 'Invariant violated'} — seed ${data.seed}, ${data.nodes.length} nodes, ${esc(data.scenario.profile)} profile, maxUnavailable ${data.scenario.maxUnavailable}; liveness: ${esc(data.liveness?.outcome ?? 'not judged')}${data.liveness?.pending.length ? ` (pending: ${esc(data.liveness.pending.map((p) => `${p.nodeId}: ${p.reason}`).join('; '))})` : ''}</p>
<h2>Timeline</h2>
<div>${legend} <span class="key"><i style="background:#d62728"></i>fault</span> <span class="key">dashed box: batch</span></div>
${svg.join('\n')}
<h2>Invariants checked (${data.checks.length} checks)</h2><table><tr><th>#</th><th>invariant</th><th>result</th><th>details</th></tr>${inv}</table>
<h2>Faults injected</h2><table><tr><th>at</th><th>fault</th><th>detail</th></tr>${faults}</table>
<h2>Batches</h2><table><tr><th>controller</th><th>batch</th><th>nodes</th><th>started</th><th>finished</th></tr>${batches}</table>
<h2>Controllers</h2><table><tr><th>session</th><th>outcome</th><th>message</th></tr>${sessions}</table>
<h2>Notes</h2><ul>${data.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>
<script type="application/json" id="report-data">${json}</script>
</body></html>
`;
}
