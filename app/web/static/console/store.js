// The desktop's state and how each /ws/agent frame changes it. `apply` is the only writer
// of frames into the state; the view reads it and re-renders on `changed`.

let refCounter = 0;
export function newRef(prefix = 'r') {
  refCounter += 1;
  return `${prefix}${Date.now().toString(36)}-${refCounter}`;
}

export function emptyState() {
  return {
    conn: 'connecting',
    agent: { id: null, name: '', state: 'offline', reason: null, since: Date.now() },
    reasons: [],
    dispositions: [],
    offers: {}, // contact id -> {contactId, deadline (ms), pop, popError, trace}
    contacts: {}, // contact id -> conversation (see newContact)
    order: [], // contact ids, oldest first: the tabs
    active: null,
    pending: {}, // ref -> what the request was (for its result or error)
    notices: [],
  };
}

function newContact(contactId, channel, pop, trace) {
  return {
    contactId,
    channel,
    pop,
    trace,
    phase: 'assigned', // assigned | wrap_up
    since: Date.now(), // on the desktop since
    wrapSince: null,
    ended: null, // who ended the chat
    messages: [], // {key, seq, author, text, status, clientId, agentName, attachment}
    emails: [], // the email thread (GET /api/v1/contacts/{id}/email-messages)
    typingUntil: 0,
    notes: [],
    needsTranscript: true,
  };
}

function notice(state, text, kind = 'info') {
  state.notices = [...state.notices.slice(-4), { id: newRef('n'), text, kind }];
}

function removeContact(state, contactId) {
  delete state.contacts[contactId];
  state.order = state.order.filter((id) => id !== contactId);
  if (state.active === contactId) state.active = state.order[0] ?? null;
}

function ensureContact(state, contactId, channel, pop = null, trace = null) {
  if (!state.contacts[contactId]) {
    state.contacts[contactId] = newContact(contactId, channel, pop, trace);
    state.order = [...state.order, contactId];
  }
  if (state.active === null) state.active = contactId;
  return state.contacts[contactId];
}

/** Add a transcript line once: by its number, or (the agent's own) by its client id. */
export function addMessage(contact, line) {
  if (line.seq != null && contact.messages.some((m) => m.seq === line.seq)) return;
  if (line.clientId) {
    const mine = contact.messages.find((m) => m.clientId === line.clientId);
    if (mine) {
      Object.assign(mine, line);
      return;
    }
  }
  contact.messages = [...contact.messages, { key: newRef('m'), ...line }];
  contact.messages.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
}

function delivered(contact, clientId, seq) {
  const taken = contact.messages.some((m) => m.seq === seq && m.clientId !== clientId);
  if (taken) {
    contact.messages = contact.messages.filter((m) => m.clientId !== clientId);
    return;
  }
  const mine = contact.messages.find((m) => m.clientId === clientId);
  if (mine) Object.assign(mine, { seq, status: 'delivered' });
  contact.messages = [...contact.messages];
}

function applySnapshot(state, frame) {
  Object.assign(state.agent, {
    name: frame.agent_name,
    state: frame.state,
    reason: frame.reason,
    since: frame.state_since ? Date.parse(frame.state_since) : Date.now(),
  });
  state.reasons = frame.not_ready_reasons;
  const live = new Map(frame.contacts.map((c) => [c.contact_id, c]));
  for (const id of Object.keys(state.offers).map(Number)) {
    if (live.get(id)?.state !== 'offered') delete state.offers[id];
  }
  for (const id of [...state.order]) {
    if (!live.has(id) || live.get(id).state === 'offered') removeContact(state, id);
  }
  for (const c of frame.contacts) {
    if (c.state === 'offered') continue;
    const contact = ensureContact(state, c.contact_id, c.channel);
    contact.needsTranscript = true;
    if (c.state === 'wrap_up' && contact.phase !== 'wrap_up') {
      contact.phase = 'wrap_up';
      contact.wrapSince = Date.now();
    }
  }
}

