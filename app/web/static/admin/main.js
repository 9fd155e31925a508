import { render } from '../vendor/preact.module.js';
import { html } from '../common/html.js';
import { App } from './app.js';

const root = document.getElementById('app');
root.replaceChildren(); // the loading text
render(html`<${App} />`, root);
