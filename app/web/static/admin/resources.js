// The admin sections that are lists of things (queues, skills, users and roles, agents'
// skills, entry points): one component driven by a spec each, so every section lists,
// creates and edits the same way and shows the API's errors the same way.

import { useEffect, useState } from '../vendor/hooks.module.js';
import { ApiError, get, send } from '../common/api.js';
import { html } from '../common/html.js';
import { CHANNELS, FieldError, cellText, initialText, readField } from './fields.js';

const ROLES = ['agent', 'supervisor', 'admin'];
const STRATEGIES = ['longest_idle', 'least_occupied', 'most_skilled', 'round_robin'];
const SKILL_KINDS = ['general', 'language'];

/** Each section: where its rows are, its columns, its form fields (`create: false`: shown
 *  only when editing; `edit: false`: only when creating) and how a row is saved. */
export const RESOURCES = {
  queues: {
    list: '/api/v1/queues?limit=200',
    create: '/api/v1/queues',
    columns: [
      { key: 'name' }, { key: 'display_name' }, { key: 'channels' },
      { key: 'required_skills', type: 'skills' }, { key: 'sl_target_percent' },
      { key: 'sl_target_seconds' }, { key: 'strategy' }, { key: 'default_priority' },
    ],
    fields: [
      { key: 'name', edit: false, required: true },
      { key: 'display_name', required: true },
      { key: 'channels', type: 'channels', default: ['voice'] },
      { key: 'required_skills', type: 'skills' },
      { key: 'sl_target_percent', type: 'number', default: 80 },
      { key: 'sl_target_seconds', type: 'number', default: 20 },
      { key: 'strategy', type: 'select', options: STRATEGIES, default: 'longest_idle' },
      { key: 'default_priority', type: 'number', default: 0 },
    ],
    save: (row) => ['PATCH', `/api/v1/queues/${row.id}`],
  },
  skills: {
    list: '/api/v1/skills?limit=200',
    create: '/api/v1/skills',
    columns: [{ key: 'name' }, { key: 'kind' }, { key: 'description' }],
    fields: [
      { key: 'name', edit: false, required: true },
      { key: 'kind', type: 'select', options: SKILL_KINDS, default: 'general' },
      { key: 'description' },
    ],
    save: (row) => ['PATCH', `/api/v1/skills/${row.id}`],
  },
  users: {
    list: '/api/v1/users?limit=200',
    create: '/api/v1/users',
    columns: [
      { key: 'username' }, { key: 'display_name' }, { key: 'role' }, { key: 'team' },
      { key: 'email' }, { key: 'capacity', type: 'capacity' }, { key: 'is_active' },
    ],
    fields: [
      { key: 'username', edit: false, required: true },
      { key: 'display_name', required: true },
      { key: 'role', type: 'select', options: ROLES, default: 'agent' },
      { key: 'password', type: 'password', requiredOnCreate: true },
      { key: 'email' },
      { key: 'team' },
      { key: 'capacity', type: 'capacity' },
      { key: 'is_active', type: 'boolean', create: false },
    ],
    save: (row) => ['PATCH', `/api/v1/users/${row.id}`],
  },
  agents: {
    list: '/api/v1/agents?limit=200',
    create: null,
    columns: [
      { key: 'username' }, { key: 'display_name' }, { key: 'team' },
      { key: 'skills', type: 'skills' },
    ],
    fields: [{ key: 'skills', type: 'skills' }],
    save: (row) => ['PUT', `/api/v1/agents/${row.id}/skills`],
    body: (values) => values.skills, // the agent's whole list of skills
  },
  entry_points: {
    list: '/api/v1/entry-points?limit=200',
    create: '/api/v1/entry-points',
    columns: [
      { key: 'channel' }, { key: 'address' }, { key: 'queue' }, { key: 'language' },
      { key: 'greeting' },
    ],
    fields: [
      { key: 'channel', type: 'select', options: CHANNELS, edit: false, default: 'chat' },
      { key: 'address', required: true },
      { key: 'queue', required: true },
      { key: 'language', default: 'zh-CN' },
      { key: 'greeting' },
    ],
    save: (row) => ['PATCH', `/api/v1/entry-points/${row.id}`],
  },
};

function items(answer) {
  return Array.isArray(answer) ? answer : answer.items;
}

