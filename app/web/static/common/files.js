// Files in a chat (docs/chat.md, "Files in the chat"), for the widget and the desktop:
// uploads as multipart, and downloads with the bearer token in a header (never in the
// URL), kept as blob URLs so an image shows as a thumbnail and a click saves the file.

import { useEffect, useState } from '../vendor/hooks.module.js';
import { ApiError } from './api.js';
import { html } from './html.js';

/** POST one file as the multipart part `file`; the stored message, or an ApiError. */
export async function uploadFile(path, token, file) {
  const form = new FormData();
  form.append('file', file, file.name);
  const response = await fetch(path, {
    method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

async function blobUrl(path, token) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError(response.status, null);
  return URL.createObjectURL(await response.blob());
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The words an upload's refusal is shown with: its error code's key in the caller's
 *  translations, else null (show the server's message). */
export function refusalKey(error) {
  const keys = {
    attachment_too_large: 'fileTooLarge',
    payload_too_large: 'fileTooLarge',
    attachment_type_refused: 'fileType',
  };
  return error instanceof ApiError ? keys[error.code] ?? null : null;
}

/** A file of the transcript: a thumbnail for an image, its name and size; a click saves it.
 *  `path` is where this side downloads it, `label` the accessible name of the link. */
export function FileLink({ file, path, token, label }) {
  const [url, setUrl] = useState(null);
  const isImage = file.content_type.startsWith('image/');
  useEffect(() => {
    let shown = null;
    if (isImage) blobUrl(path, token).then((made) => { shown = made; setUrl(made); }, () => {});
    return () => { if (shown) URL.revokeObjectURL(shown); };
  }, [path]);
  const save = async (event) => {
    event.preventDefault();
    const href = url ?? await blobUrl(path, token);
    const link = document.createElement('a');
    link.href = href;
    link.download = file.filename;
    document.body.append(link);
    link.click();
    link.remove();
  };
  return html`<a class="file" href=${url ?? '#'} download=${file.filename} onClick=${save}
      aria-label=${label} data-attachment=${file.id}>
    ${url && html`<img class="thumb" src=${url} alt="" />`}
    <span class="file-name">📎 ${file.filename}</span>
    <span class="file-size">${size(file.size_bytes)}</span>
  </a>`;
}
