// One /ws/chat connection for the visitor that keeps itself up (docs/chat.md): `hello`
// with the session's token and the highest `seq` seen, so a reconnect (a network drop, a
// page reload, a restarted server) resumes with every message exactly once. Messages
// typed while the socket is down wait in an outbox and are sent again, with the same
// `client_id`, until acked: the server stores each once.

import { afterClose } from '../common/reconnect.js';

const PING_MS = 20000;

export class ChatSocket {
  constructor({ session, lastSeq, onFrame, onStatus, onGone }) {
    this.session = session;
    this.lastSeq = lastSeq;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onGone = onGone;
    this.outbox = new Map(); // client_id -> text, until acked
    this.ws = null;
    this.stopped = false;
    this.attempt = 0;
    this.pinger = null;
  }

  start() {
    this.onStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/ws/chat`);
    this.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({
        type: 'hello', session_id: this.session.session_id, token: this.session.token,
        last_seq: this.lastSeq,
      }));
      this.attempt = 0;
      this.onStatus('online');
      for (const [clientId, text] of this.outbox) this.transmit(clientId, text);
      this.pinger = setInterval(() => this.send({ type: 'ping' }), PING_MS);
    });
    ws.addEventListener('message', (event) => {
      if (ws !== this.ws) return;
      const frame = JSON.parse(event.data);
      if (frame.type === 'message' && frame.seq > this.lastSeq) this.lastSeq = frame.seq;
      if (frame.type === 'ack') this.outbox.delete(frame.client_id);
      this.onFrame(frame);
    });
    ws.addEventListener('close', (event) => this.closed(ws, event.code));
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    clearInterval(this.pinger);
    afterClose(this, code, this.onGone);
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  transmit(clientId, text) {
    this.send({ type: 'message', client_id: clientId, text });
  }

  /** Queue `text` until acked; returns its client_id. */
  say(text) {
    const clientId = `w-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    this.outbox.set(clientId, text);
    this.transmit(clientId, text);
    return clientId;
  }

  typing(isTyping) {
    this.send({ type: 'typing', is_typing: isTyping });
  }

  end() {
    this.send({ type: 'end' });
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000);
  }
}
