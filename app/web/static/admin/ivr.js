// IVR flows: each flow's versions (which one is published), a version's document, a new
// version from a draft (checked first), publishing a version, and a dry run with the
// caller's digits showing what the caller would hear and where the call would go.

import { useEffect, useState } from '../vendor/hooks.module.js';
import { get, send } from '../common/api.js';
import { html } from '../common/html.js';
import { Loading, useLoaded } from './loading.js';

const FLOWS = '/api/v1/ivr/flows';

export function IvrSection({ t, lang, session, onUnauthorized }) {
  const [flows, error, load] = useLoaded(
    () => get(session.token, FLOWS), [session.token], onUnauthorized);
  const [chosen, setFlowId] = useState(null); // null: the first flow
  const [message, setMessage] = useState(null);
  if (flows === null) return html`<${Loading} t=${t} error=${error} retry=${load} />`;
  const flowId = chosen ?? (flows.length > 0 ? flows[0].id : null);
  const flow = flows.find((f) => f.id === flowId);
  return html`<div class="ivr">
    <section class="panel" aria-labelledby="flows-title">
      <h2 id="flows-title">${t('nav.ivr')}</h2>
      ${message && html`<p class=${`message ${message.kind}`} role=${message.kind === 'bad' ? 'alert' : 'status'}>${message.text}</p>`}
      <div class="field inline">
        <label for="flow">${t('ivr.flow')}</label>
        <select id="flow" value=${flowId ?? ''} onChange=${(e) => setFlowId(Number(e.target.value))}>
          ${flows.map((f) => html`<option key=${f.id} value=${f.id}>${f.name}</option>`)}
        </select>
        ${flow && html`<span class="small">${flow.published_version
          ? t('ivr.published', { version: flow.published_version }) : t('ivr.unpublished')}</span>`}
      </div>
    </section>
    ${flow && html`<${Flow} key=${flow.id} t=${t} lang=${lang} session=${session} flow=${flow}
      onChanged=${async (text) => { setMessage({ kind: 'ok', text }); await load(); }}
      onProblem=${(text) => setMessage({ kind: 'bad', text })} />`}
  </div>`;
}

function Flow({ t, lang, session, flow, onChanged, onProblem }) {
  const base = `${FLOWS}/${flow.id}`;
  const [versions, setVersions] = useState([]);
  const [shown, setShown] = useState(null); // {version, document}
  const [draft, setDraft] = useState('');
  const [comment, setComment] = useState('');
  const isAdmin = session.role === 'admin';
  const loadVersions = async () => setVersions(await get(session.token, `${base}/versions`));
  useEffect(() => { loadVersions().catch((e) => onProblem(e.message)); }, [flow.published_version]);
  const show = async (version) => {
    const row = await get(session.token, `${base}/versions/${version}`);
    setShown(row);
    setDraft(JSON.stringify(row.document, null, 2));
  };
  useEffect(() => {
    if (flow.published_version) show(flow.published_version).catch((e) => onProblem(e.message));
  }, [flow.id]);
  const act = async (work) => {
    try {
      await work();
    } catch (error) {
      onProblem(error.message);
    }
  };
  const addVersion = () => act(async () => {
    const document = JSON.parse(draft);
    await send(session.token, 'POST', `${FLOWS}/validate`, { document });
    const row = await send(session.token, 'POST', `${base}/versions`, { document, comment, publish: false });
    setComment('');
    await loadVersions();
    await onChanged(t('ivr.added', { version: row.version }));
  });
  const publish = (version) => act(async () => {
    await send(session.token, 'POST', `${base}/publish`, { version });
    await onChanged(t('ivr.publishedNow', { version }));
  });
  return html`<div class="flow">
    <section class="panel" aria-labelledby="versions-ivr">
      <h3 id="versions-ivr">${t('routing.versions')}</h3>
      <table class="versions">
        <thead><tr><th scope="col">${t('routing.version')}</th><th scope="col">${t('routing.when')}</th>
          <th scope="col">${t('routing.note')}</th><th scope="col">${t('routing.actions')}</th></tr></thead>
        <tbody>${versions.map((v) => html`<tr key=${v.version} data-version=${v.version}>
          <td>${v.version}${v.published ? ` · ${t('ivr.live')}` : ''}</td>
          <td>${new Date(v.created_at).toLocaleString(lang)}</td>
          <td>${v.comment}</td>
          <td class="actions">
            <button type="button" class="secondary" onClick=${() => act(() => show(v.version))}>${t('ivr.view', { version: v.version })}</button>
            ${isAdmin && !v.published && html`<button type="button" onClick=${() => publish(v.version)}>${t('ivr.publish', { version: v.version })}</button>`}
          </td>
        </tr>`)}</tbody>
      </table>
    </section>
    <section class="panel" aria-labelledby="ivr-draft-title">
      <h3 id="ivr-draft-title">${shown ? t('ivr.document', { version: shown.version }) : t('ivr.draft')}</h3>
      <div class="field">
        <label for="ivr-draft">${t('ivr.draft')}</label>
        <textarea id="ivr-draft" rows="14" spellcheck="false" value=${draft}
          onInput=${(e) => setDraft(e.target.value)}></textarea>
      </div>
      ${isAdmin && html`<div class="field"><label for="ivr-comment">${t('routing.comment')}</label>
        <input id="ivr-comment" value=${comment} maxlength="500" onInput=${(e) => setComment(e.target.value)} /></div>
        <button type="button" onClick=${addVersion} disabled=${draft.trim() === ''}>${t('ivr.addVersion')}</button>`}
    </section>
    <${DryRun} t=${t} session=${session} base=${base} versions=${versions} />
  </div>`;
}

