// The supervisor wallboard: live queue tiles, alarms, the agents grid with the actions the
// API allows, and today by interval. It talks only to the public API and /ws/supervisor
// (docs/supervisor.md).

import { useEffect, useReducer, useRef, useState } from '../vendor/hooks.module.js';
import { get, send } from '../common/api.js';
import { html } from '../common/html.js';
import { useLanguage, useSession } from '../common/session.js';
import { LanguagePicker, SignIn } from '../common/signin.js';
import { duration } from '../common/time.js';
import { IntervalChart } from './chart.js';
import { translator } from './i18n.js';
import { SupervisorSocket } from './socket.js';
import {
  apply, emptyState, intervalSeries, serverNow, serviceLevelClass, staffingClass,
} from './store.js';

const SESSION_KEY = 'contactd.wallboard.session';
const SIGN_IN_ROLES = ['supervisor', 'admin'];
const TV_KEY = 'contactd.wallboard.tv';
const TICK_MS = 1000; // times in state and waits tick once a second, nothing faster
const REPORT_MS = 5 * 60 * 1000; // today's intervals are fetched again every 5 minutes
const TV_TILES = 4; // tiles per page in TV mode; the pages rotate every TV_ROTATE_MS
const TV_ROTATE_MS = 10000;
const AGENT_STATES = ['available', 'on_contact', 'wrap_up', 'not_ready'];

export function App() {
  const [lang, t, chooseLanguage] = useLanguage(translator);
  const [session, signedIn, signOut] = useSession(SESSION_KEY);
  if (!session) {
    return html`<${SignIn} t=${t} lang=${lang} onLanguage=${chooseLanguage} onSignedIn=${signedIn}
      roles=${SIGN_IN_ROLES} refusedKey="notSupervisor" />`;
  }
  return html`<${Board} t=${t} lang=${lang} session=${session}
    onLanguage=${chooseLanguage} onSignOut=${signOut} />`;
}

// ---------------------------------------------------------------- data

/** The live view from the socket, re-rendered after each frame and once a second. */
function useLive(session, onSignOut) {
  const store = useRef(null);
  if (store.current === null) store.current = emptyState();
  const [, changed] = useReducer((n) => n + 1, 0);
  useEffect(() => {
    const state = store.current;
    const socket = new SupervisorSocket({
      token: session.token,
      onFrame: (frame) => {
        apply(state, frame, Date.now());
        changed();
      },
      onStatus: (status) => {
        state.conn = status;
        changed();
      },
      onUnauthorized: onSignOut,
    });
    socket.start();
    const ticker = setInterval(changed, TICK_MS);
    return () => {
      clearInterval(ticker);
      socket.stop();
    };
  }, [session.token]);
  return store.current;
}

/** What the socket does not carry: names, teams and capacities of the agents, the queues'
 *  display names and the not-ready reasons. Fetched once. */
function useDirectory(token) {
  const [directory, setDirectory] = useState({ agents: {}, queues: {}, reasons: [] });
  useEffect(() => {
    Promise.all([
      get(token, '/api/v1/agents?limit=200'),
      get(token, '/api/v1/queues?limit=200'),
      get(token, '/api/v1/routing/config').catch(() => null),
    ]).then(([agents, queues, config]) => {
      setDirectory({
        agents: Object.fromEntries(agents.items.map((a) => [String(a.id), a])),
        queues: Object.fromEntries(queues.items.map((q) => [q.name, q])),
        reasons: config?.document?.not_ready_reasons || [],
      });
    });
  }, [token]);
  return directory;
}

/** Today's interval report (30 min) from the start of the live view's day to now. */
function useIntervals(token, dayStart) {
  const [rows, setRows] = useState([]);
  useEffect(() => {
    if (dayStart === null) return undefined;
    const load = () => {
      const from = new Date(dayStart * 1000).toISOString();
      const to = new Date(Math.ceil(Date.now() / 1800000) * 1800000).toISOString();
      const query = new URLSearchParams({ from, to, interval: '30m' });
      get(token, `/api/v1/reports/intervals?${query}`).then((report) => setRows(report.rows));
    };
    load();
    const timer = setInterval(load, REPORT_MS);
    return () => clearInterval(timer);
  }, [token, dayStart]);
  return rows;
}

