// The chat widget inside its frame (loader.js puts the frame on the shop's page): a
// pre-chat form, then the conversation over /ws/chat with the place in line, the agent's
// name and typing, and "sending…" until each message is stored; files (the paperclip) and
// the transcript by email. The session is kept in sessionStorage, so a reload of the
// shop's page resumes the same chat.

import { useEffect, useMemo, useReducer, useRef, useState } from '../vendor/hooks.module.js';
import { ApiError } from '../common/api.js';
import { FileLink, refusalKey, uploadFile } from '../common/files.js';
import { html } from '../common/html.js';
import { LANGUAGES } from '../common/lang.js';
import { translator } from './i18n.js';
import { ChatSocket } from './socket.js';

const PARAMS = new URLSearchParams(location.search);
const ENTRY = PARAMS.get('entry') || 'default';
const STORE_KEY = `contactd.widget.${ENTRY}`;
const TYPING_IDLE_MS = 3000;

function initialLang() {
  const asked = PARAMS.get('lang') || navigator.language || 'en';
  return asked.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

function stored() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE_KEY));
  } catch {
    return null;
  }
}

function minimize() {
  window.parent.postMessage({ type: 'contactd-widget', action: 'minimize' }, '*');
}

export function App() {
  const [saved, setSaved] = useState(stored);
  const [lang, setLang] = useState(() => saved?.lang || initialLang());
  const t = useMemo(() => translator(lang), [lang]);
  useEffect(() => { document.documentElement.lang = lang; }, [lang]);
  const begin = (value) => {
    sessionStorage.setItem(STORE_KEY, JSON.stringify(value));
    setSaved(value);
  };
  const forget = () => {
    sessionStorage.removeItem(STORE_KEY);
    setSaved(null);
  };
  return html`<div class="widget">
    <header class="widget-bar">
      <h1>${t('title')}</h1>
      <button type="button" class="icon" aria-label=${t('close')} onClick=${minimize}>–</button>
    </header>
    ${saved
      ? html`<${Conversation} key=${saved.session.session_id} t=${t} saved=${saved} onAgain=${forget} />`
      : html`<${PreChat} t=${t} lang=${lang} onLanguage=${setLang} onStarted=${begin} />`}
  </div>`;
}

