// The languages of the web apps (zh-CN and en) and the one way their words are looked up.
// The user picks the language; the choice is kept in localStorage (it is not a secret).

export const LANGUAGES = [
  { code: 'zh-CN', name: '中文' },
  { code: 'en', name: 'English' },
];

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
