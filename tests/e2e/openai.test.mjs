// The official OpenAI SDK against /v1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { url, reference, STORIES, TINY, metric, eventually } from './common.mjs';

const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });

test('models list and retrieve', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  assert.ok(ids.includes('stories260K:latest'), ids.join(','));
  assert.ok(ids.includes('TinyLLama-v0.Q4_0:latest'));
  const one = await client.models.retrieve('stories260K:latest');
  assert.equal(one.id, 'stories260K:latest');
  await assert.rejects(client.models.retrieve('nope'), (e) => e.status === 404);
});

test('completion matches the reference greedy continuation', async () => {
  const r = await client.completions.create({ model: STORIES, prompt: reference.prompt, max_tokens: 16, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].text, reference.text);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 16);
});

test('streamed completion gives the same text', async () => {
  const stream = await client.completions.create({
    model: STORIES, prompt: reference.prompt, max_tokens: 16, temperature: 0, stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
  assert.equal(text, reference.text);
});

test('chat completion, n choices and usage', async () => {
  const r = await client.chat.completions.create({
    model: STORIES,
    messages: [{ role: 'system', content: 'You tell stories.' }, { role: 'user', content: 'A story about a cat.' }],
    max_tokens: 12, temperature: 0, n: 2, seed: 7,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 2);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.equal(r.choices[0].message.content, r.choices[1].message.content);
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('streamed chat with include_usage', async () => {
  const stream = await client.chat.completions.create({
    model: STORIES, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10, temperature: 0,
    stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  assert.ok(['stop', 'length'].includes(finish));
  assert.ok(usage && usage.completion_tokens > 0);
  const again = await client.chat.completions.create({
    model: STORIES, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10, temperature: 0,
  });
  assert.equal(text, again.choices[0].message.content);
});

test('tool-call round trip is accepted, streamed and not', async () => {
  const tools = [{
    type: 'function',
    function: { name: 'get_weather', description: 'Weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  }];
  const messages = [
    { role: 'user', content: 'What is the weather in Paris?' },
    { role: 'assistant', content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '{"temperature": 21}' },
  ];
  const r = await client.chat.completions.create({ model: STORIES, messages, tools, max_tokens: 8, temperature: 0 });
  assert.equal(r.choices[0].message.role, 'assistant');
  const stream = await client.chat.completions.create({
    model: STORIES, messages, tools, tool_choice: 'auto', max_tokens: 8, temperature: 0, stream: true,
  });
  let chunks = 0;
  for await (const _ of stream) chunks++;
  assert.ok(chunks >= 2);
});

test('errors come back in OpenAI shape', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'missing-model', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e.status === 404 && e.code === 'model_not_found');
  await assert.rejects(
    client.chat.completions.create({ model: STORIES, messages: [{ role: 'user', content: 'x' }], temperature: 9 }),
    (e) => e.status === 400 && typeof e.message === 'string');
  // Per-request context length (extension field): a prompt over it is refused, not cut.
  await assert.rejects(
    client.completions.create({ model: STORIES, prompt: 'Once upon a time '.repeat(50), num_ctx: 32 }),
    (e) => e.status === 400 && /context length/.test(e.message));
});

test('aborting a stream frees the slot', async () => {
  const label = 'sov_generations_total{model="TinyLLama-v0.Q4_0:latest",reason="cancelled"}';
  const before = await metric(label);
  const controller = new AbortController();
  const stream = await client.chat.completions.create({
    model: TINY, messages: [{ role: 'user', content: 'Tell me a very long story.' }], stream: true,
    logit_bias: { 2: -100 },  // no end-of-sequence: it would run to the end of the context
  }, { signal: controller.signal });
  let got = 0;
  try {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) got++;
      if (got === 2) {
        controller.abort();
        break;
      }
    }
  } catch (e) {
    assert.ok(/abort/i.test(e.name + e.message), String(e));  // the SDK may end the loop or throw
  }
  assert.equal(got, 2);
  // The server saw the client leave and cancelled the generation (EOS is banned, so it
  // would otherwise run to the end of the 2048-token context).
  await eventually(async () => (await metric(label)) === before + 1);
  await eventually(async () => (await metric('sov_active_sequences{model="TinyLLama-v0.Q4_0:latest"}')) === 0);
  // The server runs one sequence per model (--parallel 1): this only completes if the slot is free.
  const r = await client.completions.create({ model: TINY, prompt: 'Hello', max_tokens: 3 });
  assert.equal(r.choices.length, 1);
});

// Structured output: the grammar makes even a toy model at a high temperature emit valid JSON.
const petSchema = {
  type: 'object',
  properties: {
    animal: { enum: ['cat', 'dog', 'bird'] },
    legs: { type: 'integer', minimum: 0, maximum: 8 },
    name: { type: 'string', minLength: 1, maxLength: 8 },
  },
  required: ['animal', 'legs', 'name'],
  additionalProperties: false,
};
function assertPet(text) {
  const pet = JSON.parse(text);
  assert.deepEqual(Object.keys(pet).sort(), ['animal', 'legs', 'name'], text);
  assert.ok(['cat', 'dog', 'bird'].includes(pet.animal), text);
  assert.ok(Number.isInteger(pet.legs) && pet.legs >= 0 && pet.legs <= 8, text);
  assert.ok(typeof pet.name === 'string' && [...pet.name].length >= 1 && [...pet.name].length <= 8, text);
}

test('response_format json_schema output parses and validates, streamed and not', async () => {
  const response_format = { type: 'json_schema', json_schema: { name: 'pet', strict: true, schema: petSchema } };
  const messages = [{ role: 'user', content: 'Describe a pet as JSON.' }];
  const r = await client.chat.completions.create({
    model: STORIES, messages, response_format, temperature: 1.5, seed: 11, n: 2, max_tokens: 300,
  });
  for (const c of r.choices) {
    assert.equal(c.finish_reason, 'stop');
    assertPet(c.message.content);
  }
  const stream = await client.chat.completions.create({
    model: STORIES, messages, response_format, temperature: 1.5, seed: 12, max_tokens: 300, stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assertPet(text);
  await assert.rejects(
    client.chat.completions.create({ model: STORIES, messages, response_format: { type: 'json_schema',
      json_schema: { name: 'x', strict: true, schema: { type: 'array', uniqueItems: true } } } }),
    (e) => e.status === 400 && /uniqueItems/.test(e.message));
});

test('forced tool call (tool_choice named) round trip, streamed and not', async () => {
  const tools = [{
    type: 'function',
    function: { name: 'get_weather', description: 'Weather in a city',
      parameters: { type: 'object', properties: { city: { enum: ['Paris', 'Oslo'] }, days: { type: 'integer', minimum: 1, maximum: 3 } },
        required: ['city', 'days'], additionalProperties: false } },
  }, {
    type: 'function',
    function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', maxLength: 6 } } } },
  }];
  const tool_choice = { type: 'function', function: { name: 'get_weather' } };
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const checkArgs = (args) => {
    const a = JSON.parse(args);
    assert.ok(['Paris', 'Oslo'].includes(a.city), args);
    assert.ok(Number.isInteger(a.days) && a.days >= 1 && a.days <= 3, args);
  };
  const r = await client.chat.completions.create({
    model: STORIES, messages, tools, tool_choice, temperature: 1.5, seed: 3, max_tokens: 200,
  });
  const choice = r.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.tool_calls.length, 1);
  const call = choice.message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  checkArgs(call.function.arguments);

  const stream = await client.chat.completions.create({
    model: STORIES, messages, tools, tool_choice, temperature: 1.5, seed: 4, max_tokens: 200, stream: true,
  });
  const calls = [];
  let finish = null;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (!c) continue;
    for (const tc of c.delta?.tool_calls ?? []) {
      calls[tc.index] ??= { name: '', arguments: '' };
      calls[tc.index].name += tc.function?.name ?? '';
      calls[tc.index].arguments += tc.function?.arguments ?? '';
    }
    finish = c.finish_reason ?? finish;
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'get_weather');
  checkArgs(calls[0].arguments);

  // The round trip: the call and its result go back; the model answers in text.
  const answer = await client.chat.completions.create({
    model: STORIES, tools, max_tokens: 8, temperature: 0,
    messages: [...messages, choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' }],
  });
  assert.equal(answer.choices[0].message.role, 'assistant');
});
