// The knowledge-base API (/api/kb, docs/api.md) as the chat and knowledge views use it.
// Every endpoint path and field name the UI depends on is in this file.
import {api, ApiError, stream} from './api.js';

const enc = encodeURIComponent;

function notThere(err) {
  return err instanceof ApiError && (err.status === 404 || err.status === 405) && !/knowledge base/i.test(err.message);
}

// The knowledge bases ({name, ...}), or null when this server has no knowledge-base API.
export async function kbBases() {
  try {
    const body = await api('/api/kb');
    const list = body.knowledge_bases || body.bases || body.kbs || body.models || [];
    return list.map((b) => (typeof b === 'string' ? {name: b} : b)).filter((b) => b && b.name);
  } catch (err) {
    if (notThere(err)) return null;
    throw err;
  }
}

// Names only; null without the API, [] on other errors.
export async function kbList() {
  try {
    const bases = await kbBases();
    return bases && bases.map((b) => b.name);
  } catch {
    return [];
  }
}

export function kbCreate(name, embedModel) {
  const body = {name};
  if (embedModel) body.embed_model = embedModel;
  return api('/api/kb', {method: 'POST', body});
}

export function kbDelete(name) {
  return api(`/api/kb/${enc(name)}`, {method: 'DELETE'});
}

// {name, documents, chunks, chunks_embedded, embed_model, progress: {phase, done, total, running}}
export async function kbStatus(name) {
  const s = await api(`/api/kb/${enc(name)}`);
  return {...s, ...(s.status && typeof s.status === 'object' ? s.status : {})};
}

// Indexes paths (files or folders on the server's machine) in the background and follows
// the job: onProgress gets {phase, done, total, path} while it runs; resolves with the
// summary ({added, updated, renamed, removed, unchanged, chunks, skipped: [...]}).
export async function kbAdd(name, paths, onProgress, signal) {
  await api(`/api/kb/${enc(name)}/documents`, {method: 'POST', body: {paths}, signal});
  for (;;) {
    const s = await api(`/api/kb/${enc(name)}`, {signal});
    const job = s.job || {};
    if (job.progress) onProgress(job.progress);
    if (job.state === 'failed') throw new Error(job.error || 'indexing failed');
    if (job.state === 'done') return job.summary || {};
    await new Promise((r) => setTimeout(r, 300));
  }
}

// [{path, lines: [first, last], score, text, heading}], best first.
export async function kbSearch(name, query, {k = 8, mode} = {}) {
  const body = {query, k};
  if (mode) body.mode = mode;
  const res = await api(`/api/kb/${enc(name)}/query`, {method: 'POST', body});
  return (res.results || []).map(normalizeSource);
}

// Grounds a chat in knowledge base `name`: retrieves the passages that best match the last
// user message and puts them, numbered, in a system message that asks for [n] citations.
// Returns {messages, sources}. (Done by the page until the server's /api/chat grounds
// requests itself.)
export async function kbGround(name, messages, {k = 4, maxChars = 1200} = {}) {
  const question = [...messages].reverse().find((m) => m.role === 'user')?.content || '';
  const hits = question ? await kbSearch(name, question, {k}) : [];
  if (!hits.length) return {messages, sources: []};
  const blocks = hits.map((s, i) => `[${i + 1}] ${sourceLabel(s)}\n${String(s.text || '').slice(0, maxChars)}`);
  const system = 'Answer using the numbered sources below. Cite the sources you use as [1], [2]. ' +
    'If they do not contain the answer, say so.\n\n' + blocks.join('\n\n');
  const rest = messages.filter((m) => m.role !== 'system');
  const own = messages.find((m) => m.role === 'system');
  return {messages: [{role: 'system', content: own ? `${own.content}\n\n${system}` : system}, ...rest], sources: hits};
}

function normalizeSource(s) {
  const lines = Array.isArray(s.lines) ? s.lines
    : s.line_first != null ? [s.line_first, s.line_last ?? s.line_first] : null;
  return {...s, lines};
}

// The sources carried by a streamed chat chunk, or null.
export function sourcesFromChunk(chunk) {
  const s = chunk.sources || chunk.knowledge?.sources || chunk.message?.sources;
  return Array.isArray(s) && s.length ? s.map(normalizeSource) : null;
}

// "notes/a.md:12-30" for a source.
export function sourceLabel(s) {
  const path = s.path || s.source || s.document || '?';
  const lines = s.lines || normalizeSource(s).lines;
  if (!lines) return path;
  return lines[0] === lines[1] ? `${path}:${lines[0]}` : `${path}:${lines[0]}-${lines[1]}`;
}
