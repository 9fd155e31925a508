// Not-ready reason codes: the routing document's `not_ready_reasons`, changed by
// publishing the document with only that list changed (based on the version in force, so
// a version published meanwhile is not overwritten). Reasons do not change routing, so
// no replay is asked for.

import { useState } from '../vendor/hooks.module.js';
import { ApiError, get, send } from '../common/api.js';
import { html } from '../common/html.js';
import { Loading, useLoaded } from './loading.js';

const CONFIG = '/api/v1/routing/config';
const CODE = /^[a-z][a-z0-9_]{0,63}$/;

export function ReasonsSection({ t, session, onUnauthorized }) {
  const [inForce, error, reload] = useLoaded(
    () => get(session.token, CONFIG), [session.token], onUnauthorized);
  const [edited, setReasons] = useState(null); // null: the list in force, unchanged
  const [code, setCode] = useState('');
  const [message, setMessage] = useState(null);
  if (inForce === null) return html`<${Loading} t=${t} error=${error} retry=${reload} />`;
  const reasons = edited ?? inForce.document.not_ready_reasons;
  const load = async () => {
    await reload();
    setReasons(null);
  };
  const isAdmin = session.role === 'admin';
  const changed = JSON.stringify(reasons) !== JSON.stringify(inForce.document.not_ready_reasons);
  const add = (event) => {
    event.preventDefault();
    if (!CODE.test(code)) {
      setMessage({ kind: 'bad', text: t('reasons.invalid') });
      return;
    }
    if (!reasons.includes(code)) setReasons([...reasons, code]);
    setCode('');
    setMessage(null);
  };
  const publish = async () => {
    const document = { ...inForce.document, not_ready_reasons: reasons };
    try {
      const row = await send(session.token, 'PUT', CONFIG, {
        document, comment: t('reasons.comment'), based_on: inForce.version,
      });
      await load();
      setMessage({ kind: 'ok', text: t('routing.published', { version: row.version }) });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'version_conflict') await load();
      setMessage({ kind: 'bad', text: error.message });
    }
  };
  return html`<section class="panel" aria-labelledby="reasons-title">
    <h2 id="reasons-title">${t('nav.reasons')}</h2>
    <p class="small">${t('reasons.help', { version: inForce.version })}</p>
    ${message && html`<p class=${`message ${message.kind}`} role=${message.kind === 'bad' ? 'alert' : 'status'}>${message.text}</p>`}
    <ul class="reasons">${reasons.map((reason) => html`<li key=${reason} data-reason=${reason}>
      <code>${reason}</code>
      ${isAdmin && html`<button type="button" class="secondary"
        aria-label=${t('reasons.removeOne', { reason })}
        onClick=${() => setReasons(reasons.filter((r) => r !== reason))}>${t('reasons.remove')}</button>`}
    </li>`)}</ul>
    ${isAdmin ? html`<form class="options" onSubmit=${add}>
      <div class="field"><label for="reason-code">${t('reasons.code')}</label>
        <input id="reason-code" value=${code} placeholder="coaching" onInput=${(e) => setCode(e.target.value)} /></div>
      <button type="submit" class="secondary">${t('reasons.add')}</button>
    </form>
    <button type="button" onClick=${publish} disabled=${!changed}>${t('routing.publish')}</button>`
    : html`<p class="small" role="note">${t('routing.adminOnly')}</p>`}
  </section>`;
}
