// Today by interval as one SVG: offered and handled as bars (left axis), service level as
// a line (right axis, 0-100 %). Drawn from the data alone; the same figures are in a table
// for screen readers.

import { html } from '../common/html.js';

const W = 960;
const H = 260;
const PAD = { left: 44, right: 44, top: 14, bottom: 30 };

function niceMax(value) {
  if (value <= 5) return 5;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

function hhmm(iso, lang) {
  return new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
}

export function IntervalChart({ points, t, lang }) {
  if (!points.length) return html`<p class="empty">${t('chart.empty')}</p>`;
  const top = niceMax(Math.max(...points.map((p) => Math.max(p.offered, p.handled))));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / points.length;
  const bar = Math.max(1, slot * 0.36);
  const y = (v) => PAD.top + plotH - (v / top) * plotH;
  const ySl = (v) => PAD.top + plotH - (v / 100) * plotH;
  const x = (i) => PAD.left + i * slot;
  const line = points
    .map((p, i) => (p.serviceLevel === null ? null : `${x(i) + slot / 2},${ySl(p.serviceLevel)}`))
    .filter(Boolean)
    .join(' ');
  const labelEvery = Math.max(1, Math.ceil(points.length / 12));
  return html`<figure class="chart">
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title" preserveAspectRatio="none">
      <title id="chart-title">${t('chart.title')}</title>
      ${[0, 0.5, 1].map((f) => html`<g key=${f}>
        <line class="grid" x1=${PAD.left} x2=${W - PAD.right} y1=${y(top * f)} y2=${y(top * f)} />
        <text class="axis" x=${PAD.left - 6} y=${y(top * f) + 4} text-anchor="end">${Math.round(top * f)}</text>
        <text class="axis sl" x=${W - PAD.right + 6} y=${ySl(100 * f) + 4}>${100 * f}%</text>
      </g>`)}
      ${points.map((p, i) => html`<g key=${p.start}>
        <rect class="offered" x=${x(i) + slot / 2 - bar} y=${y(p.offered)} width=${bar} height=${y(0) - y(p.offered)} />
        <rect class="handled" x=${x(i) + slot / 2} y=${y(p.handled)} width=${bar} height=${y(0) - y(p.handled)} />
        ${i % labelEvery === 0 && html`<text class="axis" x=${x(i) + slot / 2} y=${H - 10} text-anchor="middle">${hhmm(p.start, lang)}</text>`}
      </g>`)}
      ${line && html`<polyline class="sl-line" points=${line} />`}
    </svg>
    <figcaption class="legend">
      <span class="key offered">${t('chart.offered')}</span>
      <span class="key handled">${t('chart.handled')}</span>
      <span class="key sl">${t('chart.sl')}</span>
    </figcaption>
    <table class="visually-hidden">
      <caption>${t('chart.title')}</caption>
      <thead><tr><th>${t('chart.interval')}</th><th>${t('chart.offered')}</th>
        <th>${t('chart.handled')}</th><th>${t('chart.sl')}</th></tr></thead>
      <tbody>${points.map((p) => html`<tr key=${p.start}><td>${hhmm(p.start, lang)}</td>
        <td>${p.offered}</td><td>${p.handled}</td>
        <td>${p.serviceLevel === null ? '—' : `${Math.round(p.serviceLevel)}%`}</td></tr>`)}</tbody>
    </table>
  </figure>`;
}
