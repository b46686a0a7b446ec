// Hybrid routing through the official clients: model "big" lives on an OpenAI-compatible
// upstream (the fake one run.sh starts), yet both SDKs keep calling localhost and get their
// own API's shapes, streamed or not; secrets are redacted on the way out and restored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { url } from './common.mjs';

const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
const ollama = new Ollama({ host: url });
const ask = (content) => [{ role: 'user', content }];

test('openai client: an upstream model through localhost, whole and streamed', async () => {
  const r = await openai.chat.completions.create({ model: 'big', messages: ask('hello there') });
  assert.equal(r.choices[0].message.content, 'echo: hello there');
  assert.equal(r.choices[0].finish_reason, 'stop');

  const { data: stream, response } = await openai.chat.completions
    .create({ model: 'smart', messages: ask('streamed hello'), stream: true })
    .withResponse();
  assert.match(response.headers.get('x-sov-route'), /^backend=cloud; model=big; rule=alias/);
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'echo: streamed hello');
});

test('ollama client: Ollama shapes from the OpenAI upstream, whole and streamed', async () => {
  const r = await ollama.chat({ model: 'big', messages: ask('hi ollama'), stream: false });
  assert.equal(r.message.role, 'assistant');
  assert.equal(r.message.content, 'echo: hi ollama');
  assert.equal(r.done, true);

  let text = '';
  let done = false;
  for await (const part of await ollama.chat({ model: 'big', messages: ask('streamed ollama'), stream: true })) {
    text += part.message.content;
    done = done || part.done;
  }
  assert.equal(text, 'echo: streamed ollama');
  assert.ok(done);
});

test('a secret is redacted before it leaves and restored in the answer', async () => {
  const secret = 'write to jane.doe@example.org';
  const r = await openai.chat.completions.create({ model: 'big', messages: ask(secret) });
  assert.equal(r.choices[0].message.content, `echo: ${secret}`);
  const audit = await (await fetch(`${url}/api/audit`)).json();
  const last = audit.entries[audit.entries.length - 1];
  assert.equal(last.backend, 'cloud');
  assert.equal(last.redactions.email, 1);
});

test('auto and local model names stay on this machine', async () => {
  const before = (await (await fetch(`${url}/api/audit`)).json()).entries.length;
  const r = await openai.chat.completions.create({ model: 'auto', messages: ask('Once upon a time'), max_tokens: 4 });
  assert.equal(typeof r.choices[0].message.content, 'string');
  const after = (await (await fetch(`${url}/api/audit`)).json()).entries.length;
  assert.equal(after, before);
});
