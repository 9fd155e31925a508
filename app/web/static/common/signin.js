// The sign-in form and the language picker every web app shares. `roles` are the roles
// the app is for; another role's sign-in shows `refusedKey`. `onSubmit` runs first, within
// the click (the desktop unlocks its audio there).

import { useState } from '../vendor/hooks.module.js';
import { ApiError, signIn } from './api.js';
import { html } from './html.js';
import { LANGUAGES } from './lang.js';

export function LanguagePicker({ t, lang, onLanguage, id }) {
  return html`<span class="field inline">
    <label for=${id}>${t('language')}</label>
    <select id=${id} value=${lang} onChange=${(e) => onLanguage(e.target.value)}>
      ${LANGUAGES.map((l) => html`<option value=${l.code} key=${l.code}>${l.name}</option>`)}
    </select>
  </span>`;
}

export function SignIn({ t, lang, onLanguage, onSignedIn, roles, refusedKey, onSubmit }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    if (onSubmit) onSubmit();
    const form = new FormData(event.target);
    setBusy(true);
    setProblem(null);
    try {
      const answer = await signIn(form.get('username'), form.get('password'));
      if (!roles.includes(answer.role)) {
        setProblem(t(refusedKey));
      } else {
        onSignedIn(answer);
      }
    } catch (error) {
      setProblem(error instanceof ApiError && error.status === 429 ? t('locked') : t('badLogin'));
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="sign-in">
    <form onSubmit=${submit} aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">contactd · ${t('title')}</h1>
      <div class="field">
        <label for="username">${t('username')}</label>
        <input id="username" name="username" autocomplete="username" required autofocus />
      </div>
      <div class="field">
        <label for="password">${t('password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
      </div>
      <${LanguagePicker} t=${t} lang=${lang} onLanguage=${onLanguage} id="sign-in-language" />
      ${problem && html`<p class="problem" role="alert">${problem}</p>`}
      <button type="submit" disabled=${busy}>${busy ? t('signingIn') : t('signIn')}</button>
    </form>
  </main>`;
}
