// What every web app keeps about its user: the token in sessionStorage (this tab only,
// never in a URL) and the language in localStorage.

import { useEffect, useMemo, useState } from '../vendor/hooks.module.js';
import { initialLanguage, saveLanguage } from './lang.js';

function saved(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key));
  } catch {
    return null;
  }
}

/** [session, signedIn(tokenAnswer), signOut] with the session under `key`. */
export function useSession(key) {
  const [session, setSession] = useState(() => saved(key));
  const signedIn = (answer) => {
    const value = { token: answer.access_token, userId: answer.user_id, role: answer.role };
    sessionStorage.setItem(key, JSON.stringify(value));
    setSession(value);
  };
  const signOut = () => {
    sessionStorage.removeItem(key);
    setSession(null);
  };
  return [session, signedIn, signOut];
}

/** [lang, t, chooseLanguage]; the page's lang attribute and title follow the choice. */
export function useLanguage(translator) {
  const [lang, setLang] = useState(initialLanguage);
  const t = useMemo(() => translator(lang), [lang]);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `contactd · ${t('title')}`;
  }, [lang]);
  const chooseLanguage = (code) => {
    saveLanguage(code);
    setLang(code);
  };
  return [lang, t, chooseLanguage];
}
