// One /ws/supervisor connection that keeps itself up: the `auth` frame first (the token
// never goes in the URL), then the snapshot and deltas (docs/supervisor.md). When the
// socket drops it reconnects with backoff (0.5 s doubling to 5 s); the fresh snapshot
// replaces the whole live view, so nothing of it is missed. Frames go to `onFrame` in
// order; the status ('connecting', 'online', 'reconnecting', 'stopped') to `onStatus`.

import { afterClose } from '../common/reconnect.js';

export class SupervisorSocket {
  constructor({ token, onFrame, onStatus, onUnauthorized }) {
    this.token = token;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onUnauthorized = onUnauthorized;
    this.ws = null;
    this.stopped = false;
    this.attempt = 0;
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/ws/supervisor`;
  }

  start() {
    this.onStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token: this.token }));
    });
    ws.addEventListener('message', (event) => this.received(ws, event.data));
    ws.addEventListener('close', (event) => this.closed(ws, event.code));
  }

  received(ws, data) {
    if (ws !== this.ws) return;
    const frame = JSON.parse(data);
    if (frame.type === 'snapshot') {
      this.attempt = 0;
      this.onStatus('online');
    }
    this.onFrame(frame);
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    afterClose(this, code, this.onUnauthorized);
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
  }
}
