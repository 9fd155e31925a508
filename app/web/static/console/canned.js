// Canned replies: the team's and everyone's snippets (GET /api/v1/canned-replies), opened
// with Alt+C or the button, filtered as the agent types, inserted into the reply box with
// Enter or a click. Replies in the customer's language come first.

import { useEffect, useRef, useState } from '../vendor/hooks.module.js';
import { get } from '../common/api.js';
import { html } from '../common/html.js';

/** The replies the agent may use, fetched once per sign-in. */
export function useCannedReplies(token) {
  const [replies, setReplies] = useState([]);
  useEffect(() => {
    get(token, '/api/v1/canned-replies').then(setReplies).catch(() => setReplies([]));
  }, [token]);
  return replies;
}

/** `replies` matching `filter` (shortcut, title or text), `language` first. */
export function matching(replies, filter, language) {
  const needle = filter.trim().toLowerCase().replace(/^\//, '');
  const shown = replies.filter((r) => !needle || r.shortcut.includes(needle)
    || r.title.toLowerCase().includes(needle) || r.body.toLowerCase().includes(needle));
  const first = (r) => (r.language === language ? 0 : 1);
  return shown.sort((a, b) => first(a) - first(b) || a.shortcut.localeCompare(b.shortcut));
}

export function CannedPicker({ t, replies, language, onInsert, inputId }) {
  const [open, setOpen] = useState(false);
  const [filter, setFilter] = useState('');
  const search = useRef(null);
  useEffect(() => {
    const onKey = (event) => {
      if (event.altKey && event.code === 'KeyC') {
        event.preventDefault();
        setOpen(true);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  useEffect(() => {
    if (open && search.current) search.current.focus();
  }, [open]);
  const shown = matching(replies, filter, language);
  const insert = (reply) => {
    onInsert(reply.body);
    setOpen(false);
    setFilter('');
    document.getElementById(inputId)?.focus();
  };
  const onKeyDown = (event) => {
    if (event.key === 'Enter' && shown[0]) {
      event.preventDefault();
      insert(shown[0]);
    } else if (event.key === 'Escape') {
      setOpen(false);
      document.getElementById(inputId)?.focus();
    }
  };
  if (!open) {
    return html`<button type="button" class="secondary canned-open" aria-keyshortcuts="Alt+C"
      onClick=${() => setOpen(true)}>${t('cannedReplies')}</button>`;
  }
  const searchId = `${inputId}-canned`;
  return html`<div class="canned" role="group" aria-label=${t('cannedReplies')}>
    <label for=${searchId}>${t('cannedFilter')}</label>
    <input id=${searchId} ref=${search} value=${filter} onInput=${(e) => setFilter(e.target.value)}
      onKeyDown=${onKeyDown} autocomplete="off" />
    ${shown.length === 0 ? html`<p class="empty">${t('cannedNone')}</p>` : html`<ul class="canned-list">
      ${shown.map((reply) => html`<li key=${reply.id}>
        <button type="button" class="secondary" onClick=${() => insert(reply)}
          data-shortcut=${reply.shortcut}>
          <strong>/${reply.shortcut}</strong> ${reply.title}
          <span class="small">${reply.language}${reply.team ? ` · ${reply.team}` : ''}</span>
        </button>
      </li>`)}</ul>`}
  </div>`;
}
