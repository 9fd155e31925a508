// htm bound to Preact: tagged templates instead of JSX, so there is no build step.
import { h } from '../vendor/preact.module.js';
import htm from '../vendor/htm.module.js';

export const html = htm.bind(h);
