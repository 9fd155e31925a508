// The public HTTP API, with the signed-in user's token in the Authorization header.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
    this.details = body?.error?.details;
  }
}

async function answer(response) {
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function signIn(username, password) {
  const form = new URLSearchParams({ username, password });
  const response = await fetch('/api/v1/auth/token', { method: 'POST', body: form });
  return answer(response);
}

export async function get(token, path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  return answer(response);
}

/** A JSON request with a body (PUT, POST, PATCH); the answer's JSON, or null for 204. */
export async function send(token, method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return answer(response);
}
