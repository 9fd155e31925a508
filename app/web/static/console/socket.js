// One /ws/agent connection that keeps itself up: hello with the token and the last event
// number seen, heartbeats, and reconnecting with backoff. Frames go to `onFrame` in order;
// the connection's status ('connecting', 'online', 'reconnecting', 'elsewhere') goes to
// `onStatus`. The token stays in memory (the caller keeps it in sessionStorage), never in
// the URL: it travels in the first frame (docs/agent-console.md).

const CONTROL = new Set(['welcome', 'ping', 'pong', 'taken_over', 'typing']);
const TAKEN_OVER = 4409;
const UNAUTHORIZED = 4401;

export class ConsoleSocket {
  constructor({ token, lastSeq, onFrame, onStatus, onUnauthorized }) {
    this.token = token;
    this.lastSeq = lastSeq ?? null;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onUnauthorized = onUnauthorized;
    this.ws = null;
    this.ready = false; // hello answered
    this.stopped = false;
    this.attempt = 0;
    this.heartbeatMs = 20000;
    this.lastHeard = 0;
    this.timer = null;
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws/agent`;
  }

  start() {
    this.onStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'hello', token: this.token, last_seq: this.lastSeq }));
    });
    ws.addEventListener('message', (event) => this.received(ws, event.data));
    ws.addEventListener('close', (event) => this.closed(ws, event.code));
  }

  received(ws, data) {
    if (ws !== this.ws) return;
    this.lastHeard = Date.now();
    const frame = JSON.parse(data);
    if (!CONTROL.has(frame.type)) {
      if (this.lastSeq !== null && frame.seq <= this.lastSeq && frame.type !== 'snapshot') {
        return; // already seen (a resume never repeats one, but be safe)
      }
      this.lastSeq = frame.seq;
    }
    if (frame.type === 'welcome') {
      this.ready = true;
      this.attempt = 0;
      this.heartbeatMs = frame.heartbeat_seconds * 1000;
      this.keepAlive();
      this.onStatus('online');
    } else if (frame.type === 'ping') {
      this.send({ type: 'pong' });
      return;
    } else if (frame.type === 'pong') {
      return;
    } else if (frame.type === 'taken_over') {
      this.stopped = true;
      this.onStatus('elsewhere');
    }
    this.onFrame(frame);
  }

  keepAlive() {
    clearInterval(this.timer);
    // Well inside the server's heartbeat: one quiet period, then a ping.
    this.timer = setInterval(() => {
      if (this.ready && Date.now() - this.lastHeard > this.heartbeatMs / 2) {
        this.send({ type: 'ping' });
      }
    }, this.heartbeatMs / 2);
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ready = false;
    clearInterval(this.timer);
    if (code === UNAUTHORIZED) {
      this.stopped = true;
      this.onUnauthorized();
      return;
    }
    if (this.stopped || code === TAKEN_OVER) {
      this.onStatus(code === TAKEN_OVER ? 'elsewhere' : 'stopped');
      return;
    }
    this.onStatus('reconnecting');
    this.attempt += 1;
    const delay = Math.min(5000, 250 * 2 ** Math.min(this.attempt, 5));
    setTimeout(() => this.start(), delay);
  }

  /** Send a frame; false when the socket is not up (the caller decides what to keep). */
  send(frame) {
    if (!this.ready || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.ws) this.ws.close(1000);
  }
}
