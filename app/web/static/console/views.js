// What the desktop shows of a customer and of an offer: the screen-pop, the history
// timeline and "why was this routed to me". Pure views of the frames' data.

import { html } from '../common/html.js';
import { duration } from '../common/time.js';

/** The matches the pop calls confident; any other asks the agent to check the customer. */
export const CONFIDENT = new Set(['exact_phone', 'email', 'linked', 'provided']);

export const CHANNEL_ICONS = { voice: '☎', chat: '✎', email: '✉' };

function money(amount, lang) {
  const value = Number(amount);
  if (!Number.isFinite(value)) return String(amount);
  return new Intl.NumberFormat(lang, { style: 'currency', currency: 'CNY', maximumFractionDigits: 0 })
    .format(value);
}


function when(iso, lang) {
  return new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
}

export function ValueBadges({ customer, t, lang }) {
  const value = customer?.value;
  if (!value) return null;
  return html`<ul class="badges">
    ${value.grade && html`<li class="badge grade" data-grade=${value.grade}>${t('grade', { grade: value.grade })}</li>`}
    ${value.vip?.active && html`<li class="badge vip">${t('vip')}</li>`}
    ${value.value_class && value.value_class !== 'normal' &&
      html`<li class="badge value">${t('valueClass', { value: value.value_class })}</li>`}
    ${value.lifetime_sales > 0 &&
      html`<li class="badge lifetime">${t('lifetime', { n: value.lifetime_sales, amount: money(value.lifetime_amount, lang) })}</li>`}
  </ul>`;
}

export function MatchConfidence({ pop, t }) {
  const confident = CONFIDENT.has(pop.customer_match);
  return html`<p class=${`match ${confident ? 'high' : 'low'}`} data-match=${pop.customer_match}>
    ${t(`match.${pop.customer_match}`)} · ${confident ? t('matchHigh') : t('matchLow')}
  </p>`;
}

function HistoryItem({ item, t, lang }) {
  const last = item.excerpt[item.excerpt.length - 1];
  return html`<li class=${`history-item ${item.open ? 'open' : ''}`} data-channel=${item.channel}>
    <span class="channel-icon" aria-hidden="true">${CHANNEL_ICONS[item.channel] ?? '•'}</span>
    <span class="history-what">${t(`channel.${item.channel}`)}${item.subject ? ` · ${item.subject}` : ''}</span>
    <time datetime=${item.created_at}>${when(item.created_at, lang)}</time>
    ${item.disposition && html`<span class="disposition">${t(`disposition.${item.disposition}`)}</span>`}
    ${last && html`<q class="excerpt">${last.text}</q>`}
    ${item.notes.map((n) => html`<p class="history-note" key=${n.id}>📝 ${n.body}</p>`)}
  </li>`;
}

export function ScreenPop({ pop, t, lang }) {
  if (!pop) return null;
  const customer = pop.customer;
  const open = pop.history.filter((item) => item.open);
  const rest = pop.history.filter((item) => !item.open);
  return html`<div class="pop">
    <h3 class="customer-name">${customer ? customer.name : t('unknownCustomer')}</h3>
    <${ValueBadges} customer=${customer} t=${t} lang=${lang} />
    <${MatchConfidence} pop=${pop} t=${t} />
    ${customer?.value?.reason && html`<p class="value-reason">${customer.value.reason}</p>`}
    <p class="waited">${t('waited', { s: duration(pop.waited_seconds) })}${pop.from_address ? ` · ${pop.from_address}` : ''}</p>
    ${pop.suggestions.length > 0 && html`<section aria-label=${t('suggestions')}>
      <h4>${t('suggestions')}</h4>
      <ul>${pop.suggestions.map((s) => html`<li key=${s.customer_id}>${s.name} (${t(`why.${s.why}`)})</li>`)}</ul>
    </section>`}
    ${Object.keys(pop.ivr_inputs).length > 0 && html`<section aria-label=${t('ivrInputs')}>
      <h4>${t('ivrInputs')}</h4>
      <dl class="pairs">${Object.entries(pop.ivr_inputs).map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}</dl>
    </section>`}
    <section class="open-items" aria-label=${t('openItems')}>
      <h4>${t('openItems')}</h4>
      ${open.length === 0 ? html`<p class="empty">${t('noOpenItems')}</p>`
        : html`<ol class="timeline">${open.map((item) => html`<${HistoryItem} key=${item.contact_id} item=${item} t=${t} lang=${lang} />`)}</ol>`}
    </section>
    <section class="history" aria-label=${t('history')}>
      <h4>${t('history')}</h4>
      ${rest.length === 0 ? html`<p class="empty">${t('noHistory')}</p>`
        : html`<ol class="timeline">${rest.map((item) => html`<${HistoryItem} key=${item.contact_id} item=${item} t=${t} lang=${lang} />`)}</ol>`}
    </section>
    ${pop.enrichment && html`<section aria-label=${t('crm')}>
      <h4>${t('crm')}</h4>
      <dl class="pairs">${Object.entries(pop.enrichment).map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>`)}</dl>
    </section>`}
  </div>`;
}

export function WhyMe({ trace, agentId, t }) {
  return html`<details class="why-me">
    <summary>${t('whyMe')}</summary>
    ${!trace ? html`<p>${t('traceNone')}</p>` : html`<div class="trace">
      <p>${t('traceQueue', { queue: trace.queue, strategy: trace.strategy, step: trace.step })}</p>
      <p>${t('traceRule', { rule: trace.rule })}</p>
      ${trace.requirements.length > 0 &&
        html`<p>${t('traceNeeds', { skills: trace.requirements.map((r) => `${r.skill} ≥ ${r.level}`).join(', ') })}</p>`}
      ${trace.priority_boosts.length > 0 &&
        html`<p>${t('traceBoosts', { tags: trace.priority_boosts.map((b) => `${b.tag} +${b.points}`).join(', ') })}</p>`}
      <p>${t('traceCandidates', { n: trace.candidates.length })}</p>
      <ol class="candidates">
        ${trace.candidates.map((c) => html`<li key=${c.agent_id} class=${c.agent_id === agentId ? 'me' : ''}>
          #${c.agent_id}${c.agent_id === agentId ? ` (${t('traceYou')})` : ''}
          ${c.skipped_because ? ` — ${t('traceSkipped', { why: c.skipped_because })}` : c.score ? ` — ${c.score.map((x) => Math.round(x * 100) / 100).join(' / ')}` : ''}
        </li>`)}
      </ol>
    </div>`}
  </details>`;
}
