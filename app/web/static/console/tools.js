// What an agent does with a contact besides talking: find and link the customer when the
// match is unknown or wrong (the lookup is narrow and audited, docs/agent-console.md),
// transfer to another queue that takes the contact's channel, and ask a supervisor.

import { useEffect, useState } from '../vendor/hooks.module.js';
import { get, send as post } from '../common/api.js';
import { html } from '../common/html.js';
import { CONFIDENT } from './views.js';

const KEYS = ['phone', 'email', 'order_id', 'name'];

/** The pop after linking `found` to the contact: the customer as the lookup showed them,
 *  and their history as the agent may now read it. */
async function linkedPop(token, contact, found) {
  await post(token, 'POST', `/api/v1/customers/links/${contact.contactId}`, { customer_id: found.customer_id });
  const history = await get(
    token, `/api/v1/customers/${found.customer_id}/history?limit=20&via_contact=${contact.contactId}`,
  );
  return {
    ...contact.pop,
    customer_match: 'linked',
    customer: {
      id: found.customer_id, name: found.name,
      value: { grade: found.grade, vip: { active: found.vip }, value_class: found.value_class },
    },
    history: history.items,
  };
}

export function FindCustomer({ t, token, contact, changed }) {
  const match = contact.pop?.customer_match;
  const [open, setOpen] = useState(!CONFIDENT.has(match));
  const [key, setKey] = useState('phone');
  const [value, setValue] = useState('');
  const [found, setFound] = useState(null);
  const [problem, setProblem] = useState(null);
  const id = contact.contactId;
  const search = async (event) => {
    event.preventDefault();
    setProblem(null);
    try {
      const query = new URLSearchParams({ contact_id: String(id), [key]: value.trim() });
      setFound(await get(token, `/api/v1/customers/lookup?${query}`));
    } catch (error) {
      setProblem(error.message);
    }
  };
  const link = async (customer) => {
    try {
      contact.pop = await linkedPop(token, contact, customer);
      setFound(null);
      setOpen(false);
      changed();
    } catch (error) {
      setProblem(error.message);
    }
  };
  if (!open) {
    return html`<button type="button" class="secondary find-toggle" onClick=${() => setOpen(true)}>
      ${t('findCustomer')}</button>`;
  }
  return html`<section class="find-customer" aria-label=${t('findCustomer')}>
    <h3>${t('findCustomer')}</h3>
    <form onSubmit=${search} class="find-form">
      <label for=${`find-key-${id}`} class="visually-hidden">${t('findBy')}</label>
      <select id=${`find-key-${id}`} value=${key} onChange=${(e) => setKey(e.target.value)}>
        ${KEYS.map((k) => html`<option key=${k} value=${k}>${t(`findKey.${k}`)}</option>`)}
      </select>
      <label for=${`find-value-${id}`} class="visually-hidden">${t('findValue')}</label>
      <input id=${`find-value-${id}`} value=${value} required maxlength="320"
        onInput=${(e) => setValue(e.target.value)} placeholder=${t(`findKey.${key}`)} />
      <button type="submit" class="secondary">${t('find')}</button>
    </form>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    ${found && (found.length === 0
      ? html`<p class="empty" role="status">${t('noneFound')}</p>`
      : html`<ul class="found">${found.map((c) => html`<li key=${c.customer_id} data-customer=${c.customer_id}>
          <span><strong>${c.name}</strong> ${[c.phone_hint, c.email_hint, c.grade && t('grade', { grade: c.grade }), c.vip && t('vip')].filter(Boolean).join(' · ')}</span>
          <button type="button" onClick=${() => link(c)} aria-label=${t('linkOne', { name: c.name })}>${t('link')}</button>
        </li>`)}</ul>`)}
  </section>`;
}

export function TransferControl({ t, token, contact, send }) {
  const [queues, setQueues] = useState([]);
  const [queue, setQueue] = useState('');
  useEffect(() => {
    get(token, '/api/v1/queues?limit=200').then((answer) => setQueues(answer.items)).catch(() => setQueues([]));
  }, [token]);
  if (contact.phase !== 'assigned' || contact.ended) return null;
  const selectId = `transfer-${contact.contactId}`;
  const submit = (event) => {
    event.preventDefault();
    if (queue) send({ type: 'transfer', contact_id: contact.contactId, to_queue: queue });
  };
  return html`<form class="transfer" onSubmit=${submit}>
    <label for=${selectId}>${t('transferTo')}</label>
    <select id=${selectId} value=${queue} onChange=${(e) => setQueue(e.target.value)}>
      <option value="">${t('chooseQueue')}</option>
      ${queues.filter((q) => q.channels.includes(contact.channel)).map((q) => html`<option key=${q.name} value=${q.name}>${q.display_name}</option>`)}
    </select>
    <button type="submit" class="secondary" disabled=${!queue}>${t('transfer')}</button>
  </form>`;
}

export function ConsultControl({ t, contact, send }) {
  const [text, setText] = useState('');
  const inputId = `consult-${contact.contactId}`;
  const submit = (event) => {
    event.preventDefault();
    if (text.trim() && send({ type: 'consult', contact_id: contact.contactId, text: text.trim() })) setText('');
  };
  return html`<form class="consult" onSubmit=${submit}>
    <label for=${inputId}>${t('askSupervisor')}</label>
    <input id=${inputId} value=${text} maxlength="500" onInput=${(e) => setText(e.target.value)} />
    <button type="submit" class="secondary" disabled=${!text.trim()}>${t('ask')}</button>
  </form>`;
}
