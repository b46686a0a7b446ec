// The browser UI against a real `sov serve`: chat (streamed answer, stats, stop, edit and
// resend, saved conversations, a knowledge base attached), models (pull with progress that
// survives a reload, load, unload, delete), knowledge (create, add a folder, search, ask with
// sources), routing (a request sent to a fake upstream shows in the audit log), the PWA
// offline shell, safe Markdown, a narrow window, and a screenshot of every view.
import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {cleanup, dumpLogs, launchBrowser, request, shot, shots, startRegistry, startFakeUpstream, startServer, startThrottle, tempDir,
  watchConsole}
  from './harness.mjs';

let server;
let browser;
let page;
let errors;
let failed = false;
const STORIES = 'stories260K:latest';  // a loose GGUF file in the store folder

before(async () => {
  const registry = await startRegistry();
  // 250 KB/s: the 1.2 MB test model takes about five seconds to pull.
  const throttle = await startThrottle(registry, 250_000);
  server = await startServer({registry: throttle.url});
  browser = await launchBrowser();
  page = browser.pages()[0] || await browser.newPage();
  errors = watchConsole(page);
});

after(async () => {
  if (failed) dumpLogs();
  await browser?.close();
  cleanup();
});

async function step(name, fn) {
  try {
    await fn();
  } catch (err) {
    failed = true;
    await page?.screenshot({path: `${shots}/failed-${name}.png`}).catch(() => {});
    throw err;
  }
}

async function api(path, body) {
  const res = await request(server.url + path, body);
  assert.equal(res.status, 200, `${path}: ${res.status} ${res.text}`);
  return res.json();
}

async function setParam(name, value) {
  const details = page.locator('details.chat-settings');
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click();
  await page.fill(`.chat-settings input[name="${name}"]`, String(value));
}

test('the page loads with its assets under the CSP, without errors', () => step('load', async () => {
  const res = await page.goto(server.url + '/');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /default-src 'self'/);
  await page.waitForSelector('.chat-view');
  assert.equal(await page.title(), 'Chat · Sovereign');
  await page.waitForFunction(() => document.querySelectorAll('select[name=model] option').length >= 2);
  const models = await page.locator('select[name=model] option').allTextContents();
  assert.ok(models.includes(STORIES), models.join(','));
  assert.deepEqual(errors, []);
}));