function PreChat({ t, lang, onLanguage, onStarted }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { widget: ENTRY, language: lang, name: form.get('name').trim() || undefined };
    const email = form.get('email').trim();
    if (email) body.email = email;
    if (document.referrer.startsWith('http')) body.page_url = document.referrer;
    setBusy(true);
    setProblem(null);
    try {
      const response = await fetch('/api/v1/chat/sessions', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (!response.ok) throw new ApiError(response.status, answer);
      onStarted({ session: answer, lang, name: body.name || '', email: body.email || '' });
    } catch (error) {
      setProblem(error instanceof ApiError && error.status === 429 ? t('tooMany') : t('problem', { message: error.message }));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="pre-chat" onSubmit=${submit}>
    <p>${t('intro')}</p>
    <div class="field"><label for="visitor-name">${t('name')}</label>
      <input id="visitor-name" name="name" autocomplete="name" maxlength="200" required /></div>
    <div class="field"><label for="visitor-email">${t('email')}</label>
      <input id="visitor-email" name="email" type="email" autocomplete="email" maxlength="320" /></div>
    <div class="field"><label for="visitor-language">${t('language')}</label>
      <select id="visitor-language" value=${lang} onChange=${(e) => onLanguage(e.target.value)}>
        ${LANGUAGES.map((l) => html`<option key=${l.code} value=${l.code}>${l.name}</option>`)}
      </select></div>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    <button type="submit" disabled=${busy}>${busy ? t('starting') : t('start')}</button>
  </form>`;
}

function emptyChat(session) {
  return {
    conn: 'connecting', messages: [], pending: new Map(), position: session.position,
    wait: session.expected_wait_seconds, agent: null, agentTyping: false,
    ended: Boolean(session.ended), closed: session.closed_action !== null && session.closed_action !== undefined,
    survey: null, // 'open' after csat_request, 'done' once the rating is recorded
  };
}

function apply(chat, frame) {
  switch (frame.type) {
    case 'message':
      if (!chat.messages.some((m) => m.seq === frame.seq)) {
        chat.messages.push(frame);
        chat.messages.sort((a, b) => a.seq - b.seq);
      }
      if (frame.client_id) chat.pending.delete(frame.client_id);
      if (frame.author === 'agent') chat.agentTyping = false;
      break;
    case 'ack':
      chat.pending.delete(frame.client_id);
      break;
    case 'position':
      chat.position = frame.position;
      chat.wait = frame.expected_wait_seconds;
      break;
    case 'agent_joined':
      chat.agent = frame.agent_name;
      chat.position = null;
      break;
    case 'typing':
      chat.agentTyping = frame.is_typing;
      break;
    case 'ended':
      chat.ended = true;
      chat.agentTyping = false;
      break;
    case 'csat_request':
      chat.survey = chat.survey || 'open';
      break;
    case 'csat_recorded':
      chat.survey = 'done';
      break;
    default:
      break;
  }
}

function Conversation({ t, saved, onAgain }) {
  const chat = useRef(null);
  if (chat.current === null) chat.current = emptyChat(saved.session);
  const socket = useRef(null);
  const [, changed] = useReducer((n) => n + 1, 0);
  const [draft, setDraft] = useState('');
  const typingTimer = useRef(null);
  const list = useRef(null);
  useEffect(() => {
    const state = chat.current;
    const ws = new ChatSocket({
      session: saved.session,
      lastSeq: 0, // a reload replays the transcript
      onFrame: (frame) => { apply(state, frame); changed(); },
      onStatus: (status) => { state.conn = status; changed(); },
      onGone: onAgain,
    });
    socket.current = ws;
    ws.start();
    return () => ws.stop();
  }, []);
  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  });
  const state = chat.current;
  const stopTyping = () => {
    clearTimeout(typingTimer.current);
    typingTimer.current = null;
    socket.current.typing(false);
  };
  const onInput = (event) => {
    setDraft(event.target.value);
    if (typingTimer.current === null) socket.current.typing(true);
    clearTimeout(typingTimer.current);
    typingTimer.current = setTimeout(stopTyping, TYPING_IDLE_MS);
  };
  const send = (event) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    const clientId = socket.current.say(text);
    state.pending.set(clientId, text);
    setDraft('');
    stopTyping();
  };
  const sendFile = async (file) => {
    const key = `f-${Date.now()}`;
    state.pending.set(key, file.name);
    state.fileProblem = null;
    changed();
    try {
      apply(state, { type: 'message', ...(await uploadFile(filesPath(saved.session), saved.session.token, file)) });
    } catch (error) {
      const known = refusalKey(error);
      state.fileProblem = known ? t(known) : t('problem', { message: error.message });
    } finally {
      state.pending.delete(key);
      changed();
    }
  };
  const agentName = state.agent || t('agent');
  return html`<div class="conversation">
    <p class="conn" data-conn=${state.conn} role="status">${t(`conn.${state.conn}`)}</p>
    ${!state.ended && !state.agent && html`<p class="queue-place" role="status" aria-live="polite">
      ${placeText(t, state)}</p>`}
    ${state.agent && html`<p class="joined">${t('joined', { name: state.agent })}</p>`}
    <ol class="messages" ref=${list} aria-live="polite">
      ${state.messages.map((m) => html`<li key=${m.seq} class=${`message ${m.author}`} data-seq=${m.seq}>
        ${m.author !== 'system' && html`<span class="who">${m.author === 'customer' ? t('you') : m.agent_name || agentName}</span>`}
        ${m.attachment
          ? html`<span class="text"><${FileLink} file=${m.attachment} token=${saved.session.token}
              path=${`${filesPath(saved.session)}/${m.attachment.id}`} label=${t('download', { name: m.attachment.filename })} /></span>`
          : html`<span class="text">${m.text}</span>`}
      </li>`)}
      ${[...state.pending.entries()].map(([clientId, text]) => html`<li key=${clientId} class="message customer pending">
        <span class="who">${t('you')}</span><span class="text">${text}</span>
        <span class="small">${t('sending')}</span></li>`)}
    </ol>
    ${state.agentTyping && html`<p class="typing">${t('typing', { name: agentName })}</p>`}
    ${state.fileProblem && html`<p class="problem" role="alert">${state.fileProblem}</p>`}
    ${state.ended
      ? html`<div class="ended"><p role="status">${state.closed ? t('closed') : t('ended')}</p>
          ${survey(t, state, (score) => socket.current.send({ type: 'csat', score }))}
          <${TranscriptRequest} t=${t} saved=${saved} />
          <button type="button" onClick=${onAgain}>${t('again')}</button></div>`
      : html`<form class="composer" onSubmit=${send}>
          <label for="widget-message" class="visually-hidden">${t('message')}</label>
          <textarea id="widget-message" rows="2" maxlength="4000" value=${draft} onInput=${onInput}
            onKeyDown=${(e) => { if (e.key === 'Enter' && !e.shiftKey) send(e); }}></textarea>
          <div class="buttons">
            <button type="submit">${t('send')}</button>
            <${AttachButton} t=${t} onFile=${sendFile} />
            <button type="button" class="secondary" onClick=${() => socket.current.end()}>${t('end')}</button>
          </div>
        </form>
        <${TranscriptRequest} t=${t} saved=${saved} />`}
  </div>`;
}

function filesPath(session) {
  return `/api/v1/chat/sessions/${session.session_id}/attachments`;
}

// The paperclip: a real button (focus, Enter, Space) that opens the file picker.
function AttachButton({ t, onFile }) {
  const picker = useRef(null);
  const picked = (event) => {
    const [file] = event.target.files;
    event.target.value = '';
    if (file) onFile(file);
  };
  return html`<button type="button" class="secondary attach" aria-label=${t('attach')} title=${t('attach')}
      onClick=${() => picker.current.click()}>📎</button>
    <input type="file" id="widget-file" class="visually-hidden" tabindex="-1" aria-hidden="true"
      ref=${picker} onChange=${picked} />`;
}

// "Email me the transcript": the pre-chat form's address, the browser's time zone.
function TranscriptRequest({ t, saved }) {
  const [status, setStatus] = useState(null);
  const [email, setEmail] = useState(saved.email || '');
  const submit = async (event) => {
    event.preventDefault();
    event.stopPropagation();
    setStatus({ busy: true });
    try {
      const response = await fetch(`/api/v1/chat/sessions/${saved.session.session_id}/transcript`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${saved.session.token}` },
        body: JSON.stringify({ email, time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone }),
      });
      const answer = await response.json();
      if (!response.ok) throw new ApiError(response.status, answer);
      setStatus({ text: t('transcriptSent', { email: answer.email }) });
    } catch (error) {
      const limited = error instanceof ApiError && error.status === 429;
      setStatus({ text: limited ? t('transcriptLimited') : t('problem', { message: error.message }), problem: true });
    }
  };
  return html`<details class="transcript-request">
    <summary>${t('transcript')}</summary>
    <div class="field"><label for="transcript-email">${t('transcriptEmail')}</label>
      <input id="transcript-email" type="email" autocomplete="email" maxlength="320"
        value=${email} onInput=${(e) => setEmail(e.target.value)}
        onKeyDown=${(e) => { if (e.key === 'Enter') submit(e); }} /></div>
    <button type="button" disabled=${status?.busy} onClick=${submit}>${status?.busy ? t('sending') : t('transcriptSend')}</button>
    ${status?.text && html`<p class=${status.problem ? 'problem' : 'small'} role="status">${status.text}</p>`}
  </details>`;
}

// The post-chat rating (docs/csat.md): five buttons while the survey is open, then thanks.
function survey(t, state, rate) {
  if (state.survey === 'done') return html`<p class="survey-thanks" role="status">${t('rated')}</p>`;
  if (state.survey !== 'open') return null;
  return html`<div class="survey" role="group" aria-label=${t('rate')}>
    <p>${t('rate')}</p>
    ${[5, 4, 3, 2, 1].map((score) => html`<button type="button" class="secondary" key=${score}
      onClick=${() => rate(score)}>${t(`score.${score}`)}</button>`)}
  </div>`;
}

function placeText(t, state) {
  if (state.position === null || state.position === undefined) return t('waiting');
  if (state.position === 0) return t('positionNext');
  const place = t('position', { position: state.position });
  if (state.wait === null || state.wait === undefined) return place;
  return `${place} ${t('wait', { minutes: Math.max(1, Math.round(state.wait / 60)) })}`;
}