function applyResult(state, frame, t) {
  const asked = state.pending[frame.ref];
  if (!asked) return;
  delete state.pending[frame.ref];
  const contact = state.contacts[asked.contactId];
  switch (asked.type) {
    case 'send_chat':
      if (contact) delivered(contact, asked.clientId, frame.data.message_seq);
      break;
    case 'wrap_up':
      removeContact(state, asked.contactId);
      break;
    case 'reply_email':
      if (contact) contact.needsTranscript = true;
      notice(state, t('replySent'));
      break;
    case 'add_note':
      if (contact) contact.notes = [...contact.notes, { id: frame.data.note_id, text: asked.text }];
      break;
    case 'transfer':
      removeContact(state, asked.contactId);
      notice(state, t('transferred'));
      break;
    case 'consult':
      notice(state, t('consultSent'));
      break;
    default:
      break;
  }
}

function applyError(state, frame, t) {
  const asked = state.pending[frame.ref];
  if (frame.ref) delete state.pending[frame.ref];
  if (asked?.type === 'send_chat') {
    const contact = state.contacts[asked.contactId];
    const mine = contact?.messages.find((m) => m.clientId === asked.clientId);
    if (mine) mine.status = 'failed';
  }
  notice(state, t('error', { message: frame.message }), 'error');
}

/** Apply one server frame; `t` translates notices. */
export function apply(state, frame, t, now = Date.now()) {
  switch (frame.type) {
    case 'welcome':
      state.agent.id = frame.agent_id;
      state.dispositions = frame.dispositions;
      break;
    case 'snapshot':
      applySnapshot(state, frame);
      break;
    case 'offer':
      if (state.contacts[frame.contact_id]) break; // already ours
      state.offers = {
        ...state.offers,
        [frame.contact_id]: {
          contactId: frame.contact_id,
          deadline: frame.deadline == null ? null : frame.deadline * 1000,
          pop: frame.pop,
          popError: frame.pop_error,
          trace: frame.trace,
          shownAt: now,
        },
      };
      break;
    case 'offer_withdrawn': {
      const { [frame.contact_id]: gone, ...rest } = state.offers;
      state.offers = rest;
      if (gone && !state.contacts[frame.contact_id]) {
        notice(state, t('offerGone', { reason: frame.reason }));
      }
      break;
    }
    case 'assigned': {
      const offer = state.offers[frame.contact_id];
      const { [frame.contact_id]: _taken, ...rest } = state.offers;
      state.offers = rest;
      const channel = offer?.pop?.channel ?? 'chat';
      const contact = ensureContact(state, frame.contact_id, channel, offer?.pop, offer?.trace);
      contact.needsTranscript = true;
      state.active = frame.contact_id;
      break;
    }
    case 'state':
      Object.assign(state.agent, { state: frame.state, reason: frame.reason, since: now });
      if (frame.state === 'wrap_up') {
        for (const contact of Object.values(state.contacts)) {
          if (contact.channel === 'voice') startWrapUp(state, contact.contactId, now);
        }
      }
      break;
    case 'chat_message': {
      const contact = state.contacts[frame.contact_id];
      if (!contact) break;
      if (frame.channel === 'email') {
        contact.needsTranscript = true;
        if (frame.reopened) removeContact(state, frame.contact_id);
      } else {
        addMessage(contact, {
          seq: frame.message_seq, author: 'customer', text: frame.text, attachment: frame.attachment,
        });
        contact.typingUntil = 0;
      }
      break;
    }
    case 'chat_ended': {
      const contact = state.contacts[frame.contact_id];
      if (contact) {
        contact.ended = frame.by;
        contact.phase = 'wrap_up';
        contact.wrapSince = contact.wrapSince ?? now;
      }
      break;
    }
    case 'typing': {
      const contact = state.contacts[frame.contact_id];
      if (contact) contact.typingUntil = frame.is_typing ? now + 6000 : 0;
      break;
    }
    case 'consult_answer':
      notice(state, t('consultAnswer', { name: frame.supervisor_name, text: frame.text }));
      break;
    case 'result':
      applyResult(state, frame, t);
      break;
    case 'error':
      applyError(state, frame, t);
      break;
    default:
      break;
  }
  return state;
}

/** The agent ended a contact: it stays on the desktop in wrap-up until finished. */
export function startWrapUp(state, contactId, now = Date.now()) {
  const contact = state.contacts[contactId];
  if (contact && contact.phase !== 'wrap_up') {
    contact.phase = 'wrap_up';
    contact.wrapSince = now;
  }
}
