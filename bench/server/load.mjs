// Server load benchmark against a running `sov serve` (Ollama API), all targets of issue 7 in
// one run:
//   1. `sov bench` generation speed on the same file and threads (once per round, median),
//      when --sov and --gguf are given;
//   2. 1, 2, 4, 8 concurrent streaming clients: aggregate generation tok/s and time to first
//      token (p50/p99), plus the single-client generation rate against `sov bench`: seen by a
//      streaming client (tokens after the first / time from the first to the last token), and
//      by the server for non-streamed requests, whose client takes no CPU while the model runs;
//   3. TTFT of a request whose ~1,000-token prefix is cached against the same request uncached.
//
//   node bench/server/load.mjs --url http://127.0.0.1:11434 --model NAME
//        [--clients 1,2,4,8] [--requests 2] [--tokens 128] [--rounds 5] [--prefix-tokens 1000]
//        [--sov path/to/sov --gguf MODEL.gguf --threads 2 --bench-reps 3]
// Uses only node's built-in modules. Prints Markdown (for docs/benchmarks.md).
import { execFileSync } from 'node:child_process';
import http from 'node:http';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const url = args.url ?? 'http://127.0.0.1:11434';
const model = args.model;
if (!model) throw new Error('--model is required');
const clientCounts = (args.clients ?? '1,2,4,8').split(',').map(Number);
const requestsPerClient = Number(args.requests ?? 2);
const tokens = Number(args.tokens ?? 128);
const prefixTokens = Number(args['prefix-tokens'] ?? 1000);
const threads = args.threads;
const benchReps = Number(args['bench-reps'] ?? 3);
const rounds = Number(args.rounds ?? 5);

const words = ['river', 'mountain', 'lantern', 'garden', 'harbor', 'meadow', 'castle', 'forest', 'violin', 'comet'];
const prompt = (i) => `Story ${i}: once upon a time near the ${words[i % words.length]} there lived`;

