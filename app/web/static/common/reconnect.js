// What a self-reconnecting socket does when it closes: a refused sign-in (4401) stops it
// for good, a stop asked for is final, anything else reconnects with backoff (0.5 s
// doubling to 5 s). `socket` has `stopped`, `attempt`, `onStatus(status)` and `start()`.

export const UNAUTHORIZED = 4401;

export function afterClose(socket, code, onUnauthorized) {
  if (code === UNAUTHORIZED) {
    socket.stopped = true;
    onUnauthorized();
    return;
  }
  if (socket.stopped) {
    socket.onStatus('stopped');
    return;
  }
  socket.onStatus('reconnecting');
  socket.attempt += 1;
  setTimeout(() => socket.start(), Math.min(5000, 250 * 2 ** Math.min(socket.attempt, 5)));
}