/** Today's CSAT per queue (GET /api/v1/reports/csat?group_by=queue), fetched with the
 *  intervals and again whenever a low rating arrives. */
function useCsat(token, dayStart, lowRatings) {
  const [byQueue, setByQueue] = useState({});
  useEffect(() => {
    if (dayStart === null) return undefined;
    const load = () => {
      const query = new URLSearchParams({ group_by: 'queue', from: new Date(dayStart * 1000).toISOString() });
      get(token, `/api/v1/reports/csat?${query}`)
        .then((report) => setByQueue(Object.fromEntries(report.rows.map((row) => [row.group, row]))))
        .catch(() => setByQueue({}));
    };
    load();
    const timer = setInterval(load, REPORT_MS);
    return () => clearInterval(timer);
  }, [token, dayStart, lowRatings]);
  return byQueue;
}

// ---------------------------------------------------------------- the board

function Board({ t, lang, session, onLanguage, onSignOut }) {
  const live = useLive(session, onSignOut);
  const directory = useDirectory(session.token);
  const rows = useIntervals(session.token, live.dayStart);
  const csat = useCsat(
    session.token, live.dayStart, live.notices.filter((n) => n.kind === 'csat_low').length,
  );
  const [tv, setTv] = useState(() => localStorage.getItem(TV_KEY) === '1');
  const [picked, setPicked] = useState(null); // the queue whose waiting contacts are shown
  const [notice, setNotice] = useState(null);
  useEffect(() => {
    document.body.classList.toggle('tv', tv);
    localStorage.setItem(TV_KEY, tv ? '1' : '0');
  }, [tv]);
  const now = serverNow(live, Date.now());
  const names = Object.keys(live.queues).sort();
  const pages = Math.max(1, Math.ceil(names.length / TV_TILES));
  const page = Math.floor(Date.now() / TV_ROTATE_MS) % pages;
  const shown = tv ? names.slice(page * TV_TILES, (page + 1) * TV_TILES) : names;
  const ctx = { t, lang, now, directory, live, csat, token: session.token, tv, say: setNotice };
  return html`<div class="board">
    <header class="top-bar">
      <h1>contactd · ${t('title')}</h1>
      <span class="conn" data-conn=${live.conn} role="status">${t(`conn.${live.conn}`)}</span>
      <span class="spacer"></span>
      <button type="button" class="secondary" aria-pressed=${tv} onClick=${() => setTv(!tv)}>
        ${tv ? t('leaveTv') : t('tvMode')}</button>
      <span class="controls">
        <${LanguagePicker} t=${t} lang=${lang} onLanguage=${onLanguage} id="board-language" />
        <button type="button" class="secondary" onClick=${onSignOut}>${t('signOut')}</button>
      </span>
    </header>
    ${notice && html`<p class="notice" role="status">${notice}</p>`}
    <main class="panels">
      <section class="queues" aria-labelledby="queues-title">
        <h2 id="queues-title">${t('queues')}</h2>
        <div class="tiles">
          ${shown.map((name) => html`<${QueueTile} key=${name} ctx=${ctx} view=${live.queues[name]}
            onPick=${() => setPicked(name)} />`)}
        </div>
      </section>
      ${picked && !tv && html`<${WaitingPanel} ctx=${ctx} queue=${picked}
        waiting=${live.queues[picked]?.waiting} onClose=${() => setPicked(null)} />`}
      <${Alarms} ctx=${ctx} />
      <section class="chart-panel" aria-labelledby="chart-heading">
        <h2 id="chart-heading">${t('chart.title')}</h2>
        <${IntervalChart} points=${intervalSeries(rows, null)} t=${t} lang=${lang} />
      </section>
      <${AgentsGrid} ctx=${ctx} />
    </main>
  </div>`;
}

