// The wallboard's state, changed in one place: `apply(state, frame, nowMs)` for every
// /ws/supervisor frame. Pure: the time is passed in.

const NOTICES_KEPT = 50;

export function emptyState() {
  return {
    conn: 'connecting',
    queues: {}, // name -> queue view
    agents: {}, // id (string) -> agent view
    alarms: [], // the live view's alarms (replaced by every snapshot and alarm delta)
    notices: [], // case SLA alarms, consult requests, low ratings: newest first, kept across reconnects
    skewSeconds: 0, // local clock minus the server's, so times in state tick right
    dayStart: null,
  };
}

/** Seconds on the server's clock now (the views' `*_since` fields are server times). */
export function serverNow(state, nowMs) {
  return nowMs / 1000 - state.skewSeconds;
}

function keep(state, notice) {
  if (state.notices.some((n) => n.key === notice.key)) return;
  state.notices = [notice, ...state.notices].slice(0, NOTICES_KEPT);
}

export function apply(state, frame, nowMs) {
  switch (frame.type) {
    case 'snapshot':
      state.queues = { ...frame.queues };
      state.agents = { ...frame.agents };
      state.alarms = frame.alarms || [];
      state.dayStart = frame.day_start;
      state.skewSeconds = nowMs / 1000 - frame.at;
      break;
    case 'delta':
      Object.assign(state.queues, frame.queues || {});
      Object.assign(state.agents, frame.agents || {});
      if (frame.alarms) state.alarms = frame.alarms;
      state.skewSeconds = nowMs / 1000 - frame.at;
      break;
    case 'case_sla':
      keep(state, { key: `case_sla:${frame.event_id}`, kind: 'case_sla', at: nowMs, ...frame });
      break;
    case 'consult':
      keep(state, { key: `consult:${frame.consult_id}`, kind: 'consult', at: nowMs, ...frame });
      break;
    case 'csat_low':
      keep(state, { key: `csat_low:${frame.contact_id}`, kind: 'csat_low', at: nowMs, ...frame });
      break;
    case 'consult_answered':
      state.notices = state.notices.map((n) =>
        n.key === `consult:${frame.consult_id}` ? { ...n, answeredBy: frame.supervisor_name } : n);
      break;
    default:
      break;
  }
  return state;
}

/** 'good' at or above the target, 'near' within 10 points under it, 'bad' below, 'none'
 *  when nothing was answered or abandoned yet. */
export function serviceLevelClass(level, targetPercent) {
  if (level === null || level === undefined) return 'none';
  if (level >= targetPercent) return 'good';
  return level >= targetPercent - 10 ? 'near' : 'bad';
}

/** 'short' when fewer agents are logged in than Erlang C needs now, else 'ok'. */
export function staffingClass(staffing) {
  return staffing.agents_staffed < staffing.agents_needed ? 'short' : 'ok';
}

/** The interval report's rows summed over the queues shown: one point per interval. */
export function intervalSeries(rows, queues) {
  const byStart = new Map();
  for (const row of rows) {
    if (queues && !queues.includes(row.queue)) continue;
    const point = byStart.get(row.interval_start) || {
      start: row.interval_start, offered: 0, handled: 0, inTarget: 0, counted: 0,
    };
    point.offered += row.offered;
    point.handled += row.handled;
    point.inTarget += row.answered_in_target;
    point.counted += row.answered + row.abandoned - row.short_abandoned;
    byStart.set(row.interval_start, point);
  }
  return [...byStart.values()]
    .sort((a, b) => (a.start < b.start ? -1 : 1))
    .map((p) => ({ ...p, serviceLevel: p.counted ? (100 * p.inTarget) / p.counted : null }));
}
