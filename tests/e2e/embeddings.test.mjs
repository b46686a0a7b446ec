// Embeddings through the official clients: ollama.embed / ollama.embeddings and OpenAI's
// embeddings.create (which asks for base64 by default and decodes it), on the synthetic BERT
// models (run.sh links them) against their llama.cpp references, and on a decoder model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { url, STORIES } from './common.mjs';

const ollama = new Ollama({ host: url });
const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
const data = process.env.SOV_TESTDATA;

function reference(stem) {
  const tokens = JSON.parse(readFileSync(`${data}/reference/${stem}/tokens.json`, 'utf8'));
  const bytes = (name) => {
    const b = readFileSync(`${data}/reference/${stem}/${name}`);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  const rows = (all) => tokens.texts.map((_, i) => Array.from(all.slice(i * 128, (i + 1) * 128)));
  return {
    texts: tokens.texts,
    ids: tokens.ids,
    tokens: tokens.ids.reduce((n, ids) => n + ids.length, 0),
    embeddings: rows(bytes('embeddings.f32')),
    raw: rows(bytes('embeddings_raw.f32')),
  };
}

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

const norm = (a) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

for (const stem of ['synth-bert-F32', 'synth-nomic-bert-F32']) {
  const ref = reference(stem);

  test(`ollama.embed matches the ${stem} reference`, async () => {
    const r = await ollama.embed({ model: stem, input: ref.texts });
    assert.equal(r.embeddings.length, 4);
    r.embeddings.forEach((e, i) => {
      assert.equal(e.length, 128);
      assert.ok(cosine(e, ref.embeddings[i]) >= 0.999, `text ${i}: ${cosine(e, ref.embeddings[i])}`);
    });
    assert.equal(r.prompt_eval_count, ref.tokens);
    assert.ok(r.total_duration > 0);
    const one = await ollama.embed({ model: stem, input: ref.texts[1] });
    assert.deepEqual(one.embeddings[0], r.embeddings[1]);
  });

  test(`openai embeddings.create matches the ${stem} reference`, async () => {
    const r = await openai.embeddings.create({ model: stem, input: ref.texts });  // base64 on the wire
    assert.equal(r.data.length, 4);
    r.data.forEach((d, i) => {
      assert.equal(d.index, i);
      assert.ok(cosine(d.embedding, ref.embeddings[i]) >= 0.999, `text ${i}`);
    });
    assert.equal(r.usage.prompt_tokens, ref.tokens);
    const floats = await openai.embeddings.create({ model: stem, input: ref.texts, encoding_format: 'float' });
    // JSON floats are float32 values in their shortest form: the same values as base64 gives.
    floats.data.forEach((d, i) => assert.deepEqual(d.embedding.map(Math.fround), r.data[i].embedding));
    const ids = await openai.embeddings.create({ model: stem, input: ref.ids });
    ids.data.forEach((d, i) => assert.deepEqual(d.embedding, r.data[i].embedding));
    const cut = await openai.embeddings.create({ model: stem, input: ref.texts[0], dimensions: 64 });
    assert.equal(cut.data[0].embedding.length, 64);
    assert.ok(Math.abs(norm(cut.data[0].embedding) - 1) < 1e-5);
  });
}

test('legacy ollama.embeddings returns the raw (unnormalised) vector', async () => {
  const ref = reference('synth-bert-F32');
  const r = await ollama.embeddings({ model: 'synth-bert-F32', prompt: ref.texts[2] });
  assert.equal(r.embedding.length, 128);
  assert.ok(cosine(r.embedding, ref.raw[2]) >= 0.999);
  assert.ok(Math.abs(norm(r.embedding) - norm(ref.raw[2])) < 1e-3 * norm(ref.raw[2]));
});

test('a decoder model embeds too', async () => {
  const r = await ollama.embed({ model: STORIES, input: ['Once upon a time', 'One day'] });
  assert.equal(r.embeddings.length, 2);
  assert.equal(r.embeddings[0].length, 64);
  const o = await openai.embeddings.create({ model: STORIES, input: 'One day' });
  assert.ok(cosine(o.data[0].embedding, r.embeddings[1]) >= 0.99999);
});

test('embedding errors', async () => {
  await assert.rejects(ollama.embed({ model: 'no-such-model', input: 'x' }), (e) => e.status_code === 404);
  await assert.rejects(openai.embeddings.create({ model: 'no-such-model', input: 'x' }),
    (e) => e.status === 404 && e.code === 'model_not_found');
  await assert.rejects(openai.embeddings.create({ model: 'synth-bert-F32', input: '' }), (e) => e.status === 400);
  const long = 'cat '.repeat(600);
  await assert.rejects(ollama.embed({ model: 'synth-bert-F32', input: long, truncate: false }),
    (e) => e.status_code === 400 && /context/.test(e.error));
  const cut = await ollama.embed({ model: 'synth-bert-F32', input: long });
  assert.equal(cut.prompt_eval_count, 512);
  await assert.rejects(ollama.generate({ model: 'synth-bert-F32', prompt: 'hi' }),
    (e) => e.status_code === 400 && /does not support generate/.test(e.error));
});
