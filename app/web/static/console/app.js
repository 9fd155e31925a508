// The agent desktop: sign-in, state, offers with their screen-pop, and the conversations.
// It talks only to the public API and /ws/agent (docs/agent-console.md).

import { useEffect, useReducer, useRef, useState } from '../vendor/hooks.module.js';
import { get, send as post } from '../common/api.js';
import { FileLink, refusalKey, uploadFile } from '../common/files.js';
import { html } from '../common/html.js';
import { duration } from '../common/time.js';
import { useLanguage, useSession } from '../common/session.js';
import { LanguagePicker, SignIn } from '../common/signin.js';
import { translator } from './i18n.js';
import { ConsultControl, FindCustomer, TransferControl } from './tools.js';
import { CannedPicker, useCannedReplies } from './canned.js';
import { ring, unlock } from './ring.js';
import { ConsoleSocket } from './socket.js';
import { addMessage, apply, emptyState, newRef } from './store.js';
import { CHANNEL_ICONS, ScreenPop, WhyMe } from './views.js';

const SESSION_KEY = 'contactd.console.session';
const SIGN_IN_ROLES = ['agent', 'supervisor', 'admin'];
const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;

export function App() {
  const [lang, t, chooseLanguage] = useLanguage(translator);
  const [session, signedIn, signOut] = useSession(SESSION_KEY);
  if (!session) {
    return html`<${SignIn} t=${t} lang=${lang} onLanguage=${chooseLanguage} onSignedIn=${signedIn}
      roles=${SIGN_IN_ROLES} refusedKey="notAgent" onSubmit=${unlock} />`;
  }
  return html`<${Desktop} t=${t} lang=${lang} session=${session}
    onLanguage=${chooseLanguage} onSignOut=${signOut} />`;
}

// ---------------------------------------------------------------- the desktop

function useDesktop(session, t, onSignOut) {
  const store = useRef(null);
  if (store.current === null) store.current = emptyState();
  const [, changed] = useReducer((n) => n + 1, 0);
  const socket = useRef(null);
  const tRef = useRef(t);
  tRef.current = t;

  useEffect(() => {
    const state = store.current;
    // A page load starts fresh (a snapshot, then each open conversation's transcript): the
    // events a resume would replay belong to the state this page no longer has.
    const connection = new ConsoleSocket({
      token: session.token,
      lastSeq: null,
      onFrame: (frame) => {
        apply(state, frame, tRef.current);
        if (frame.type === 'welcome') resendUnsent(state, connection);
        changed();
      },
      onStatus: (status) => {
        state.conn = status;
        changed();
      },
      onUnauthorized: onSignOut,
    });
    socket.current = connection;
    connection.start();
    return () => connection.stop();
  }, [session.token]);

  const send = (frame, remembered = {}) => {
    const ref = newRef();
    store.current.pending[ref] = { type: frame.type, contactId: frame.contact_id, ...remembered };
    if (!socket.current.send({ ...frame, ref })) {
      delete store.current.pending[ref];
      return false;
    }
    changed();
    return true;
  };
  return { state: store.current, send, changed, socket };
}

/** Chat lines the agent wrote that have no result yet are sent again (same client id, so
 *  the server stores each once) whenever the console (re)connects. */
function resendUnsent(state, connection) {
  for (const contact of Object.values(state.contacts)) {
    for (const line of contact.messages) {
      if (line.status !== 'sending') continue;
      const ref = newRef();
      state.pending[ref] = { type: 'send_chat', contactId: contact.contactId, clientId: line.clientId };
      connection.send({
        type: 'send_chat', contact_id: contact.contactId, text: line.text, client_id: line.clientId, ref,
      });
    }
  }
}

function useTranscripts(state, token, changed) {
  useEffect(() => {
    for (const contact of Object.values(state.contacts)) {
      if (!contact.needsTranscript) continue;
      contact.needsTranscript = false;
      const id = contact.contactId;
      if (contact.channel === 'chat') {
        get(token, `/api/v1/contacts/${id}/messages`).then((lines) => {
          for (const line of lines) {
            addMessage(contact, {
              seq: line.seq, author: line.author, text: line.text, agentName: line.agent_name,
              attachment: line.attachment ?? undefined,
              status: line.author === 'agent' ? 'delivered' : undefined,
            });
          }
          changed();
        }, () => {});
      } else if (contact.channel === 'email') {
        get(token, `/api/v1/contacts/${id}/email-messages`).then((thread) => {
          contact.emails = thread;
          changed();
        }, () => {});
      }
    }
  });
}

