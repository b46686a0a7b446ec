// Server load benchmark: 1, 2, 4, 8 concurrent streaming clients against a running
// `sov serve` (Ollama API), reporting aggregate generation tok/s and time to first token
// (p50/p99), then TTFT with and without a cached 1,000-token prefix.
//
//   node bench/server/load.mjs --url http://127.0.0.1:11434 --model NAME
//        [--clients 1,2,4,8] [--requests 4] [--tokens 128] [--prefix-tokens 1000]
// Uses only node's built-in fetch. Prints a Markdown table (for docs/benchmarks.md).
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const url = args.url ?? 'http://127.0.0.1:11434';
const model = args.model;
if (!model) throw new Error('--model is required');
const clientCounts = (args.clients ?? '1,2,4,8').split(',').map(Number);
const requestsPerClient = Number(args.requests ?? 4);
const tokens = Number(args.tokens ?? 128);
const prefixTokens = Number(args['prefix-tokens'] ?? 1000);

const words = ['river', 'mountain', 'lantern', 'garden', 'harbor', 'meadow', 'castle', 'forest', 'violin', 'comet'];
const prompt = (i) => `Story ${i}: once upon a time near the ${words[i % words.length]} there lived`;

// One streamed generation: returns { ttft_ms, eval_count, ms }.
async function generate(p, extra = {}) {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/generate`, {
    method: 'POST',
    body: JSON.stringify({ model, prompt: p, raw: true, options: { num_predict: tokens, temperature: 0, ...extra } }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let ttft = null;
  let final = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (line.error) throw new Error(line.error);
      if (ttft === null && (line.response || line.done)) ttft = performance.now() - t0;
      if (line.done) final = line;
    }
  }
  return { ttft_ms: ttft, eval_count: final.eval_count, ms: performance.now() - t0 };
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

// Warm up: load the model.
await generate(prompt(0), { num_predict: 4 });

console.log(`model ${model}, ${tokens} tokens per request, ${requestsPerClient} requests per client\n`);
console.log('| clients | aggregate tok/s | per-client tok/s | TTFT p50 ms | TTFT p99 ms |');
console.log('|---:|---:|---:|---:|---:|');
const baseline = {};
for (const n of clientCounts) {
  const ttfts = [];
  let generated = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, async (_, c) => {
    for (let r = 0; r < requestsPerClient; r++) {
      const out = await generate(prompt(c * 100 + r + n * 1000));
      ttfts.push(out.ttft_ms);
      generated += out.eval_count;
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  const agg = generated / secs;
  baseline[n] = agg;
  console.log(`| ${n} | ${agg.toFixed(1)} | ${(agg / n).toFixed(1)} | ${pct(ttfts, 50).toFixed(1)} | ${pct(ttfts, 99).toFixed(1)} |`);
}
if (baseline[1] && baseline[4]) console.log(`\naggregate at 4 clients / 1 client: ${(baseline[4] / baseline[1]).toFixed(2)}x`);

// Prefix cache: the same long prefix with different endings.
if (prefixTokens > 0) {
  const prefix = Array.from({ length: prefixTokens }, (_, i) => words[i % words.length]).join(' ');
  const cold = await generate(`${prefix} and then the first ending`, { num_predict: 1 });
  const warm = await generate(`${prefix} and then another ending`, { num_predict: 1 });
  console.log(`\nTTFT with a ~${prefixTokens}-word prefix: uncached ${cold.ttft_ms.toFixed(1)} ms, ` +
    `cached ${warm.ttft_ms.toFixed(1)} ms (${((100 * warm.ttft_ms) / cold.ttft_ms).toFixed(1)}%)`);
}
