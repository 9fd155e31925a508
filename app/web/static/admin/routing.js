// Routing documents: the version in force and its history, a draft edited as JSON, its
// difference from the version in force, a replay of the recorded period (the configuration
// in force first, then the draft) and publishing, which waits for a replay of the draft as
// it stands and names the version it was edited from (409 when another was published).

import { useState } from '../vendor/hooks.module.js';
import { ApiError, get, send } from '../common/api.js';
import { html } from '../common/html.js';
import { Loading, useLoaded } from './loading.js';
import { changesOnly, documentText, lineDiff } from './diff.js';
import { ReplayReport } from './report.js';

const CONFIG = '/api/v1/routing/config';
const DEFAULT_DAYS = 7;
const MAX_DAYS = 31;
const DEFAULT_SEEDS = 5;

function parsed(text) {
  try {
    return { document: JSON.parse(text), error: null };
  } catch (error) {
    return { document: null, error: error.message };
  }
}

/** The version in force, the versions and the queues, fetched again after each change. */
async function loadRouting(token) {
  const [inForce, versions, queues] = await Promise.all([
    get(token, CONFIG),
    get(token, `${CONFIG}/versions`),
    get(token, '/api/v1/queues?limit=200'),
  ]);
  return { inForce, versions, queues: queues.items };
}

export function RoutingSection({ t, lang, session, onUnauthorized }) {
  const [state, error, reloadState] = useLoaded(
    () => loadRouting(session.token), [session.token], onUnauthorized);
  if (state === null) return html`<${Loading} t=${t} error=${error} retry=${reloadState} />`;
  const reload = async () => (await reloadState()).inForce;
  return html`<${Editor} t=${t} lang=${lang} session=${session} state=${state} reload=${reload} />`;
}