function percent(value) {
  return value === null || value === undefined ? '—' : `${Math.round(value)}%`;
}

function seconds(value) {
  return value === null || value === undefined ? '—' : duration(value);
}

function QueueTile({ ctx, view, onPick }) {
  const { t, now, directory, tv } = ctx;
  const rated = ctx.csat[view.queue];
  const since = view.oldest_waiting_since;
  const longest = since === null ? 0 : now - since;
  const sl = serviceLevelClass(view.service_level, view.target.percent);
  const abandonRate = view.offered ? (100 * view.abandoned) / view.offered : null;
  const title = directory.queues[view.queue]?.display_name || view.queue;
  const titleId = `tile-${view.queue}`;
  return html`<article class="tile" data-queue=${view.queue} aria-labelledby=${titleId}>
    <h3 id=${titleId}>${title}</h3>
    <dl class="figures">
      <div class="figure big" data-figure="waiting"><dt>${t('waiting')}</dt>
        <dd>${view.waiting}</dd></div>
      <div class="figure big" data-figure="longest"><dt>${t('longestWait')}</dt>
        <dd><span role="timer">${duration(longest)}</span></dd></div>
      <div class=${`figure big sl ${sl}`} data-figure="sl" data-level=${sl}>
        <dt>${t('serviceLevel')}</dt>
        <dd>${percent(view.service_level)}
          <${Gauge} value=${view.service_level} target=${view.target.percent} level=${sl} /></dd>
        <dd class="small">${t('slTarget', view.target)}</dd>
        <dd class="small">${t('sl30m', { value: percent(view.service_level_30m) })}</dd>
      </div>
      <div class="figure" data-figure="asa"><dt>${t('asa')}</dt><dd>${seconds(view.asa_seconds)}</dd></div>
      <div class="figure" data-figure="abandoned"><dt>${t('abandonRate')}</dt><dd>${percent(abandonRate)}</dd></div>
      <div class="figure" data-figure="offered"><dt>${t('offeredHandled')}</dt>
        <dd>${view.offered} / ${view.handled}</dd></div>
      <div class="figure" data-figure="csat"><dt>${t('csat')}</dt>
        <dd>${rated?.average == null ? '–' : t('csatFigure', {
          average: rated.average.toFixed(1), satisfied: Math.round(rated.satisfied_pct), n: rated.responses })}</dd></div>
    </dl>
    <ul class="by-state" aria-label=${t('agents')}>
      ${AGENT_STATES.map((s) => html`<li key=${s} class=${`st ${s}`} data-state=${s}>
        <span class="n">${view.agents[s]}</span> ${t(`agents.${s}`)}</li>`)}
    </ul>
    <p class=${`staffing ${staffingClass(view.staffing)}`} data-figure="staffing">
      <strong>${t('staffing')}</strong> ${t('staffingFigures', {
        needed: view.staffing.agents_needed, staffed: view.staffing.agents_staffed })}
      <span class="small"> · ${t('arrivals', { rate: Math.round(view.staffing.arrivals_per_hour_30m) })}</span>
    </p>
    ${!tv && html`<button type="button" class="secondary" onClick=${onPick}
      aria-label=${`${t('showWaiting')}: ${title}`}>${t('showWaiting')}</button>`}
  </article>`;
}

/** Service level against the target as a bar with the target marked. */
function Gauge({ value, target, level }) {
  const filled = value === null || value === undefined ? 0 : Math.max(0, Math.min(100, value));
  return html`<svg class=${`gauge ${level}`} viewBox="0 0 100 8" aria-hidden="true" preserveAspectRatio="none">
    <rect class="track" x="0" y="0" width="100" height="8" />
    <rect class="fill" x="0" y="0" width=${filled} height="8" />
    <line class="target" x1=${target} x2=${target} y1="0" y2="8" />
  </svg>`;
}

// ---------------------------------------------------------------- alarms

