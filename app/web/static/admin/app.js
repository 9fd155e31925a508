// The admin pages: sign-in for supervisors and admins, the sections' navigation (routing
// documents, queues, skills, agents' skills, users and roles, entry points, IVR flows,
// reason codes), and each section. They talk only to the public API (docs/web.md); what a supervisor may read but
// not change (publishing, rolling back) is shown and refused by the API, not hidden.

import { useState } from '../vendor/hooks.module.js';
import { html } from '../common/html.js';
import { useLanguage, useSession } from '../common/session.js';
import { LanguagePicker, SignIn } from '../common/signin.js';
import { translator } from './i18n.js';
import { IvrSection } from './ivr.js';
import { ReasonsSection } from './reasons.js';
import { ResourceSection } from './resources.js';
import { RoutingSection } from './routing.js';

const SESSION_KEY = 'contactd.admin.session';
const SIGN_IN_ROLES = ['supervisor', 'admin'];
const SECTIONS = [
  { id: 'routing', component: RoutingSection },
  { id: 'queues', component: ResourceSection },
  { id: 'skills', component: ResourceSection },
  { id: 'agents', component: ResourceSection },
  { id: 'users', component: ResourceSection },
  { id: 'entry_points', component: ResourceSection },
  { id: 'ivr', component: IvrSection },
  { id: 'reasons', component: ReasonsSection },
];

export function App() {
  const [lang, t, chooseLanguage] = useLanguage(translator);
  const [session, signedIn, signOut] = useSession(SESSION_KEY);
  if (!session) {
    return html`<${SignIn} t=${t} lang=${lang} onLanguage=${chooseLanguage} onSignedIn=${signedIn}
      roles=${SIGN_IN_ROLES} refusedKey="notManager" />`;
  }
  return html`<${Shell} t=${t} lang=${lang} session=${session}
    onLanguage=${chooseLanguage} onSignOut=${signOut} />`;
}

function Shell({ t, lang, session, onLanguage, onSignOut }) {
  const [current, setCurrent] = useState(SECTIONS[0].id);
  const section = SECTIONS.find((s) => s.id === current);
  const Section = section.component;
  return html`<div class="admin">
    <header class="top-bar">
      <h1>contactd · ${t('title')}</h1>
      <nav aria-label=${t('sections')}>
        ${SECTIONS.map((s) => html`<button type="button" key=${s.id} class="nav"
          aria-current=${s.id === current ? 'page' : undefined}
          onClick=${() => setCurrent(s.id)}>${t(`nav.${s.id}`)}</button>`)}
      </nav>
      <span class="spacer"></span>
      <${LanguagePicker} t=${t} lang=${lang} onLanguage=${onLanguage} id="admin-language" />
      <button type="button" class="secondary" onClick=${onSignOut}>${t('signOut')}</button>
    </header>
    <main class="sections">
      <${Section} key=${current} id=${current} t=${t} lang=${lang} session=${session}
        onUnauthorized=${onSignOut} />
    </main>
  </div>`;
}