test('markdown: structure and code highlighting, and model text never becomes markup', () => step('md', async () => {
  const out = await page.evaluate(async () => {
    const {renderMarkdown} = await import('/assets/js/markdown.js');
    const el = document.createElement('div');
    el.append(renderMarkdown([
      '## Title', '', 'Some **bold**, *em* and `code` with <img src=x onerror="window.pwned=1">.', '',
      '- one', '- two', '  - nested', '', '1. first', '2. second', '',
      '```python', 'def f(x):  # comment', '    return "s" + 1', '```', '',
      '| a | b |', '|---|--:|', '| 1 | 2 |', '',
      '[ok](https://example.com) [bad](javascript:alert(1)) <script>window.pwned=2</script> [2]',
    ].join('\n'), {citation: (n) => Object.assign(document.createElement('a'), {className: 'cite', textContent: `[${n}]`})}));
    return {
      html: el.innerHTML,
      text: el.textContent,
      tags: [...el.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
      links: [...el.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
      kw: [...el.querySelectorAll('.tok-kw')].map((e) => e.textContent),
      com: el.querySelector('.tok-com')?.textContent,
      str: el.querySelector('.tok-str')?.textContent,
      pwned: window.pwned,
    };
  });
  for (const tag of ['h4', 'strong', 'em', 'code', 'ul', 'ol', 'li', 'pre', 'table', 'th', 'td']) {
    assert.ok(out.tags.includes(tag), `${tag} missing: ${out.html}`);
  }
  assert.ok(!out.tags.includes('img') && !out.tags.includes('script'), out.html);
  assert.equal(out.pwned, undefined);
  assert.ok(out.text.includes('<img src=x onerror="window.pwned=1">'));
  assert.ok(out.text.includes('<script>window.pwned=2</script>'));
  assert.deepEqual(out.links, ['https://example.com']);
  assert.deepEqual(out.kw, ['def', 'return']);
  assert.equal(out.com, '# comment');
  assert.equal(out.str, '"s"');
  assert.ok(out.html.includes('<a class="cite">[2]</a>'), out.html);
}));

test('chat: a streamed answer appears with tokens/s and time to first token', () => step('chat', async () => {
  await page.selectOption('select[name=model]', STORIES);
  await setParam('temperature', 0);
  await setParam('num_predict', 24);
  await page.fill('textarea[name=message]', 'Once upon a time');
  await page.keyboard.press('Enter');
  const answer = page.locator('.chat-view .msg.assistant').last();
  await answer.locator('.stat-rate').waitFor();
  assert.match(await answer.locator('.stat-rate').textContent(), /^\d+(\.\d)? tokens\/s$/);
  assert.match(await answer.locator('.stat-ttft').textContent(), /^first token \d/);
  assert.match(await answer.locator('.msg-stats').textContent(), /24 tokens/);
  // The page shows what the API answers for the same request (greedy, so deterministic).
  const direct = await api('/api/chat', {model: STORIES, stream: false,
    messages: [{role: 'user', content: 'Once upon a time'}], options: {temperature: 0, num_predict: 24}});
  const norm = (s) => s.replace(/[*_`#>\s]+/g, ' ').trim();
  const shown = await answer.locator('.msg-body').textContent();
  assert.ok(direct.message.content.length > 0);
  assert.equal(norm(shown), norm(direct.message.content));
  await page.locator('details.chat-settings').evaluate((d) => { d.open = false; });
  await shot(page, 'chat');
}));

test('chat: a long answer can be stopped', () => step('stop', async () => {
  // A slow link (20 KB/s) makes the 2,000-token answer arrive over many seconds.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions',
    {offline: false, latency: 0, downloadThroughput: 20_000, uploadThroughput: -1});
  await setParam('num_predict', -1);
  await page.fill('textarea[name=message]', 'Tell me a long story');
  await page.click('button:has-text("Send")');
  const answer = page.locator('.chat-view .msg.assistant').last();
  await page.waitForFunction(() => {
    const body = [...document.querySelectorAll('.msg.assistant .msg-body')].pop();
    return body && body.textContent.replace('Thinking…', '').trim().length > 20;
  });
  await page.click('button:has-text("Stop")');
  await answer.locator('.stat-stopped').waitFor();
  await cdp.send('Network.emulateNetworkConditions', {offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1});
  const text = await answer.locator('.msg-body').textContent();
  assert.ok(text.length > 20);
  assert.equal(await answer.locator('.stat-rate').count(), 0, 'the final chunk must not have arrived');
  assert.ok(await page.locator('button:has-text("Send")').isVisible());
  await page.waitForTimeout(300);
  assert.equal(await answer.locator('.msg-body').textContent(), text, 'nothing arrives after Stop');
}));

test('chat: edit and resend replaces the rest of the conversation; it is saved', () => step('edit', async () => {
  await setParam('num_predict', 8);
  const before = await page.locator('.msg').count();
  assert.equal(before, 4);
  await page.locator('.msg.user').last().locator('button:has-text("Edit")').click();
  await page.fill('.msg.user textarea', 'Once upon a time there was a cat');
  await page.locator('.msg.user').last().locator('button:has-text("Send")').click();
  await page.locator('.msg.assistant').last().locator('.stat-rate').waitFor();
  assert.equal(await page.locator('.msg').count(), 4);
  assert.equal(await page.locator('.msg.user').last().locator('.msg-body').textContent(),
    'Once upon a time there was a cat');
  // Regenerate replaces the last answer.
  await page.locator('.msg.assistant').last().locator('button:has-text("Regenerate")').click();
  await page.locator('.msg.assistant').last().locator('.stat-rate').waitFor();
  assert.equal(await page.locator('.msg').count(), 4);
  // Saved in this browser: a reload shows the same conversation.
  await page.reload();
  await page.waitForSelector('.msg.assistant');
  assert.equal(await page.locator('.msg').count(), 4);
  assert.equal(await page.locator('.conv-list li').count(), 1);
  assert.equal(await page.locator('.conv-open[aria-current=true]').textContent(), 'Once upon a time');
  // New chat, then back.
  await page.click('button:has-text("New chat")');
  assert.equal(await page.locator('.msg').count(), 0);
  await page.locator('.conv-open', {hasText: 'Once upon a time'}).click();
  assert.equal(await page.locator('.msg').count(), 4);
}));

test('models: a pull shows progress, survives a reload, and the model appears', () => step('pull', async () => {
  await page.goto(server.url + '/#/models');
  await page.waitForSelector('.installed-models tbody tr');
  await page.fill('input[name=pull-model]', 'stories');
  await page.click('button:has-text("Pull")');
  const text = page.locator('.pull-progress .progress-text');
  await page.waitForFunction(() => /\d.*\/ 1\.2 MB/.test(document.querySelector('.pull-progress .progress-text')?.textContent));
  await page.waitForFunction(() => / left$/.test(document.querySelector('.pull-progress .progress-text')?.textContent));
  const mid = await text.textContent();
  assert.match(mid, /^\d+(\.\d)? (KB|MB) \/ 1\.2 MB \(\d+%\) · \d+(\.\d)? KB\/s · .* left$/);
  await shot(page, 'models');
  const value = await page.locator('.pull-progress progress').evaluate((p) => p.value);
  assert.ok(value > 0 && value < 1_185_376, String(value));

  // Reload in the middle: the page picks the pull up again, from where it was.
  await page.reload();
  await page.waitForFunction(() => document.querySelector('.pull-progress')?.dataset.state === 'running');
  assert.match(await page.locator('.pull-progress .progress-status').textContent(), /^stories: /);
  await page.waitForFunction(() => document.querySelector('.pull-progress')?.dataset.state === 'done', null,
    {timeout: 30000});
  assert.match(await text.textContent(), /^1\.2 MB \/ 1\.2 MB \(100%\)$/);
  const row = page.locator('.installed-models tbody tr', {hasText: 'stories:latest'});
  await row.waitFor();
  assert.match(await row.textContent(), /1\.2 MB/);
  const tags = await api('/api/tags');
  assert.ok(tags.models.some((m) => m.name.includes('stories:latest')), JSON.stringify(tags));
}));

test('models: load and unload', () => step('load', async () => {
  const row = page.locator('.installed-models tbody tr', {hasText: 'TinyLLama-v0.Q4_0'});
  await row.locator('button:has-text("Load")').click();
  const loaded = page.locator('.loaded-models tbody tr', {hasText: 'TinyLLama-v0.Q4_0'});
  await loaded.waitFor();
  assert.match(await loaded.textContent(), /in \d+ (s|min)/);
  const ps = await api('/api/ps');
  assert.ok(ps.models.some((m) => m.name.startsWith('TinyLLama-v0.Q4_0')));
  await loaded.locator('button:has-text("Unload")').click();
  await loaded.waitFor({state: 'detached'});
  const after = await api('/api/ps');
  assert.ok(!after.models.some((m) => m.name.startsWith('TinyLLama-v0.Q4_0')), JSON.stringify(after));
}));

test('models: delete', () => step('delete', async () => {
  page.once('dialog', (d) => d.accept());
  const row = page.locator('.installed-models tbody tr', {hasText: 'stories:latest'});
  await row.locator('button:has-text("Delete")').click();
  await row.waitFor({state: 'detached'});
  const tags = await api('/api/tags');
  assert.ok(!tags.models.some((m) => m.name.includes('stories:latest')));
}));

test('PWA: installable, and the shell loads offline from the service worker', () => step('pwa', async () => {
  await page.goto(server.url + '/#/chat');
  const manifest = await page.evaluate(async () => {
    const href = document.querySelector('link[rel=manifest]').href;
    return (await fetch(href)).json();
  });
  assert.equal(manifest.name, 'Sovereign');
  assert.equal(manifest.display, 'standalone');
  assert.equal(await page.evaluate(() => navigator.serviceWorker.ready.then((r) => Boolean(r.active))), true);
  await page.waitForFunction(() => Boolean(navigator.serviceWorker.controller));
  await page.context().setOffline(true);
  try {
    await page.reload();
    await page.waitForSelector('.chat-view .conv-list li');
    await page.locator('#offline-badge').waitFor();
  } finally {
    await page.context().setOffline(false);
  }
  // Offline, the API calls failed: those errors are expected.
  errors.length = 0;
}));

test('a narrow window gets the one-column layout', () => step('narrow', async () => {
  await page.setViewportSize({width: 390, height: 820});
  await page.goto(server.url + '/#/chat');
  await page.waitForSelector('.msg');
  const columns = await page.locator('.chat-view').evaluate((el) => getComputedStyle(el).gridTemplateColumns);
  assert.equal(columns.split(' ').length, 1, columns);
  await shot(page, 'chat-narrow');
  await page.setViewportSize({width: 1280, height: 800});
  assert.deepEqual(errors.filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED')), []);
}));

test('knowledge: create, add a folder, search with highlights, ask with sources', () => step('kb', async () => {
  const notes = tempDir('sov-ui-notes-');
  mkdirSync(join(notes, 'recipes'));
  writeFileSync(join(notes, 'garden.md'), '# Garden\n\nThe tomatoes in the garden are watered every Tuesday by Marta.\n');
  writeFileSync(join(notes, 'recipes', 'soup.md'), '# Pumpkin soup\n\nThe pumpkin soup needs two onions and a spoon of ginger.\n');
  writeFileSync(join(notes, 'todo.txt'), 'Call the plumber about the kitchen sink.\n');

  await page.goto(server.url + '/#/knowledge');
  await page.fill('input[name=kb-name]', 'notes');
  await page.click('button:has-text("Create")');
  await page.locator('.kb-list .conv-open[aria-current=true]', {hasText: 'notes'}).waitFor();
  await page.fill('input[name=kb-path]', notes);
  await page.click('.kb-detail button:has-text("Add")');
  await page.waitForFunction(() => document.querySelector('.kb-progress')?.dataset.state === 'done');
  assert.match(await page.locator('.kb-progress .progress-status').textContent(), /^Done: 3 added, 3 chunks$/);
  await page.waitForFunction(() => /Documents\s*3/.test(document.querySelector('.kb-status')?.textContent));

  await page.fill('input[name=kb-query]', 'pumpkin soup');
  await page.click('.kb-detail button:has-text("Search")');
  const first = page.locator('.results .result').first();
  await first.waitFor();
  assert.match(await first.locator('.source-path').textContent(), /recipes\/soup\.md:1-3/);
  const marks = await first.locator('mark').allTextContents();
  assert.ok(marks.map((m) => m.toLowerCase()).includes('pumpkin'), marks.join(','));
  await shot(page, 'knowledge');

  await page.selectOption('select[name=kb-ask-model]', STORIES);
  await page.fill('input[name=kb-question]', 'What does the pumpkin soup need?');
  await page.click('.kb-detail button:has-text("Ask")');
  // The tiny model answers until its context is full: slow under the sanitizers, hence 60 s.
  await page.waitForFunction(() => document.querySelector('.kb-answer')?.dataset.state === 'done', null, {
    timeout: 60000,
  });
  const source = page.locator('.kb-answer .sources li').first();
  assert.match(await source.locator('summary').textContent(), /recipes\/soup\.md:1-3$/);
  await source.locator('summary').click();
  assert.match(await source.locator('.snippet').textContent(), /two onions and a spoon of ginger/);
  assert.ok((await page.locator('.kb-answer .msg-body').textContent()).trim().length > 0);

  // In the chat, with the knowledge base attached, the answer lists the same source.
  await page.goto(server.url + '/#/chat');
  await page.click('button:has-text("New chat")');
  await page.selectOption('select[name=model]', STORIES);
  await page.selectOption('select[name=kb]', 'notes');
  await setParam('num_predict', 16);
  await page.fill('textarea[name=message]', 'Who waters the tomatoes in the garden?');
  await page.keyboard.press('Enter');
  const answer = page.locator('.chat-view .msg.assistant').last();
  await answer.locator('.stat-rate').waitFor();
  const chatSource = answer.locator('.sources li').first();
  assert.match(await chatSource.locator('summary').textContent(), /garden\.md:1-3$/);
  await chatSource.locator('summary').click();
  assert.match(await chatSource.locator('.source-text').textContent(), /watered every Tuesday by Marta/);
}));

test('routing: a request routed upstream shows in the audit log', () => step('routing', async () => {
  // A second server whose config sends prompts that mention "theorem" to a fake upstream.
  const upstream = await startFakeUpstream();
  const dir = tempDir('sov-ui-router-');
  const config = join(dir, 'config.toml');
  writeFileSync(config, [
    '[routing]', 'default = "local"', '',
    '[[backends]]', 'name = "cloud"', `base_url = "${upstream.url}"`, 'model = "big-model"',
    'models = ["big-model"]', 'price = { input = 1.0, output = 2.0 }', '',
    '[[rules]]', 'name = "proofs"', 'keywords = ["theorem"]', 'backend = "cloud"', '',
    '[audit]', `path = "${join(dir, 'audit.db')}"`, ''].join('\n'));
  const routed = await startServer({extraEnv: {SOV_CONFIG: config}});
  const cfg = (await request(routed.url + '/api/route')).json();
  assert.equal(cfg.enabled, true, JSON.stringify(cfg));
  await page.goto(routed.url + '/#/chat');
  await page.click('button:has-text("New chat")');
  await page.waitForFunction(() => [...document.querySelectorAll('select[name=model] option')].some((o) => o.value === 'auto'));
  await page.selectOption('select[name=model]', 'auto');
  await page.fill('textarea[name=message]', 'Prove this theorem for me');
  await page.keyboard.press('Enter');
  const answer = page.locator('.chat-view .msg.assistant').last();
  await page.waitForFunction(() => /upstream says: Prove this theorem for me/.test(
    [...document.querySelectorAll('.msg.assistant .msg-body')].pop()?.textContent));
  assert.equal(upstream.received.length, 1);
  assert.equal(upstream.received[0].body.model, 'big-model');

  await page.goto(routed.url + '/#/routing');
  const row = page.locator('table.audit tbody tr').first();
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[1], 'cloud');
  assert.equal(cells[2], 'big-model');
  assert.equal(cells[3], 'proofs');
  assert.equal(cells[4], '200');
  assert.match(cells[5], /^\d+ \/ \d+/);
  assert.equal(await page.locator('table.audit tbody tr').count(), 1);
  assert.match(await page.locator('table.backends tr[data-backend=cloud] .health').textContent(), /^ok/);
  assert.match(await page.locator('table.rules tbody').textContent(), /mentions "theorem"/);
  await page.fill('textarea[name=explain-prompt]', 'Is this theorem true?');
  await page.click('button:has-text("Explain")');
  await page.locator('.explain-result', {hasText: '→ cloud / big-model (rule: proofs)'}).waitFor();
  await page.setViewportSize({width: 1280, height: 1150});  // the whole view, audit log included
  await shot(page, 'routing');
  await page.setViewportSize({width: 1280, height: 800});
  // The local model answers everything else: nothing more left the machine.
  assert.equal(upstream.received.length, 1);
}));