function agentName(directory, id) {
  return directory.agents[String(id)]?.display_name || `#${id}`;
}

function alarmText(alarm, ctx) {
  const { t, directory, lang } = ctx;
  switch (alarm.kind) {
    case 'queue_unstaffed':
      return t('alarm.queue_unstaffed', alarm);
    case 'agent_stuck':
      return t('alarm.agent_stuck', {
        agent: agentName(directory, alarm.agent_id), state: t(`state.${alarm.state}`),
        time: duration(alarm.seconds),
      });
    case 'contact_waiting_beside_free_agent':
      return t('alarm.contact_waiting_beside_free_agent', {
        contact: alarm.contact_id, queue: alarm.queue, time: duration(alarm.waited_seconds),
      });
    case 'case_sla':
      return t(`alarm.case_sla.${alarm.level}`, {
        case: alarm.case_id, target: alarm.target.replaceAll('_', ' '),
        due: new Date(alarm.due_at).toLocaleString(lang, { timeStyle: 'short', dateStyle: 'short' }),
      });
    case 'consult':
      return t('alarm.consult', {
        agent: alarm.agent_name || agentName(directory, alarm.agent_id),
        contact: alarm.contact_id, text: alarm.text || '',
      });
    case 'csat_low':
      return t('alarm.csat_low', {
        score: alarm.score, channel: t(`channel.${alarm.channel}`), queue: alarm.queue ?? '–',
        agent: agentName(directory, alarm.agent_id), contact: alarm.contact_id,
        case: alarm.case_id ?? '–',
      });
    default:
      return alarm.kind.replaceAll('_', ' ');
  }
}

function alarmLevel(alarm) {
  if (alarm.kind === 'case_sla') return alarm.level === 'breach' ? 'bad' : 'near';
  if (alarm.kind === 'consult') return 'info';
  if (alarm.kind === 'csat_low') return 'bad';
  return alarm.kind === 'agent_stuck' ? 'near' : 'bad';
}

function Alarms({ ctx }) {
  const { t, live } = ctx;
  const all = [...live.alarms, ...live.notices];
  return html`<section class="alarms" aria-labelledby="alarms-title">
    <h2 id="alarms-title">${t('alarms')} <span class="count">${all.length}</span></h2>
    ${all.length === 0 ? html`<p class="empty">${t('noAlarms')}</p>` : html`<ul aria-live="polite">
      ${all.map((a) => html`<li key=${a.key || `${a.kind}:${a.queue}:${a.agent_id}:${a.contact_id}`}
        class=${`alarm ${alarmLevel(a)}`} data-kind=${a.kind} data-queue=${a.queue}>
        ${alarmText(a, ctx)}${a.answeredBy && html` <span class="small">(${t('answeredBy', { name: a.answeredBy })})</span>`}
      </li>`)}
    </ul>`}
  </section>`;
}

// ---------------------------------------------------------------- agents

function capacityText(capacity, t) {
  return Object.entries(capacity || {}).map(([c, n]) => `${t(`channel.${c}`)} ${n}`).join(' · ');
}

function stateLabel(view, t) {
  if (view.state === 'not_ready' && view.reason) {
    return t('notReadyWith', { reason: t(`reason.${view.reason}`) });
  }
  return t(`state.${view.state}`);
}

function AgentsGrid({ ctx }) {
  const { t, directory, live } = ctx;
  const ids = new Set([...Object.keys(directory.agents), ...Object.keys(live.agents)]);
  const order = [...ids].sort((a, b) =>
    agentName(directory, a).localeCompare(agentName(directory, b), ctx.lang));
  return html`<section class="agents" aria-labelledby="agents-title">
    <h2 id="agents-title">${t('agents')}</h2>
    <table class="grid">
      <thead><tr>
        <th scope="col">${t('agent')}</th><th scope="col">${t('team')}</th>
        <th scope="col">${t('state')}</th><th scope="col">${t('timeInState')}</th>
        <th scope="col">${t('contacts')}</th><th scope="col">${t('capacity')}</th>
        <th scope="col">${t('handledToday')}</th><th scope="col">${t('occupancy')}</th>
        ${!ctx.tv && html`<th scope="col">${t('forceState')}</th><th scope="col">${t('monitor')}</th>`}
      </tr></thead>
      <tbody>${order.map((id) => html`<${AgentRow} key=${id} id=${id} ctx=${ctx}
        view=${live.agents[id] || { state: 'offline', contacts: [] }} />`)}</tbody>
    </table>
  </section>`;
}