/** Re-render once a second: the state, countdown and wrap-up timers. */
function useClock() {
  const [, tick] = useReducer((n) => n + 1, 0);
  useEffect(() => {
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, []);
  return Date.now();
}

function Desktop({ t, lang, session, onLanguage, onSignOut }) {
  const { state, send, changed } = useDesktop(session, t, onSignOut);
  useTranscripts(state, session.token, changed);
  const replies = useCannedReplies(session.token);
  const offers = Object.values(state.offers);
  const now = useClock();
  useEffect(() => ring(offers.length > 0), [offers.length]);
  useEffect(() => () => ring(false), []);
  const active = state.contacts[state.active] ?? null;

  const accept = (offer) => send({ type: 'accept', contact_id: offer.contactId });
  const reject = (offer) => send({ type: 'reject', contact_id: offer.contactId });
  const finish = (contact) => {
    if (!contact.disposition) return false;
    return send(
      { type: 'wrap_up', contact_id: contact.contactId, disposition: contact.disposition,
        ...(contact.wrapNote ? { note: contact.wrapNote } : {}) },
    );
  };
  useShortcuts({ state, offers, active, accept, reject, finish, changed });

  return html`<div class="desktop" onClick=${unlock}>
    <${TopBar} t=${t} lang=${lang} state=${state} now=${now} send=${send}
      onLanguage=${onLanguage} onSignOut=${onSignOut} />
    ${state.notices.length > 0 && html`<ul class="notices" aria-live="polite">
      ${state.notices.map((n) => html`<li key=${n.id} class=${n.kind}>${n.text}</li>`)}
    </ul>`}
    ${offers.map((offer) => html`<${OfferBanner} key=${offer.contactId} offer=${offer} t=${t} lang=${lang}
      now=${now} agentId=${state.agent.id} onAccept=${() => accept(offer)} onReject=${() => reject(offer)} />`)}
    <main class="work" aria-label=${t('conversations')}>
      ${state.order.length === 0 ? html`<p class="empty idle">${t('noConversations')}</p>` : html`
        <${Tabs} t=${t} state=${state} now=${now} onSelect=${(id) => { state.active = id; changed(); }} />
        ${active && html`<${ContactPane} key=${active.contactId} t=${t} lang=${lang} contact=${active}
          token=${session.token} state=${state} now=${now} send=${send} changed=${changed}
          finish=${finish} replies=${replies} />`}`}
    </main>
    <footer class="shortcuts"><p>${t('shortcuts')}</p></footer>
  </div>`;
}

function useShortcuts({ state, offers, active, accept, reject, finish, changed }) {
  const latest = useRef(null);
  latest.current = { state, offers, active, accept, reject, finish, changed };
  useEffect(() => {
    const onKey = (event) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const now = latest.current;
      const first = now.offers[0];
      if (event.code === 'KeyA' && first) now.accept(first);
      else if (event.code === 'KeyR' && first) now.reject(first);
      else if (event.code === 'KeyW' && now.active) now.finish(now.active);
      else if (/^Digit[1-9]$/.test(event.code)) {
        const id = now.state.order[Number(event.code.slice(5)) - 1];
        if (id === undefined) return;
        now.state.active = id;
        now.changed();
      } else return;
      event.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

function TopBar({ t, lang, state, now, send, onLanguage, onSignOut }) {
  const agent = state.agent;
  const value = agent.state === 'not_ready' ? `not_ready:${agent.reason}` : agent.state;
  const settable = ['available', 'offline'].includes(agent.state) || agent.state === 'not_ready';
  const choose = (event) => {
    const [stateName, reason] = event.target.value.split(':');
    send({ type: 'set_state', state: stateName, ...(reason ? { reason } : {}) });
  };
  const label = agent.state === 'not_ready' ? `${t('state.not_ready')} · ${t(`reason.${agent.reason}`)}` : t(`state.${agent.state}`);
  return html`<header class="top-bar">
    <h1 class="brand">contactd <span>${t('title')}</span></h1>
    <p class="agent-name">${agent.name}</p>
    <p class="conn" role="status" data-conn=${state.conn}>${t(`conn.${state.conn}`)}</p>
    <div class="field inline state-field">
      <label for="agent-state">${t('state')}</label>
      <select id="agent-state" value=${settable ? value : ''} onChange=${choose} data-state=${agent.state}>
        ${!settable && html`<option value="" disabled>${label}</option>`}
        <option value="available">${t('state.available')}</option>
        ${state.reasons.map((r) => html`<option key=${r} value=${`not_ready:${r}`}>${t('state.not_ready')} · ${t(`reason.${r}`)}</option>`)}
        <option value="offline">${t('state.offline')}</option>
      </select>
      <span class="state-time" aria-label=${label}>${duration((now - agent.since) / 1000)}</span>
    </div>
    <${LanguagePicker} t=${t} lang=${lang} onLanguage=${onLanguage} id="desk-language" />
    <button type="button" class="secondary" onClick=${onSignOut}>${t('signOut')}</button>
  </header>`;
}

function OfferBanner({ offer, t, lang, now, agentId, onAccept, onReject }) {
  const channel = offer.pop?.channel ?? 'chat';
  const left = offer.deadline == null ? null : Math.max(0, Math.ceil((offer.deadline - now) / 1000));
  const titleId = `offer-title-${offer.contactId}`;
  // When the banner is first on screen (bench/desktop_offers.py reads it).
  useEffect(() => { performance.mark(`offer-shown:${offer.contactId}`); }, [offer.contactId]);
  // A region, not a dialog: focus stays where the agent is typing; the heading is announced
  // (aria-live) and Alt+A / Alt+R answer from anywhere.
  return html`<section class="offer" role="region" aria-labelledby=${titleId} data-contact=${offer.contactId}>
    <header>
      <h2 id=${titleId} aria-live="assertive">${t('incoming', { channel: t(`channel.${channel}`) })}:
        ${offer.pop?.customer ? offer.pop.customer.name : t('unknownCustomer')}</h2>
      ${left !== null && html`<p class="countdown" aria-live="off">${t('secondsLeft', { n: left })}</p>`}
      <div class="actions">
        <button type="button" class="accept" onClick=${onAccept} aria-keyshortcuts="Alt+A">${t('accept')}</button>
        <button type="button" class="reject secondary" onClick=${onReject} aria-keyshortcuts="Alt+R">${t('reject')}</button>
      </div>
    </header>
    <div class="offer-body">
      ${offer.pop ? html`<${ScreenPop} pop=${offer.pop} t=${t} lang=${lang} />` : html`<p>${offer.popError}</p>`}
      <${WhyMe} trace=${offer.trace} agentId=${agentId} t=${t} />
    </div>
  </section>`;
}

function Tabs({ t, state, now, onSelect }) {
  const onKey = (event) => {
    const index = state.order.indexOf(state.active);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step === undefined) return;
    const next = state.order[(index + step + state.order.length) % state.order.length];
    onSelect(next);
    event.preventDefault();
    document.getElementById(`tab-${next}`)?.focus();
  };
  return html`<div class="tabs" role="tablist" aria-label=${t('conversations')} onKeyDown=${onKey}>
    ${state.order.map((id) => {
      const contact = state.contacts[id];
      const name = contact.pop?.customer?.name ?? t('unknownCustomer');
      const selected = id === state.active;
      return html`<button key=${id} id=${`tab-${id}`} role="tab" type="button" aria-selected=${selected ? 'true' : 'false'}
        aria-controls=${`panel-${id}`} tabindex=${selected ? 0 : -1} onClick=${() => onSelect(id)}
        class=${contact.phase === 'wrap_up' ? 'wrap' : ''}>
        <span class="channel-icon" aria-hidden="true">${CHANNEL_ICONS[contact.channel]}</span>
        ${name}
        ${contact.phase === 'wrap_up' && html` · ${duration((now - contact.wrapSince) / 1000)}`}
      </button>`;
    })}
  </div>`;
}

function ContactPane({ t, lang, contact, token, state, now, send, changed, finish, replies }) {
  const canned = { replies, language: contact.pop?.language ?? lang };
  return html`<section class="contact" role="tabpanel" id=${`panel-${contact.contactId}`}
      aria-labelledby=${`tab-${contact.contactId}`} data-contact=${contact.contactId}>
    <div class="conversation">
      ${contact.channel === 'email'
        ? html`<${EmailPane} t=${t} lang=${lang} token=${token} contact=${contact} send=${send} changed=${changed} canned=${canned} />`
        : contact.channel === 'voice'
          ? html`<${CallPane} t=${t} token=${token} contact=${contact} now=${now} changed=${changed} />`
          : html`<${ChatPane} t=${t} contact=${contact} token=${token} now=${now} send=${send} changed=${changed} canned=${canned} />`}
    </div>
    <aside class="side" aria-label=${t('customerPanel')}>
      <${ScreenPop} pop=${contact.pop} t=${t} lang=${lang} />
      <${WhyMe} trace=${contact.trace} agentId=${state.agent.id} t=${t} />
      <${FindCustomer} t=${t} token=${token} contact=${contact} changed=${changed} />
      <section class="tools" aria-label=${t('tools')}>
        <${TransferControl} t=${t} token=${token} contact=${contact} send=${send} />
        <${ConsultControl} t=${t} contact=${contact} send=${send} />
      </section>
      <${NotesPane} t=${t} contact=${contact} send=${send} changed=${changed} />
      <${WrapUpPane} t=${t} contact=${contact} state=${state} now=${now} changed=${changed} finish=${finish} />
    </aside>
  </section>`;
}

/** Add a canned reply's text to the contact's draft. */
function inserter(contact, changed) {
  return (text) => {
    contact.draft = contact.draft ? `${contact.draft.trimEnd()} ${text}` : text;
    changed();
  };
}

function ChatPane({ t, contact, token, now, send, changed, canned }) {
  const log = useRef(null);
  const typing = useRef({ sentAt: 0, idle: null });
  useEffect(() => {
    if (log.current) log.current.scrollTop = log.current.scrollHeight;
  }, [contact.messages.length]);
  const tellTyping = (isTyping) => {
    if (contact.phase !== 'assigned') return;
    send({ type: 'typing', contact_id: contact.contactId, is_typing: isTyping });
  };
  const onInput = (event) => {
    contact.draft = event.target.value;
    const clock = typing.current;
    if (Date.now() - clock.sentAt > TYPING_REPEAT_MS) {
      clock.sentAt = Date.now();
      tellTyping(true);
    }
    clearTimeout(clock.idle);
    clock.idle = setTimeout(() => {
      clock.sentAt = 0;
      tellTyping(false);
    }, TYPING_IDLE_MS);
    changed();
  };
  const submit = (event) => {
    event?.preventDefault();
    const text = (contact.draft ?? '').trim();
    if (!text) return;
    const clientId = newRef('a');
    addMessage(contact, { seq: null, author: 'agent', text, status: 'sending', clientId });
    contact.draft = '';
    clearTimeout(typing.current.idle);
    typing.current.sentAt = 0;
    send({ type: 'send_chat', contact_id: contact.contactId, text, client_id: clientId }, { clientId });
    changed();
  };
  const onKeyDown = (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.altKey && !event.isComposing) submit(event);
  };
  const inputId = `chat-input-${contact.contactId}`;
  return html`<div class="chat">
    <h2 class="visually-hidden">${t('transcript')}</h2>
    <ol class="transcript" role="log" aria-live="polite" aria-label=${t('transcript')} ref=${log}>
      ${contact.messages.map((m) => html`<li key=${m.key} class=${`line ${m.author}`} data-seq=${m.seq ?? ''} data-status=${m.status ?? ''}>
        <span class="who">${m.author === 'agent' ? t('you') : m.author === 'customer' ? t('customer') : t('system')}</span>
        ${m.attachment
          ? html`<span class="text"><${FileLink} file=${m.attachment} token=${token}
              path=${`/api/v1/attachments/${m.attachment.id}`} label=${t('download', { name: m.attachment.filename })} /></span>`
          : html`<span class="text">${m.text}</span>`}
        ${m.author === 'agent' && html`<span class="status">${m.status === 'delivered' ? `✓ ${t('delivered')}` : m.status === 'failed' ? '⚠' : t('sending')}</span>`}
      </li>`)}
    </ol>
    <p class="typing" aria-live="polite">${contact.typingUntil > now ? t('visitorTyping') : ''}</p>
    ${contact.ended ? html`<p class="ended" role="status">${t('chatEnded', { by: t(`by.${contact.ended}`) })}</p>` : html`
    <form class="compose" onSubmit=${submit}>
      <label for=${inputId}>${t('message')}</label>
      <textarea id=${inputId} rows="2" value=${contact.draft ?? ''} onInput=${onInput} onKeyDown=${onKeyDown}
        aria-keyshortcuts="Enter"></textarea>
      <button type="submit">${t('send')}</button>
      <${AttachFile} t=${t} token=${token} contact=${contact} changed=${changed} />
      <${CannedPicker} t=${t} replies=${canned.replies} language=${canned.language}
        inputId=${inputId} onInsert=${inserter(contact, changed)} />
    </form>`}
  </div>`;
}

/** The agent's paperclip: the file goes to the visitor over HTTP; the answer is the stored
 *  line (the refusal, in the agent's language, when too large or of a refused type). */
function AttachFile({ t, token, contact, changed }) {
  const picker = useRef(null);
  const [problem, setProblem] = useState(null);
  const picked = async (event) => {
    const [file] = event.target.files;
    event.target.value = '';
    if (!file) return;
    const clientId = newRef('f');
    addMessage(contact, { seq: null, author: 'agent', text: file.name, status: 'sending', clientId });
    setProblem(null);
    changed();
    try {
      const line = await uploadFile(`/api/v1/contacts/${contact.contactId}/attachments`, token, file);
      addMessage(contact, {
        seq: line.seq, author: 'agent', text: line.text, attachment: line.attachment, status: 'delivered', clientId,
      });
    } catch (error) {
      contact.messages = contact.messages.filter((m) => m.clientId !== clientId);
      const known = refusalKey(error);
      setProblem(known ? t(known) : t('fileFailed', { message: error.message }));
    }
    changed();
  };
  const pickerId = `chat-file-${contact.contactId}`;
  return html`<button type="button" class="attach" aria-label=${t('attach')} title=${t('attach')}
      onClick=${() => picker.current.click()}>📎</button>
    <input type="file" id=${pickerId} class="visually-hidden" tabindex="-1" aria-hidden="true"
      ref=${picker} onChange=${picked} />
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}`;
}

/** A call: the provider bridges the audio to the agent's phone; the desktop shows who and
 *  for how long, puts the caller on hold and takes them back (docs/voice.md, call
 *  controls), and shows the call's end (the contact goes to wrap-up). */
function CallPane({ t, token, contact, now, changed }) {
  const number = contact.pop?.from_address ?? '';
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const toggleHold = async () => {
    const control = contact.heldSince ? 'resume' : 'hold';
    setBusy(true);
    setProblem(null);
    try {
      await post(token, 'POST', `/api/v1/contacts/${contact.contactId}/call/${control}`);
      contact.heldSince = control === 'hold' ? Date.now() : null;
      changed();
    } catch (error) {
      setProblem(error.message);
    } finally {
      setBusy(false);
    }
  };
  const live = contact.phase !== 'wrap_up';
  return html`<div class="call">
    <h2>${t('callWith', { number })}</h2>
    ${live
      ? html`<p class="call-timer" role="timer">${t('callFor', { t: duration((now - contact.since) / 1000) })}</p>`
      : html`<p class="ended" role="status">${t('callEnded')}</p>`}
    ${live && contact.heldSince && html`<p class="on-hold" role="status">${t('call.onHold', { t: duration((now - contact.heldSince) / 1000) })}</p>`}
    ${live && html`<button type="button" class="hold" aria-pressed=${contact.heldSince ? 'true' : 'false'}
      disabled=${busy} onClick=${toggleHold}>${t(contact.heldSince ? 'call.resume' : 'call.hold')}</button>`}
    ${problem && html`<p class="message bad" role="alert">${problem}</p>`}
    <p class="hint">${t('callAudio')}</p>
  </div>`;
}

function quoted(message, t, lang) {
  const header = t('quoteHeader', {
    date: new Date(message.created_at).toLocaleString(lang), who: message.sender ?? '',
  });
  return `\n\n${header}\n${message.body.split('\n').map((line) => `> ${line}`).join('\n')}`;
}

function EmailPane({ t, lang, token, contact, send, changed, canned }) {
  const inbound = contact.emails.filter((m) => m.direction === 'inbound');
  const last = inbound[inbound.length - 1];
  const submit = (event) => {
    event.preventDefault();
    const text = (contact.draft ?? '').trim();
    if (!text) return;
    const body = last ? text + quoted(last, t, lang) : text;
    if (send({ type: 'reply_email', contact_id: contact.contactId, body })) {
      contact.draft = '';
      changed();
    }
  };
  const inputId = `email-reply-${contact.contactId}`;
  return html`<div class="email">
    <h2>${t('emailThread')}${last?.subject ? ` · ${last.subject}` : ''}</h2>
    <ol class="thread" aria-label=${t('emailThread')}>
      ${contact.emails.map((m) => html`<li key=${m.id} class=${`email-message ${m.direction}`}>
        <p class="email-head"><strong>${m.sender ?? ''}</strong>
          <time datetime=${m.created_at}>${new Date(m.created_at).toLocaleString(lang)}</time></p>
        ${m.subject && html`<p class="email-subject">${m.subject}</p>`}
        <blockquote class="email-body">${m.body}</blockquote>
        ${m.attachments.length > 0 && html`<div class="email-attachments" role="group" aria-label=${t('attachments', { n: m.attachments.length })}>
          ${m.attachments.map((file) => html`<${FileLink} key=${file.id} file=${file} token=${token}
            path=${`/api/v1/attachments/${file.id}`} label=${t('download', { name: file.filename })} />`)}
        </div>`}
      </li>`)}
    </ol>
    <form class="compose" onSubmit=${submit}>
      <label for=${inputId}>${t('reply')}</label>
      <textarea id=${inputId} rows="6" value=${contact.draft ?? ''}
        onInput=${(e) => { contact.draft = e.target.value; changed(); }}></textarea>
      <button type="submit">${t('sendReply')}</button>
      <${CannedPicker} t=${t} replies=${canned.replies} language=${canned.language}
        inputId=${inputId} onInsert=${inserter(contact, changed)} />
    </form>
  </div>`;
}

function NotesPane({ t, contact, send, changed }) {
  const inputId = `note-${contact.contactId}`;
  const submit = (event) => {
    event.preventDefault();
    const text = (contact.noteDraft ?? '').trim();
    if (!text) return;
    if (send({ type: 'add_note', contact_id: contact.contactId, text }, { text })) {
      contact.noteDraft = '';
      changed();
    }
  };
  return html`<section class="notes" aria-label=${t('notes')}>
    <h3>${t('notes')}</h3>
    <ul>${contact.notes.map((n) => html`<li key=${n.id}>${n.text}</li>`)}</ul>
    <form onSubmit=${submit}>
      <label for=${inputId}>${t('newNote')}</label>
      <textarea id=${inputId} rows="2" value=${contact.noteDraft ?? ''}
        onInput=${(e) => { contact.noteDraft = e.target.value; changed(); }}></textarea>
      <button type="submit" class="secondary">${t('addNote')}</button>
    </form>
  </section>`;
}

function WrapUpPane({ t, contact, state, now, changed, finish }) {
  const selectId = `disposition-${contact.contactId}`;
  const noteId = `wrap-note-${contact.contactId}`;
  const submit = (event) => {
    event.preventDefault();
    finish(contact);
  };
  return html`<section class="wrap-up" aria-label=${t('wrapUp')}>
    <h3>${t('wrapUp')}</h3>
    ${contact.phase === 'wrap_up' && html`<p class="wrap-timer" role="timer">${t('wrapUpFor', { t: duration((now - contact.wrapSince) / 1000) })}</p>`}
    <form onSubmit=${submit}>
      <div class="field">
        <label for=${selectId}>${t('disposition')}</label>
        <select id=${selectId} required value=${contact.disposition ?? ''}
          onChange=${(e) => { contact.disposition = e.target.value; changed(); }}>
          <option value="" disabled>${t('chooseDisposition')}</option>
          ${state.dispositions.map((d) => html`<option key=${d} value=${d}>${t(`disposition.${d}`)}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for=${noteId}>${t('wrapUpNote')}</label>
        <textarea id=${noteId} rows="2" value=${contact.wrapNote ?? ''}
          onInput=${(e) => { contact.wrapNote = e.target.value; changed(); }}></textarea>
      </div>
      <button type="submit" aria-keyshortcuts="Alt+W">${t('finish')}</button>
    </form>
  </section>`;
}

