// The languages of the web apps (zh-CN and en) and the one way their words are looked up.
// The user picks the language; the choice is kept in localStorage (it is not a secret).

export const LANGUAGES = [
  { code: 'zh-CN', name: '中文' },
  { code: 'en', name: 'English' },
];

/** The sign-in form's and the top bar's words, shared by every app's table. */
export const SIGN_IN_WORDS = {
  en: {
    signIn: 'Sign in',
    signingIn: 'Signing in…',
    username: 'Username',
    password: 'Password',
    language: 'Language',
    signOut: 'Sign out',
    badLogin: 'Wrong username or password.',
    locked: 'Too many failed sign-ins: try again later.',
  },
  'zh-CN': {
    signIn: '登录',
    signingIn: '正在登录…',
    username: '用户名',
    password: '密码',
    language: '语言',
    signOut: '退出',
    badLogin: '用户名或密码错误。',
    locked: '登录失败次数过多，请稍后再试。',
  },
};

export function initialLanguage() {
  const saved = localStorage.getItem('contactd.lang');
  if (saved && LANGUAGES.some((l) => l.code === saved)) return saved;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function saveLanguage(lang) {
  localStorage.setItem('contactd.lang', lang);
}

/** A function translating a key of `strings[lang]` (with {placeholders}); an unknown key
 *  falls back to English, then to the key's last part (a code the server sent that has no
 *  words yet). */
export function translatorFor(strings, lang) {
  const table = strings[lang] || strings.en;
  return (key, vars = {}) => {
    let text = table[key] ?? strings.en[key];
    if (text === undefined) text = key.split('.').pop().replaceAll('_', ' ');
    return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
  };
}
