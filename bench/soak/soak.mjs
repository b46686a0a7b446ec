#!/usr/bin/env node
// Soak test (issue 13): `sov serve` on loopback under 32 concurrent clients for N seconds,
// mixing /api/chat, /v1/completions, /api/embed and knowledge-base queries, streaming and
// not, with random disconnects mid-stream, slow readers and invalid requests.
//
// Every valid request must succeed or get a 503; invalid ones must get a 4xx; the server
// must stay up. The server's RSS (VmRSS) is sampled every few seconds; the run fails when
// it grows by more than --rss-growth-mb after the warm-up (the first quarter of the run).
// Afterwards the server is stopped with SIGTERM and must exit cleanly with status 0; built
// with sanitizers, that exit runs LeakSanitizer, whose report fails the run.
//
// Usage: node bench/soak/soak.mjs --sov build/src/cli/sov [--seconds 180] [--clients 32]
//          [--rss-growth-mb 64] [--testdata /work/shared/testdata]
// Only Node's built-in fetch and child_process; nothing leaves 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const sov = path.resolve(args.sov ?? 'build/src/cli/sov');
const seconds = Number(args.seconds ?? 180);
const clients = Number(args.clients ?? 32);
const rssGrowthMb = Number(args['rss-growth-mb'] ?? 64);
const testdata = args.testdata ?? process.env.SOV_TESTDATA ?? '/work/shared/testdata';
const sampleMs = Number(args['sample-ms'] ?? (seconds > 60 ? 10000 : 2000));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function rssKb(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sov-soak-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
// The embedding model goes into a fresh store (knowledge bases name store models).
const storeEnv = { ...process.env, HOME: home, SOV_MODELS: path.join(home, 'models'), SOV_OLLAMA_MODELS: '' };
fs.writeFileSync(path.join(home, 'Modelfile'), `FROM ${path.join(testdata, 'models/synth-bert-F32.gguf')}\n`);
const created = spawnSync(sov, ['create', 'synth-bert-F32', '-f', path.join(home, 'Modelfile')], { env: storeEnv, encoding: 'utf8' });
if (created.status !== 0) { console.error(`soak: FAIL: sov create: ${created.stderr}`); process.exit(1); }
const server = spawn(
  sov,
  ['serve', '--host', `127.0.0.1:${port}`, '--models', path.join(home, 'models'), '--max-queue', '64',
   '-m', path.join(testdata, 'models/stories260K.gguf'), '-m', path.join(testdata, 'models/synth-bert-F32.gguf')],
  { env: { ...storeEnv, SOV_HOME: path.join(home, '.sovereign'), SOV_API_KEY: '' },
    stdio: ['ignore', 'ignore', 'pipe'] });
let serverLog = '';
server.stderr.on('data', (d) => { serverLog = (serverLog + d).slice(-16000); });
let serverExited = null;
server.on('exit', (code, sig) => { serverExited = { code, sig }; });

function cleanup() {
  if (serverExited === null) server.kill('SIGTERM');
  fs.rmSync(home, { recursive: true, force: true });
}

function die(msg) {
  console.error(`soak: FAIL: ${msg}`);
  if (serverLog) console.error(serverLog);
  cleanup();
  process.exit(1);
}

for (let i = 0; ; ++i) {
  if (serverExited) die(`server exited at start ${JSON.stringify(serverExited)}`);
  try {
    if ((await fetch(`${base}/health`)).ok) break;
  } catch {}
  if (i > 300) die('server did not start');
  await sleep(100);
}

const chatModel = 'stories260K';
const embedModel = 'synth-bert-F32';
async function post(p, body) {
  return fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

// A small knowledge base to query.
{
  let r = await post('/api/kb', { name: 'soak', embed_model: embedModel });
  if (!r.ok) die(`create kb: ${r.status} ${await r.text()}`);
  const documents = [];
  for (let i = 0; i < 8; ++i) {
    documents.push({ name: `doc${i}.md`, text: `# Topic ${i}\n\n` + `Paragraph about item ${i} and the soak test. `.repeat(30) });
  }
  r = await post('/api/kb/soak/documents', { documents });
  if (!r.ok) die(`add documents: ${r.status} ${await r.text()}`);
}

const stats = { ok: 0, busy503: 0, invalidRefused: 0, disconnects: 0, slowReads: 0, errors: {} };
const byKind = {};
function count(kind) { byKind[kind] = (byKind[kind] ?? 0) + 1; }
function error(kind, detail) {
  stats.errors[kind] = (stats.errors[kind] ?? 0) + 1;
  if (stats.errors[kind] <= 3) console.error(`soak: error ${kind}: ${detail}`);
}

const prompts = ['Once upon a time', 'The little dog', 'Lily wanted to', 'One day, a boy'];
const genOpts = () => ({ num_predict: 4 + Math.floor(Math.random() * 24), temperature: 0.8 });

// Reads a streamed body; `slow` pauses between chunks, `abortAfter` disconnects early.
async function readStream(res, ctl, { slow = false, abortAfter = 0 } = {}) {
  const reader = res.body.getReader();
  let chunks = 0;
  for (;;) {
    const { done } = await reader.read();
    if (done) return true;
    ++chunks;
    if (abortAfter && chunks >= abortAfter) {
      ctl.abort();
      return false;
    }
    if (slow) await sleep(100 + Math.random() * 200);
  }
}

const ops = {
  async chat() {
    return post('/api/chat', { model: chatModel, stream: false, messages: [{ role: 'user', content: pick(prompts) }], options: genOpts() });
  },
  async chatStream(mode) {
    const ctl = new AbortController();
    const res = await fetch(`${base}/api/chat`, {
      method: 'POST', signal: ctl.signal, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: chatModel, stream: true, messages: [{ role: 'user', content: pick(prompts) }], options: genOpts() }) });
    if (res.status !== 200) return res;
    const complete = await readStream(res, ctl, mode);
    return { status: complete ? 200 : 'aborted' };
  },
  async completions() {
    return post('/v1/completions', { model: chatModel, prompt: pick(prompts), max_tokens: 4 + Math.floor(Math.random() * 24) });
  },
  async completionsStream(mode) {
    const ctl = new AbortController();
    const res = await fetch(`${base}/v1/completions`, {
      method: 'POST', signal: ctl.signal, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: chatModel, prompt: pick(prompts), stream: true, max_tokens: 24 }) });
    if (res.status !== 200) return res;
    const complete = await readStream(res, ctl, mode);
    return { status: complete ? 200 : 'aborted' };
  },
  async embed() {
    return post('/api/embed', { model: embedModel, input: [pick(prompts), `text ${Math.random()}`] });
  },
  async kbQuery() {
    return post('/api/kb/soak/query', { query: `item ${Math.floor(Math.random() * 8)} soak`, k: 3 });
  },
};