function AgentRow({ id, ctx, view }) {
  const { t, now, directory, tv } = ctx;
  const agent = directory.agents[id];
  const inState = view.state_since === undefined ? null : now - view.state_since;
  return html`<tr data-agent=${id}>
    <th scope="row">${agentName(directory, id)}</th>
    <td>${agent?.team || '—'}</td>
    <td><span class=${`state ${view.state}`} data-state=${view.state}>${stateLabel(view, t)}</span></td>
    <td role="timer">${inState === null ? '—' : duration(inState)}</td>
    <td class="contacts">${(view.contacts || []).length ? view.contacts.join(', ') : '—'}</td>
    <td>${capacityText(agent?.capacity, t)}</td>
    <td>${view.handled ?? 0}</td>
    <td>${percent(view.occupancy)}</td>
    ${!tv && html`<td><${ForceState} id=${id} ctx=${ctx} /></td>
      <td>${(view.contacts || []).length > 0 && html`<${MonitorCall} id=${id} ctx=${ctx} contacts=${view.contacts} />`}</td>`}
  </tr>`;
}

const MONITOR_MODES = ['listen', 'whisper', 'barge', 'stop_monitoring'];

/** Listen to, whisper on or barge into one of the agent's calls (where the voice provider
 *  allows it: the answer's error says when it does not), or stop. */
function MonitorCall({ id, ctx, contacts }) {
  const { t, directory, token, say } = ctx;
  const [contactId, setContactId] = useState(String(contacts[0]));
  const [mode, setMode] = useState('listen');
  const name = agentName(directory, id);
  const chosen = contacts.map(String).includes(contactId) ? contactId : String(contacts[0]);
  const submit = async (event) => {
    event.preventDefault();
    try {
      await send(token, 'POST', `/api/v1/contacts/${chosen}/call/${mode}`);
      say(t('monitorSent', { agent: name, mode: t(`monitor.${mode}`) }));
    } catch (error) {
      say(t('failed', { message: error.message }));
    }
  };
  return html`<form class="monitor" onSubmit=${submit}>
    ${contacts.length > 1 && html`<label class="visually-hidden" for=${`monitor-contact-${id}`}>${t('monitorContactOf', { agent: name })}</label>
      <select id=${`monitor-contact-${id}`} value=${chosen} onChange=${(e) => setContactId(e.target.value)}>
        ${contacts.map((c) => html`<option key=${c} value=${String(c)}>${c}</option>`)}
      </select>`}
    <label class="visually-hidden" for=${`monitor-mode-${id}`}>${t('monitorModeFor', { agent: name })}</label>
    <select id=${`monitor-mode-${id}`} value=${mode} onChange=${(e) => setMode(e.target.value)}>
      ${MONITOR_MODES.map((m) => html`<option key=${m} value=${m}>${t(`monitor.${m}`)}</option>`)}
    </select>
    <button type="submit" class="secondary" aria-label=${`${t('monitorGo')}: ${name}`}>${t('monitorGo')}</button>
  </form>`;
}

/** The states a supervisor may force, as select values: available, not_ready:<reason>,
 *  offline. */
