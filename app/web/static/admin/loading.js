// A section's first fetch: "Loading…" while it runs; if it fails, the reason and a retry
// button instead of a "Loading…" that never ends. A 401 signs the user out.

import { useEffect, useState } from '../vendor/hooks.module.js';
import { ApiError } from '../common/api.js';
import { html } from '../common/html.js';

/**
 * Runs `load` when the section opens (and again when `deps` change).
 * Returns [value, error, reload]: value is null until the first load succeeds; reload
 * runs it again, resolves to the new value and rejects (keeping the last value) on failure.
 */
export function useLoaded(load, deps, onUnauthorized) {
  const [state, setState] = useState({ value: null, error: null });
  const reload = async () => {
    try {
      const value = await load();
      setState({ value, error: null });
      return value;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401 && onUnauthorized) onUnauthorized();
      setState((previous) => ({ value: previous.value, error }));
      throw error;
    }
  };
  useEffect(() => {
    setState({ value: null, error: null });
    reload().catch(() => {}); // shown by <Loading>
  }, deps);
  return [state.value, state.error, reload];
}

/** What a section shows before its first load has succeeded. */
export function Loading({ t, error, retry }) {
  if (error === null) return html`<p class="loading">${t('loading')}</p>`;
  return html`<div class="message bad" role="alert">
    <p>${t('loading.failed', { reason: error.message })}</p>
    <button type="button" onClick=${() => retry().catch(() => {})}>${t('loading.retry')}</button>
  </div>`;
}