function Editor({ t, lang, session, state, reload }) {
  const { inForce, versions, queues } = state;
  const inForceText = documentText(inForce.document);
  const [draft, setDraft] = useState(inForceText);
  const [basedOn, setBasedOn] = useState(inForce.version);
  const [deltas, setDeltas] = useState({});
  const [days, setDays] = useState(DEFAULT_DAYS);
  const [seeds, setSeeds] = useState(DEFAULT_SEEDS);
  const [comment, setComment] = useState('');
  const [report, setReport] = useState(null); // {report, draft, deltas}
  const [busy, setBusy] = useState(null); // 'replay' | 'publish' | 'rollback'
  const [message, setMessage] = useState(null); // {kind: 'ok' | 'bad', text}
  const [confirming, setConfirming] = useState(null);
  const isAdmin = session.role === 'admin';
  const { document, error: jsonError } = parsed(draft);
  const deltaKey = JSON.stringify(deltas);
  const replayIsCurrent = report && report.draft === draft && report.deltas === deltaKey
    && report.version === inForce.version;
  const diff = changesOnly(lineDiff(inForceText, draft));

  const failed = (error) => setMessage({ kind: 'bad', text: error.message });
  const startFrom = (latest) => {
    setDraft(documentText(latest.document));
    setBasedOn(latest.version);
    setReport(null);
  };
  const runReplay = async () => {
    setBusy('replay');
    setMessage(null);
    const agentsDelta = Object.fromEntries(Object.entries(deltas).filter(([, n]) => n !== 0));
    const start = new Date(Date.now() - days * 86400 * 1000).toISOString();
    try {
      const answer = await send(session.token, 'POST', `${CONFIG}/replay`, {
        document, agents_delta: agentsDelta, start, seeds,
      });
      setReport({ report: answer, draft, deltas: deltaKey, version: inForce.version });
    } catch (error) {
      failed(error);
    } finally {
      setBusy(null);
    }
  };
  const publish = async () => {
    setBusy('publish');
    setMessage(null);
    try {
      const row = await send(session.token, 'PUT', CONFIG, { document, comment, based_on: basedOn });
      startFrom(await reload());
      setComment('');
      setMessage({ kind: 'ok', text: t('routing.published', { version: row.version }) });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'version_conflict') {
        const latest = await reload();
        setBasedOn(latest.version); // the draft stays; its comparison and replay are redone
        setMessage({ kind: 'bad', text: t('routing.conflict', { latest: latest.version }) });
      } else {
        failed(error);
      }
    } finally {
      setBusy(null);
    }
  };
  const rollBack = async (version) => {
    setBusy('rollback');
    setConfirming(null);
    try {
      const row = await send(session.token, 'POST', `${CONFIG}/versions/${version}/rollback`, {});
      startFrom(await reload());
      setMessage({ kind: 'ok', text: t('routing.rolledBack', { version, latest: row.version }) });
    } catch (error) {
      failed(error);
    } finally {
      setBusy(null);
    }
  };
  const draftFrom = async (version) => {
    const row = await get(session.token, `${CONFIG}/versions/${version}`);
    setDraft(documentText(row.document));
  };

  return html`<div class="routing">
    <section class="panel" aria-labelledby="in-force">
      <h2 id="in-force">${inForce.version === 0 ? t('routing.defaults') : t('routing.inForce', { version: inForce.version })}</h2>
      ${inForce.version > 0 && html`<p class="small">${t('routing.published_by', {
        when: new Date(inForce.created_at).toLocaleString(lang),
        comment: inForce.comment ? ` · ${inForce.comment}` : '',
      })}</p>`}
      ${!isAdmin && html`<p class="small" role="note">${t('routing.adminOnly')}</p>`}
      ${message && html`<p class=${`message ${message.kind}`} role=${message.kind === 'bad' ? 'alert' : 'status'}>${message.text}</p>`}
    </section>

    <section class="panel draft" aria-labelledby="draft-title">
      <h2 id="draft-title">${t('routing.title')}</h2>
      <p class="small" id="draft-help">${t('routing.editorHelp')}</p>
      <div class="field">
        <label for="draft">${t('routing.editor')}</label>
        <textarea id="draft" rows="18" spellcheck="false" aria-describedby="draft-help"
          value=${draft} onInput=${(e) => setDraft(e.target.value)}></textarea>
      </div>
      ${jsonError && html`<p class="problem" role="alert">${t('routing.invalidJson', { message: jsonError })}</p>`}
      <button type="button" class="secondary" disabled=${draft === inForceText}
        onClick=${() => startFrom(inForce)}>${t('routing.reset')}</button>
      <h3>${t('routing.changes', { version: inForce.version })}</h3>
      ${diff.length === 0
        ? html`<p class="empty">${t('routing.noChanges')}</p>`
        : html`<pre class="diff" aria-label=${t('routing.changes', { version: inForce.version })}>${diff.map((line, index) => line.op === 'gap'
          ? html`<span key=${index} class="gap">${t('routing.hiddenLines', { count: line.count })}</span>`
          : html`<span key=${index} class=${line.op}>${line.op === 'add' ? '+ ' : line.op === 'del' ? '− ' : '  '}${line.text}</span>`)}</pre>`}
    </section>

    <section class="panel" aria-labelledby="what-if">
      <h2 id="what-if">${t('routing.whatIf')}</h2>
      <div class="options">
        <div class="field"><label for="replay-days">${t('routing.days')}</label>
          <input id="replay-days" type="number" min="1" max=${MAX_DAYS} value=${days}
            onInput=${(e) => setDays(Math.min(MAX_DAYS, Math.max(1, Number(e.target.value) || 1)))} /></div>
        <div class="field"><label for="replay-seeds">${t('routing.seeds')}</label>
          <input id="replay-seeds" type="number" min="1" max="10" value=${seeds}
            onInput=${(e) => setSeeds(Math.min(10, Math.max(1, Number(e.target.value) || 1)))} /></div>
      </div>
      <fieldset class="deltas">
        <legend>${t('routing.agentsDelta')}</legend>
        ${queues.map((queue) => html`<div class="field" key=${queue.name}>
          <label for=${`delta-${queue.name}`}>${queue.display_name}</label>
          <input id=${`delta-${queue.name}`} type="number" min="-50" max="50" value=${deltas[queue.name] || 0}
            data-queue=${queue.name}
            onInput=${(e) => setDeltas({ ...deltas, [queue.name]: Number(e.target.value) || 0 })} />
        </div>`)}
      </fieldset>
      <button type="button" onClick=${runReplay} disabled=${Boolean(jsonError) || busy !== null}>
        ${busy === 'replay' ? t('routing.replaying') : t('routing.replay')}</button>
      ${report && html`<div class=${replayIsCurrent ? '' : 'stale'}>
        <${ReplayReport} t=${t} lang=${lang} report=${report.report} /></div>`}
    </section>

    <section class="panel" aria-labelledby="publish-title">
      <h2 id="publish-title">${t('routing.publish')}</h2>
      <div class="field">
        <label for="publish-comment">${t('routing.comment')}</label>
        <input id="publish-comment" maxlength="500" value=${comment} onInput=${(e) => setComment(e.target.value)} />
      </div>
      ${!replayIsCurrent && html`<p class="small" id="publish-why">${t('routing.replayFirst')}</p>`}
      <button type="button" onClick=${publish}
        disabled=${!isAdmin || !replayIsCurrent || Boolean(jsonError) || busy !== null}
        aria-describedby=${replayIsCurrent ? undefined : 'publish-why'}>
        ${busy === 'publish' ? t('routing.publishing') : t('routing.publish')}</button>
    </section>

    <section class="panel" aria-labelledby="versions-title">
      <h2 id="versions-title">${t('routing.versions')}</h2>
      <table class="versions">
        <thead><tr>
          <th scope="col">${t('routing.version')}</th><th scope="col">${t('routing.when')}</th>
          <th scope="col">${t('routing.note')}</th><th scope="col">${t('routing.actions')}</th>
        </tr></thead>
        <tbody>${versions.map((v) => html`<tr key=${v.version} data-version=${v.version}>
          <td>${v.version}</td>
          <td>${new Date(v.created_at).toLocaleString(lang)}</td>
          <td>${v.comment}${v.rolled_back_from ? ` (${t('routing.rolledBackFrom', { version: v.rolled_back_from })})` : ''}</td>
          <td class="actions">
            <button type="button" class="secondary" onClick=${() => draftFrom(v.version)}>${t('routing.edit', { version: v.version })}</button>
            ${isAdmin && v.version !== inForce.version && (confirming === v.version
              ? html`<button type="button" onClick=${() => rollBack(v.version)} disabled=${busy !== null}>${t('routing.confirmRollBack', { version: v.version })}</button>`
              : html`<button type="button" class="secondary" onClick=${() => setConfirming(v.version)}>${t('routing.rollBack', { version: v.version })}</button>`)}
          </td>
        </tr>`)}</tbody>
      </table>
    </section>
  </div>`;
}