function ForceState({ id, ctx }) {
  const { t, directory, token, say } = ctx;
  const [choice, setChoice] = useState('available');
  const name = agentName(directory, id);
  const submit = async (event) => {
    event.preventDefault();
    const [state, reason] = choice.split(':');
    try {
      await send(token, 'PUT', `/api/v1/agents/${id}/state`, { state, reason: reason || null });
      say(t('stateSent', { agent: name }));
    } catch (error) {
      say(t('failed', { message: error.message }));
    }
  };
  const selectId = `force-${id}`;
  return html`<form class="force" onSubmit=${submit}>
    <label class="visually-hidden" for=${selectId}>${t('forceStateFor', { agent: name })}</label>
    <select id=${selectId} value=${choice} onChange=${(e) => setChoice(e.target.value)}>
      <option value="available">${t('state.available')}</option>
      ${directory.reasons.map((r) => html`<option key=${r} value=${`not_ready:${r}`}>
        ${t('notReadyWith', { reason: t(`reason.${r}`) })}</option>`)}
      <option value="offline">${t('state.offline')}</option>
    </select>
    <button type="submit" class="secondary" aria-label=${`${t('apply')}: ${name}`}>${t('apply')}</button>
  </form>`;
}

// ---------------------------------------------------------------- waiting contacts

/** The contacts waiting in one queue, fetched again whenever its waiting figure moves, each
 *  with an "assign to" choice of agent. */
function WaitingPanel({ ctx, queue, waiting, onClose }) {
  const { t, token, directory } = ctx;
  const [contacts, setContacts] = useState(null);
  useEffect(() => {
    get(token, `/api/v1/routing/queues/${encodeURIComponent(queue)}/waiting`)
      .then(setContacts)
      .catch(() => setContacts([]));
  }, [queue, waiting]);
  const title = directory.queues[queue]?.display_name || queue;
  return html`<section class="waiting-panel" aria-labelledby="waiting-title">
    <h2 id="waiting-title">${t('waitingIn', { queue: title })}</h2>
    <button type="button" class="secondary close" onClick=${onClose}>${t('closeWaiting')}</button>
    ${contacts !== null && contacts.length === 0 && html`<p class="empty">${t('noneWaiting')}</p>`}
    ${contacts !== null && contacts.length > 0 && html`<table class="grid">
      <thead><tr><th scope="col">${t('position')}</th><th scope="col">${t('contact')}</th>
        <th scope="col">${t('channel')}</th><th scope="col">${t('waited')}</th>
        <th scope="col">${t('assign')}</th></tr></thead>
      <tbody>${contacts.map((c) => html`<tr key=${c.contact_id} data-contact=${c.contact_id}>
        <td>${c.position}</td><th scope="row">${c.contact_id}</th>
        <td>${t(`channel.${c.channel}`)}</td><td>${duration(c.waited_seconds)}</td>
        <td><${Assign} ctx=${ctx} contactId=${c.contact_id} /></td>
      </tr>`)}</tbody>
    </table>`}
  </section>`;
}

function Assign({ ctx, contactId }) {
  const { t, token, directory, live, say } = ctx;
  // The router offers only to a logged-in agent: the others are not listed.
  const agents = Object.values(directory.agents)
    .filter((a) => (live.agents[String(a.id)]?.state || 'offline') !== 'offline')
    .sort((a, b) => a.display_name.localeCompare(b.display_name, ctx.lang));
  const [agentId, setAgentId] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    if (!agentId) return;
    try {
      await send(token, 'POST', `/api/v1/contacts/${contactId}/assign`, { agent_id: Number(agentId) });
      say(t('assigned', { contact: contactId, agent: agentName(directory, agentId) }));
    } catch (error) {
      say(t('failed', { message: error.message }));
    }
  };
  const selectId = `assign-${contactId}`;
  return html`<form class="assign" onSubmit=${submit}>
    <label class="visually-hidden" for=${selectId}>${t('assignTo', { contact: contactId })}</label>
    <select id=${selectId} value=${agentId} onChange=${(e) => setAgentId(e.target.value)} required>
      <option value="">—</option>
      ${agents.map((a) => html`<option key=${a.id} value=${String(a.id)}>${a.display_name}</option>`)}
    </select>
    <button type="submit" class="secondary">${t('assign')}</button>
  </form>`;
}
