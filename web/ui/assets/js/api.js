// The server's HTTP API as used by the UI: JSON calls and NDJSON streams, with the API key
// (kept in localStorage) sent as a Bearer token. Errors become ApiError with the server's
// message; a 401 opens the settings dialog so the user can enter the key.

const KEY_STORAGE = 'sov.apiKey';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || '';
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
}

function headers(json) {
  const h = {Accept: 'application/json'};
  if (json) h['Content-Type'] = 'application/json';
  const key = apiKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function errorFrom(res) {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (typeof body.error === 'string') message = body.error;
    else if (body.error && typeof body.error.message === 'string') message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 401) window.dispatchEvent(new CustomEvent('sov:unauthorized'));
  return new ApiError(res.status, message);
}

// fetch() that reports whether the server answered (for the "offline" badge).
async function send(path, init) {
  try {
    const res = await fetch(path, init);
    window.dispatchEvent(new CustomEvent('sov:reachable', {detail: true}));
    return res;
  } catch (err) {
    if (err.name !== 'AbortError') window.dispatchEvent(new CustomEvent('sov:reachable', {detail: false}));
    throw err;
  }
}

// JSON request; returns the parsed body ({} for an empty one).
export async function api(path, {method = 'GET', body, signal} = {}) {
  const res = await send(path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!res.ok) throw await errorFrom(res);
  const text = await res.text();
  return text ? JSON.parse(text) : {};
}

// Streams an NDJSON response: calls onChunk(object) per line. A line with "error" throws.
// Returns when the stream ends; an abort through `signal` rejects with an AbortError.
export async function stream(path, body, onChunk, {signal, method = 'POST'} = {}) {
  const res = await send(path, {method, headers: headers(true), body: JSON.stringify(body), signal});
  if (!res.ok) throw await errorFrom(res);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const handle = (line) => {
    if (!line.trim()) return;
    const obj = JSON.parse(line);
    if (obj.error) throw new ApiError(200, typeof obj.error === 'string' ? obj.error : JSON.stringify(obj.error));
    onChunk(obj);
  };
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      handle(line);
    }
  }
  buffer += decoder.decode();
  handle(buffer);
}

// True when the endpoint exists on this server (not 404/405); used to show views whose
// backend may not be there (knowledge bases, routing).
export async function endpointExists(path) {
  try {
    const res = await fetch(path, {headers: headers(false)});
    return res.status !== 404 && res.status !== 405;
  } catch {
    return false;
  }
}