/** The instructions a caller hears, a gather's prompts in place of the gather. */
function spoken(instructions) {
  return instructions.flatMap((i) => (i.type === 'gather' ? [...i.prompts, i] : [i]));
}

function DryRun({ t, session, base, versions }) {
  const [digits, setDigits] = useState('');
  const [version, setVersion] = useState('');
  const [result, setResult] = useState(null);
  const [problem, setProblem] = useState(null);
  const run = async (event) => {
    event.preventDefault();
    setProblem(null);
    try {
      const body = { digits: digits.split(/[\s,，]+/).filter(Boolean) };
      if (version) body.version = Number(version);
      setResult(await send(session.token, 'POST', `${base}/dry-run`, body));
    } catch (error) {
      setProblem(error.message);
    }
  };
  return html`<section class="panel" aria-labelledby="dry-run-title">
    <h3 id="dry-run-title">${t('ivr.dryRun')}</h3>
    <form onSubmit=${run} class="options">
      <div class="field"><label for="dry-digits">${t('ivr.digits')}</label>
        <input id="dry-digits" value=${digits} placeholder="1 2 timeout" onInput=${(e) => setDigits(e.target.value)} /></div>
      <div class="field"><label for="dry-version">${t('routing.version')}</label>
        <select id="dry-version" value=${version} onChange=${(e) => setVersion(e.target.value)}>
          <option value="">${t('ivr.publishedVersion')}</option>
          ${versions.map((v) => html`<option key=${v.version} value=${v.version}>${v.version}</option>`)}
        </select></div>
      <button type="submit">${t('ivr.run')}</button>
    </form>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    ${result && html`<div class="dry-result">
      <ol class="steps">${result.steps.map((step, index) => html`<li key=${index}>
        <span class="small">${t(`ivr.input.${step.input.kind}`, { value: step.input.value ?? '' })}
          · ${step.entered.join(' → ')}</span>
        <div>${spoken(step.instructions).map((i, k) => html`<span key=${k} class=${`instruction ${i.type}`}>
          ${i.type === 'say' ? `“${i.text}”` : i.type}</span>`)}</div>
      </li>`)}</ol>
      <p class="outcome">${t('ivr.outcome', {
        outcome: result.outcome ?? '–', queue: result.queue ?? '–', language: result.language,
        priority: result.priority ?? '–',
      })}</p>
    </div>`}
  </section>`;
}