export function ResourceSection({ t, session, id, onUnauthorized }) {
  const spec = RESOURCES[id];
  const [rows, setRows] = useState(null);
  const [editing, setEditing] = useState(null); // a row, 'new' or null
  const [message, setMessage] = useState(null);
  const load = async () => {
    try {
      setRows(items(await get(session.token, spec.list)));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) onUnauthorized();
      setMessage({ kind: 'bad', text: error.message });
    }
  };
  useEffect(() => { setRows(null); setEditing(null); setMessage(null); load(); }, [id]);
  const saved = async (text) => {
    setEditing(null);
    setMessage({ kind: 'ok', text });
    await load();
  };
  const label = (key) => t(`field.${key}`);
  return html`<section class="panel resource" data-resource=${id} aria-labelledby="resource-title">
    <h2 id="resource-title">${t(`nav.${id}`)}</h2>
    ${message && html`<p class=${`message ${message.kind}`} role=${message.kind === 'bad' ? 'alert' : 'status'}>${message.text}</p>`}
    ${spec.create && editing === null && html`<button type="button" onClick=${() => setEditing('new')}>${t('resource.new')}</button>`}
    ${editing !== null && html`<${ResourceForm} key=${editing === 'new' ? 'new' : editing.id} t=${t}
      session=${session} spec=${spec} row=${editing === 'new' ? null : editing}
      onCancel=${() => setEditing(null)} onSaved=${saved} />`}
    ${rows === null ? html`<p class="loading">${t('loading')}</p>` : html`<table class="rows">
      <thead><tr>
        ${spec.columns.map((c) => html`<th scope="col" key=${c.key}>${label(c.key)}</th>`)}
        <th scope="col">${t('routing.actions')}</th>
      </tr></thead>
      <tbody>${rows.map((row) => html`<tr key=${row.id} data-id=${row.id}>
        ${spec.columns.map((c) => html`<td key=${c.key}>${cellText(c, row)}</td>`)}
        <td><button type="button" class="secondary" onClick=${() => setEditing(row)}
          aria-label=${t('resource.editOne', { name: row.name || row.username || row.address || row.id })}>${t('resource.edit')}</button></td>
      </tr>`)}</tbody>
    </table>`}
  </section>`;
}

function ResourceForm({ t, session, spec, row, onCancel, onSaved }) {
  const creating = row === null;
  const fields = spec.fields.filter((f) => (creating ? f.create !== false : f.edit !== false));
  const [values, setValues] = useState(() => Object.fromEntries(fields.map((f) => [f.key, initialText(f, row)])));
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (key, value) => setValues({ ...values, [key]: value });
  const submit = async (event) => {
    event.preventDefault();
    setProblem(null);
    let body;
    try {
      const read = Object.fromEntries(fields
        .map((f) => [f.key, readField(f, values[f.key], creating)])
        .filter(([, value]) => value !== undefined));
      body = spec.body ? spec.body(read) : read;
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      setProblem(`${t(`field.${error.field}`)}: ${error.message}`);
      return;
    }
    const [method, path] = creating ? ['POST', spec.create] : spec.save(row);
    setBusy(true);
    try {
      await send(session.token, method, path, body);
      await onSaved(t(creating ? 'resource.created' : 'resource.saved'));
    } catch (error) {
      const details = Array.isArray(error.details)
        ? error.details.map((d) => `${(d.loc || []).slice(-1)[0]}: ${d.message}`).join('; ') : '';
      setProblem(details ? `${error.message} ${details}` : error.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="resource-form" onSubmit=${submit}
    aria-label=${t(creating ? 'resource.new' : 'resource.edit')}>
    ${fields.map((f) => html`<${Field} key=${f.key} t=${t} field=${f} value=${values[f.key]}
      required=${f.required || (creating && f.requiredOnCreate)} onChange=${(v) => set(f.key, v)} />`)}
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    <div class="buttons">
      <button type="submit" disabled=${busy}>${t(creating ? 'resource.create' : 'resource.save')}</button>
      <button type="button" class="secondary" onClick=${onCancel}>${t('resource.cancel')}</button>
    </div>
  </form>`;
}

function Field({ t, field, value, required, onChange }) {
  const id = `field-${field.key}`;
  const label = t(`field.${field.key}`);
  if (field.type === 'channels') {
    return html`<fieldset class="field channels"><legend>${label}</legend>
      ${CHANNELS.map((channel) => html`<label key=${channel}><input type="checkbox"
        checked=${value.includes(channel)}
        onChange=${(e) => onChange(e.target.checked ? [...value, channel] : value.filter((c) => c !== channel))} />
        ${t(`channel.${channel}`)}</label>`)}
    </fieldset>`;
  }
  if (field.type === 'boolean') {
    return html`<div class="field inline"><input id=${id} type="checkbox" checked=${value}
      onChange=${(e) => onChange(e.target.checked)} /><label for=${id}>${label}</label></div>`;
  }
  if (field.type === 'select') {
    return html`<div class="field"><label for=${id}>${label}</label>
      <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
        ${field.options.map((o) => html`<option key=${o} value=${o}>${o}</option>`)}
      </select></div>`;
  }
  const hint = field.type === 'skills' ? 'support:2, mandarin:3'
    : field.type === 'capacity' ? 'voice:1, chat:3' : undefined;
  return html`<div class="field"><label for=${id}>${label}</label>
    <input id=${id} value=${value} required=${required} placeholder=${hint}
      type=${field.type === 'password' ? 'password' : field.type === 'number' ? 'number' : 'text'}
      autocomplete=${field.type === 'password' ? 'new-password' : 'off'}
      onInput=${(e) => onChange(e.target.value)} /></div>`;
}
