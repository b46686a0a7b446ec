// Test harness for the browser tests: temporary folders, a loopback test registry behind a
// throttling proxy (so a pull takes a few seconds and its progress can be seen), a real
// `sov serve` on a free port, and headless chromium through playwright-core.
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, existsSync} from 'node:fs';
import http from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {chromium} from 'playwright-core';

const data = process.env.SOV_TESTDATA;
export const shots = process.env.SOV_UI_SHOTS || tmpdir();

const children = [];
const dirs = [];
export const logs = [];

export function tempDir(prefix = 'sov-ui-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function start(cmd, args, env, name) {
  const child = spawn(cmd, args, {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
  const log = {name, text: ''};
  logs.push(log);
  child.stdout.on('data', (d) => { log.text += d; });
  child.stderr.on('data', (d) => { log.text += d; });
  children.push(child);
  const t0 = Date.now();
  child.on('exit', () => {
    if (process.env.SOV_UI_DEBUG) console.error(`${name} exited after ${Date.now() - t0} ms`);
  });
  return {child, log};
}

async function waitFor(check, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// The test registry serving stories260K as library/stories:latest.
export async function startRegistry() {
  const dir = tempDir('sov-ui-reg-');
  const portFile = join(dir, 'port');
  const model = `${data}/models/stories260K.gguf`;
  const {child, log} = start(process.env.SOV_REGISTRY_BIN,
    ['--port-file', portFile, `library/stories:latest=${model},system=You tell stories.`], {}, 'registry');
  const port = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`registry exited: ${log.text}`);
    return existsSync(portFile) && readFileSync(portFile, 'utf8').trim();
  }, 10000, 'the registry');
  return `http://127.0.0.1:${port}`;
}

// An HTTP proxy to `target` that sends blob bodies at `bytesPerSecond`.
export async function startThrottle(target, bytesPerSecond) {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const up = http.request({host: upstream.hostname, port: upstream.port, path: req.url, method: req.method,
      headers: {...req.headers, host: upstream.host}}, (upRes) => {
      res.writeHead(upRes.statusCode, upRes.headers);
      if (!req.url.includes('/blobs/')) {
        upRes.pipe(res);
        return;
      }
      // Re-chunk into 10 pieces a second.
      const slice = Math.max(1024, Math.floor(bytesPerSecond / 10));
      let queue = Buffer.alloc(0);
      let ended = false;
      const timer = setInterval(() => {
        if (queue.length) {
          const piece = queue.subarray(0, slice);
          queue = queue.subarray(piece.length);
          res.write(piece);
        }
        if (!queue.length && ended) {
          clearInterval(timer);
          res.end();
        }
        if (queue.length < slice * 4) upRes.resume();
      }, 100);
      upRes.on('data', (d) => {
        queue = Buffer.concat([queue, d]);
        if (queue.length > slice * 8) upRes.pause();
      });
      upRes.on('end', () => { ended = true; });
      res.on('close', () => {
        clearInterval(timer);
        upRes.destroy();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  children.push({kill: () => server.close(), closeAllConnections: () => server.closeAllConnections()});
  server.on('close', () => {});
  return {url: `http://127.0.0.1:${server.address().port}`, server};
}

// `sov serve` on a free port with a fresh store holding stories260K and TinyLLama as loose files.
export async function startServer({registry, apiKey = '', extraEnv = {}} = {}) {
  const home = tempDir('sov-ui-home-');
  const models = join(home, 'models');
  mkdirSync(models);
  for (const stem of ['stories260K', 'TinyLLama-v0.Q4_0']) {
    symlinkSync(`${data}/models/${stem}.gguf`, join(models, `${stem}.gguf`));
  }
  const env = {
    HOME: home, SOV_HOME: join(home, '.sovereign'), SOV_MODELS: models, SOV_OLLAMA_MODELS: '',
    SOV_API_KEY: apiKey, SOV_ORIGINS: '', SOV_REGISTRY: registry || '', ...extraEnv,
  };
  const {child, log} = start(process.env.SOV_BIN,
    ['serve', '--host', '127.0.0.1:0', '--parallel', '2', '--threads', '1'], env, 'sov serve');
  const port = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`sov serve exited: ${log.text}`);
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log.text);
    return m && m[1];
  }, 15000, 'sov serve');
  return {url: `http://127.0.0.1:${port}`, home, models, log, child};
}