// One streamed generation: { ttft_ms, gen_ms (first to last token), eval_count, prompt_eval_count, ms }.
// node:http and parsing only the first and the final line keep the client's CPU use per token
// small: on a machine with few cores the client competes with the server for them.
const agent = new http.Agent({ keepAlive: true });
function generate(p, extra = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const body = JSON.stringify({
      model, prompt: p, raw: true,
      options: { num_predict: tokens, temperature: 0, ...extra },
    });
    const req = http.request(`${url}/api/generate`, {
      method: 'POST', agent, headers: { 'content-type': 'application/json' },
    }, (res) => {
      res.setEncoding('utf8');
      let buf = '';
      if (res.statusCode !== 200) {
        res.on('data', (d) => { buf += d; });
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${buf}`)));
        return;
      }
      let ttft = null;
      let last = null;
      let final = null;
      res.on('data', (chunk) => {
        const now = performance.now();
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const text = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (ttft !== null && !text.includes('"done":true') && !text.includes('"error"')) {
            last = now;  // a streamed token
            continue;
          }
          const line = JSON.parse(text);
          if (line.error) return reject(new Error(line.error));
          if (ttft === null && (line.response || line.done)) ttft = now - t0;
          if (line.response) last = now;
          if (line.done) final = line;
        }
      });
      res.on('end', () => {
        const end = performance.now();
        if (!final) return reject(new Error('the stream ended without a final line'));
        resolve({
          ttft_ms: ttft,
          gen_ms: (last ?? end) - (t0 + ttft),
          eval_count: final.eval_count,
          eval_ns: final.eval_duration,
          prompt_eval_count: final.prompt_eval_count,
          ms: end - t0,
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// One non-streamed generation: the client sleeps while the model runs, so on a machine with
// few cores it takes no CPU from the server. Returns the server's own eval rate (tok/s).
async function generateQuiet(p) {
  const res = await fetch(`${url}/api/generate`, {
    method: 'POST',
    body: JSON.stringify({ model, prompt: p, raw: true, stream: false,
      options: { num_predict: tokens, temperature: 0 } }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const out = await res.json();
  return out.eval_count > 1 && out.eval_duration > 0 ? ((out.eval_count - 1) * 1e9) / out.eval_duration : null;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs) => pct(xs, 50);

// `sov bench` generation tok/s on the same file and threads (the server stays idle meanwhile).
function sovBench() {
  if (!args.sov || !args.gguf) return null;
  const cmd = ['bench', '-m', args.gguf, '-p', '0', '-n', String(tokens), '-r', String(benchReps), '--json'];
  if (threads) cmd.push('-t', String(threads));
  const out = JSON.parse(execFileSync(args.sov, cmd, { encoding: 'utf8' }));
  return out.find((r) => r.n_gen > 0).avg_ts;
}

// Warm up: load the model.
await generate(prompt(0), { num_predict: 4 });

// Rounds: every round runs `sov bench` and then each client count once, so that load from
// other processes on a shared machine spreads over all of them; medians are reported.
const agg = Object.fromEntries(clientCounts.map((n) => [n, []]));
const ttfts = Object.fromEntries(clientCounts.map((n) => [n, []]));
const singleRates = [];
const serverRates = [];  // the server's own eval_count / eval_duration
const quietRates = [];   // the same, for non-streamed requests
const benchRates = [];
for (let round = 0; round < rounds; round++) {
  const b = sovBench();
  if (b !== null) benchRates.push(b);
  for (const n of clientCounts) {
    let generated = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, async (_, c) => {
      for (let r = 0; r < requestsPerClient; r++) {
        const out = await generate(prompt(round * 10000 + n * 1000 + c * 100 + r));
        ttfts[n].push(out.ttft_ms);
        generated += out.eval_count;
        if (n === 1 && out.eval_count > 1) {
          singleRates.push(((out.eval_count - 1) * 1000) / out.gen_ms);
          if (out.eval_ns > 0) serverRates.push(((out.eval_count - 1) * 1e9) / out.eval_ns);
        }
      }
    }));
    agg[n].push(generated / ((performance.now() - t0) / 1000));
    if (n === 1) {
      for (let r = 0; r < requestsPerClient; r++) {
        const q = await generateQuiet(prompt(round * 10000 + 500 + r));
        if (q !== null) quietRates.push(q);
      }
    }
  }
}

console.log(`model ${model}, ${tokens} tokens per request, ${requestsPerClient} requests per client, ` +
  `${rounds} rounds` + (threads ? `, ${threads} threads` : '') + '\n');
console.log('| clients | aggregate tok/s | per-client tok/s | TTFT p50 ms | TTFT p99 ms |');
console.log('|---:|---:|---:|---:|---:|');
const aggregate = {};
for (const n of clientCounts) {
  aggregate[n] = median(agg[n]);
  console.log(`| ${n} | ${aggregate[n].toFixed(1)} | ${(aggregate[n] / n).toFixed(1)} | ` +
    `${pct(ttfts[n], 50).toFixed(1)} | ${pct(ttfts[n], 99).toFixed(1)} |`);
}
console.log('');
if (aggregate[1] && aggregate[4]) {
  // Per round: its 4-client and 1-client runs are seconds apart, so a shared machine's drift
  // (up to 1.5x within minutes) cancels better than between the two medians.
  const perRound = agg[4].map((a4, i) => a4 / agg[1][i]);
  const r = median(perRound);
  console.log(`- aggregate at 4 clients / 1 client: ${r.toFixed(2)}x, median of the rounds' ratios ` +
    `(${perRound.map((x) => x.toFixed(2)).join(', ')}; ratio of the medians ` +
    `${(aggregate[4] / aggregate[1]).toFixed(2)}x) (target >= 2.5x: ${r >= 2.5 ? 'met' : 'MISSED'})`);
}
if (singleRates.length && benchRates.length) {
  const bench = median(benchRates);
  const vs = (rate) => {
    const d = (rate - bench) / bench;
    return `${d >= 0 ? '+' : ''}${(100 * d).toFixed(1)}%`;
  };
  const single = median(singleRates);
  console.log(`- \`sov bench -p 0 -n ${tokens}\`: ${bench.toFixed(1)} tok/s (median of ${benchRates.length} runs)`);
  console.log(`- single streaming client, first to last streamed token: ${single.toFixed(1)} tok/s (${vs(single)})` +
    (serverRates.length ? `; the server's own eval_duration: ${median(serverRates).toFixed(1)} tok/s` : ''));
  if (quietRates.length) {
    // The streaming client (node) competes with the server for the cores on a small machine;
    // a non-streamed request leaves the server alone, which is what the target compares.
    const quiet = median(quietRates);
    const d = (quiet - bench) / bench;
    console.log(`- single non-streamed client (client idle while generating), server eval_duration: ` +
      `${quiet.toFixed(1)} tok/s (${vs(quiet)}; target within 5%: ${d >= -0.05 ? 'met' : 'MISSED'})`);
  }
}

// Prefix cache: a ~prefixTokens-token prefix with different short endings. Each prefix is
// new to the server for its first (uncached) request; the following requests share it.
if (prefixTokens > 0) {
  const textOf = (lead, nWords) => `${lead}: ` +
    Array.from({ length: nWords }, (_, i) => words[(i * 7 + lead.length) % words.length]).join(' ');
  // Calibrate words per token on a prompt that shares no prefix with the measured ones.
  const probe = await generate(textOf('Calibration', 200), { num_predict: 1 });
  const nWords = Math.max(1, Math.round((200 * prefixTokens) / probe.prompt_eval_count));
  const cold = [];
  const warm = [];
  let promptTokens = 0;
  for (const lead of ['Chronicle', 'Almanac']) {
    const prefix = textOf(lead, nWords);
    const c = await generate(`${prefix} and then the first ending`, { num_predict: 1 });
    cold.push(c.ttft_ms);
    promptTokens = c.prompt_eval_count;
    for (const ending of ['another ending', 'a third ending', 'the last ending']) {
      warm.push((await generate(`${prefix} and then ${ending}`, { num_predict: 1 })).ttft_ms);
    }
  }
  const c = median(cold);
  const w = median(warm);
  const r = w / c;
  console.log(`- TTFT with a cached ~${prefixTokens}-token prefix (prompts of ${promptTokens} tokens): uncached ` +
    `${c.toFixed(1)} ms (median of ${cold.length}), cached ${w.toFixed(1)} ms (median of ${warm.length}): ` +
    `${(100 * r).toFixed(1)}% (target <= 15%: ${r <= 0.15 ? 'met' : 'MISSED'})`);
}