const invalid = [
  () => fetch(`${base}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "stories260K", "messages": [' }),
  () => post('/api/chat', { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
  () => post('/v1/completions', { model: chatModel, prompt: 'x', max_tokens: 'many' }),
  () => fetch(`${base}/api/embed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '['.repeat(100000) }),
  () => post('/api/kb/soak/query', { k: 3 }),
  () => fetch(`${base}/api/tags`, { headers: { Origin: 'https://evil.example' } }),
];

async function oneRequest() {
  const r = Math.random();
  if (r < 0.08) {
    count('invalid');
    const res = await pick(invalid)();
    await res.text();
    if (res.status >= 400 && res.status < 500) stats.invalidRefused++;
    else error(`invalid-got-${res.status}`, '');
    return;
  }
  let kind, res;
  if (r < 0.2) [kind, res] = ['chat', await ops.chat()];
  else if (r < 0.3) [kind, res] = ['chatStream', await ops.chatStream({})];
  else if (r < 0.36) [kind, res] = ['chatStreamDisconnect', await ops.chatStream({ abortAfter: 1 + Math.floor(Math.random() * 3) })];
  else if (r < 0.42) [kind, res] = ['chatStreamSlowReader', await ops.chatStream({ slow: true })];
  else if (r < 0.55) [kind, res] = ['completions', await ops.completions()];
  else if (r < 0.62) [kind, res] = ['completionsStream', await ops.completionsStream({})];
  else if (r < 0.66) [kind, res] = ['completionsStreamDisconnect', await ops.completionsStream({ abortAfter: 1 })];
  else if (r < 0.83) [kind, res] = ['embed', await ops.embed()];
  else [kind, res] = ['kbQuery', await ops.kbQuery()];
  count(kind);
  if (res.status === 'aborted') { stats.disconnects++; return; }
  if (typeof res.text === 'function') await res.text();
  if (res.status === 200) {
    stats.ok++;
    if (kind.endsWith('SlowReader')) stats.slowReads++;
  } else if (res.status === 503) {
    stats.busy503++;
  } else {
    error(`${kind}-${res.status}`, typeof res.text === 'function' ? '' : '');
  }
}

