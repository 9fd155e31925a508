// The replay report (POST /api/v1/routing/config/replay, docs/routing.md): fidelity first,
// the recording beside the faithful replay, then the draft as a difference from that
// replay, never from the recording.

import { html } from '../common/html.js';

const METRICS = ['offered', 'handled', 'abandoned', 'service_level', 'asa_seconds', 'occupancy'];

function number(lang, value, digits, signed = false) {
  if (typeof value !== 'number') return '–';
  const text = new Intl.NumberFormat(lang, {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
    signDisplay: signed ? 'exceptZero' : 'auto',
  }).format(value);
  return text;
}

/** A metric's value as shown: ratios to three places, ASA in seconds, counts to one. */
export function metricText(lang, metric, value, signed = false) {
  if (metric === 'service_level' || metric === 'occupancy') return number(lang, value, 3, signed);
  if (metric === 'asa_seconds') return typeof value === 'number' ? `${number(lang, value, 1, signed)} s` : '–';
  return number(lang, value, 1, signed);
}

function withSpread(lang, metric, figures, signed = false) {
  const value = figures?.[metric];
  if (typeof value !== 'number') return '–';
  const spread = figures.spread?.[metric] ?? 0;
  return `${metricText(lang, metric, value, signed)} ± ${metricText(lang, metric, spread)}`;
}

function GroupTable({ t, lang, title, group, withDraft }) {
  const verdict = group.fidelity.verdict;
  const staffing = group.erlang_c;
  const longer = group.longer_than_recorded_worst;
  return html`<section class="group" data-group=${title} data-verdict=${verdict}>
    <h4>${title} <span class=${`verdict ${verdict === 'faithful' ? 'ok' : 'bad'}`}>${t(`verdict.${verdict}`)}</span></h4>
    <table>
      <thead><tr>
        <th scope="col">${t('report.metric')}</th>
        <th scope="col">${t('report.recorded')}</th>
        <th scope="col">${t('report.replayed')}</th>
        ${withDraft && html`<th scope="col">${t('report.difference')}</th>`}
      </tr></thead>
      <tbody>
        ${METRICS.map((metric) => html`<tr key=${metric} data-metric=${metric}>
          <th scope="row">${t(`metric.${metric}`)}</th>
          <td>${metricText(lang, metric, group.recorded[metric])}</td>
          <td>${withSpread(lang, metric, group.replayed)}</td>
          ${withDraft && html`<td class="difference">${withSpread(lang, metric, group.difference, true)}</td>`}
        </tr>`)}
      </tbody>
    </table>
    ${withDraft && typeof longer === 'number' && longer > 0 && html`<p class="flag" role="note">
      ${t('report.longer', { count: number(lang, longer, 1) })}</p>`}
    ${staffing && html`<p class="small">${t('report.erlang', {
      hours: staffing.intervals, mean: number(lang, staffing.erlang_c_mean, 1),
      peak: staffing.erlang_c_peak, ready: number(lang, staffing.ready_mean, 1),
      readyDelta: number(lang, staffing.ready_mean_with_delta, 1),
      short: staffing.short_intervals, shortDelta: staffing.short_intervals_with_delta,
    })}</p>`}
    ${group.fidelity.problems.length > 0 && html`<ul class="problems">
      ${group.fidelity.problems.map((problem) => html`<li key=${problem}>${problem}</li>`)}</ul>`}
  </section>`;
}

export function ReplayReport({ t, lang, report }) {
  const withDraft = Boolean(report.candidate);
  const when = (iso) => new Date(iso).toLocaleString(lang);
  const grades = Object.entries(report.grades || {});
  return html`<section class="report" aria-labelledby="report-title">
    <h3 id="report-title">${t('report.title')}</h3>
    <p>${t('report.summary', {
      contacts: report.contacts, agents: report.agents, from: when(report.period[0]),
      to: when(report.period[1]), config: report.config, seeds: report.seeds.length,
    })}</p>
    <p class=${`fidelity ${report.faithful ? 'ok' : 'bad'}`} role="status">
      ${t(report.faithful ? 'report.faithful' : 'report.notFaithful')}</p>
    <div class="groups">
      ${report.queues.map((queue) => html`<${GroupTable} key=${queue.queue} t=${t} lang=${lang}
        title=${t('report.queue', { name: queue.queue })} group=${queue} withDraft=${withDraft} />`)}
    </div>
    ${grades.length > 0 && html`<details>
      <summary>${t('report.grades')}</summary>
      <div class="groups">
        ${grades.map(([name, grade]) => html`<${GroupTable} key=${name} t=${t} lang=${lang}
          title=${t('report.grade', { name })} group=${grade} withDraft=${withDraft} />`)}
      </div>
    </details>`}
    <details>
      <summary>${t('report.patience')}</summary>
      <ul>${report.patience.map((curve) => html`<li key=${`${curve.queue}/${curve.channel}`}>
        ${t('report.patienceLine', {
          queue: curve.queue, channel: curve.channel, abandoned: curve.abandoned,
          censored: curve.censored,
          median: curve.median_seconds === null ? t('report.beyond') : `${number(lang, curve.median_seconds, 0)} s`,
        })}</li>`)}</ul>
    </details>
  </section>`;
}