export async function launchBrowser() {
  const profile = tempDir('sov-ui-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    viewport: {width: 1280, height: 800},
    timeout: 30000,
  });
  context.setDefaultTimeout(15000);
  return context;
}

// Console errors and CSP violations seen by a page (a CSP violation is logged as an error).
export function watchConsole(page) {
  const errors = [];
  page.on('console', (msg) => {
    // The UI probes optional APIs (knowledge bases, routing); their 404 is not an error.
    if (msg.type() === 'error' && !/\/api\/(kb|route|audit)/.test(msg.location()?.url || '')) {
      errors.push(`${msg.text()} (${msg.location()?.url})`);
    }
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  return errors;
}

export async function shot(page, name, options = {}) {
  await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await page.screenshot({path: join(shots, `ui-${name}.png`), ...options});
}

export function cleanup() {
  for (const c of children.reverse()) {
    try {
      if (c.closeAllConnections) c.closeAllConnections();
      c.kill();
    } catch {
      // already gone
    }
  }
  for (const d of dirs) rmSync(d, {recursive: true, force: true});
}

export function dumpLogs() {
  for (const l of logs) console.error(`--- ${l.name} ---\n${l.text.split('\n').slice(-40).join('\n')}`);
}

// A fake OpenAI-compatible upstream on loopback: /v1/chat/completions answers
// "upstream says: <last user text>" (whole, or streamed as server-sent events) and records
// every request it gets, so a test can see what left the machine.
export async function startFakeUpstream() {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      let json = {};
      try {
        json = JSON.parse(body || '{}');
      } catch {
        res.writeHead(400).end();
        return;
      }
      received.push({path: req.url, body: json});
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
        res.writeHead(404, {'Content-Type': 'application/json'}).end('{"error":{"message":"not found"}}');
        return;
      }
      const last = [...(json.messages || [])].reverse().find((m) => m.role === 'user');
      const text = `upstream says: ${typeof last?.content === 'string' ? last.content : ''}`;
      const usage = {prompt_tokens: 11, completion_tokens: 5, total_tokens: 16};
      const base = {id: 'chatcmpl-fake', created: Math.floor(Date.now() / 1000), model: json.model};
      if (json.stream) {
        res.writeHead(200, {'Content-Type': 'text/event-stream'});
        const send = (o) => res.write(`data: ${JSON.stringify(o)}\n\n`);
        send({...base, object: 'chat.completion.chunk', choices: [{index: 0, delta: {role: 'assistant', content: ''}}]});
        for (const piece of text.match(/.{1,6}/g)) {
          send({...base, object: 'chat.completion.chunk', choices: [{index: 0, delta: {content: piece}}]});
        }
        send({...base, object: 'chat.completion.chunk', choices: [{index: 0, delta: {}, finish_reason: 'stop'}], usage});
        res.end('data: [DONE]\n\n');
      } else {
        res.writeHead(200, {'Content-Type': 'application/json'});
        res.end(JSON.stringify({...base, object: 'chat.completion', usage,
          choices: [{index: 0, message: {role: 'assistant', content: text}, finish_reason: 'stop'}]}));
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  children.push({kill: () => server.close(), closeAllConnections: () => server.closeAllConnections()});
  return {url: `http://127.0.0.1:${server.address().port}/v1`, received};
}

// A JSON request from the test itself, on a connection that is closed afterwards (a kept-alive
// connection would hold the server's shutdown until its keep-alive timeout).
export function request(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method: body === undefined ? 'GET' : 'POST', agent: false,
      headers: {Connection: 'close', 'Content-Type': 'application/json'}}, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({status: res.statusCode, text, json: () => JSON.parse(text)}));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