const start = Date.now();
const deadline = start + seconds * 1000;
const samples = [];
const sampler = setInterval(() => {
  samples.push({ t: Math.round((Date.now() - start) / 1000), rss_mb: +(rssKb(server.pid) / 1024).toFixed(1) });
  const s = samples[samples.length - 1];
  console.log(`t=${s.t}s rss=${s.rss_mb} MB ok=${stats.ok} 503=${stats.busy503} errors=${Object.values(stats.errors).reduce((a, b) => a + b, 0)}`);
}, sampleMs);
samples.push({ t: 0, rss_mb: +(rssKb(server.pid) / 1024).toFixed(1) });

async function client() {
  while (Date.now() < deadline && !serverExited) {
    try {
      await oneRequest();
    } catch (e) {
      if (e.name === 'AbortError') stats.disconnects++;
      else error('network', e.cause?.code ?? e.message);
    }
  }
}
await Promise.all(Array.from({ length: clients }, client));
clearInterval(sampler);
samples.push({ t: Math.round((Date.now() - start) / 1000), rss_mb: +(rssKb(server.pid) / 1024).toFixed(1) });

// After the load: the server still answers.
let healthy = false;
try { healthy = (await fetch(`${base}/health`)).ok; } catch {}

const warm = samples.filter((s) => s.t >= seconds / 4);
const warmBase = warm.length ? warm[0].rss_mb : samples[0].rss_mb;
const peak = Math.max(...warm.map((s) => s.rss_mb));
const total = Object.values(byKind).reduce((a, b) => a + b, 0);
const nErrors = Object.values(stats.errors).reduce((a, b) => a + b, 0);
const report = { seconds, clients, requests: total, by_kind: byKind, ...stats, rss_mb: samples,
                 rss_after_warmup_mb: warmBase, rss_peak_after_warmup_mb: peak, healthy };
console.log(JSON.stringify(report, null, 1));
if (serverExited) die(`server exited during the run ${JSON.stringify(serverExited)}`);
if (!healthy) die('server unhealthy after the run');
if (nErrors) die(`${nErrors} unexpected results: ${JSON.stringify(stats.errors)}`);
if (stats.ok === 0) die('no request succeeded');
if (peak - warmBase > rssGrowthMb) die(`RSS grew ${(peak - warmBase).toFixed(1)} MB after warm-up (bound ${rssGrowthMb} MB)`);
// A clean shutdown: exit status 0 (LeakSanitizer, in a sanitizer build, exits non-zero on a leak).
server.kill('SIGTERM');
for (let i = 0; serverExited === null && i < 600; ++i) await sleep(100);
if (serverExited === null) die('the server did not exit within 60 s of SIGTERM');
await sleep(200);  // the rest of its stderr
if (serverExited.code !== 0) die(`the server exited with ${JSON.stringify(serverExited)} after SIGTERM`);
console.log(`soak: ok: ${total} requests in ${seconds} s, ${stats.ok} ok, ${stats.busy503} 503, ` +
            `${stats.disconnects} disconnects, ${stats.invalidRefused} invalid refused; RSS ${warmBase} -> ${peak} MB`);
cleanup();
