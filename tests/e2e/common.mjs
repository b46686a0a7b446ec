// Shared helpers for the end-to-end tests: the server URL and test data.
import { readFileSync } from 'node:fs';

export const url = process.env.SOV_URL;
if (!url) throw new Error('SOV_URL is not set: run these tests through tests/e2e/run.sh');

const data = process.env.SOV_TESTDATA;
export const reference = {
  prompt: JSON.parse(readFileSync(`${data}/reference/stories260K/tokens.json`, 'utf8')).prompt,
  text: JSON.parse(readFileSync(`${data}/reference/stories260K/greedy.json`, 'utf8')).text,
};

export const STORIES = 'stories260K';
export const TINY = 'TinyLLama-v0.Q4_0';

// Value of one Prometheus sample, 0 when absent.
export async function metric(line) {
  const body = await (await fetch(`${url}/metrics`)).text();
  for (const l of body.split('\n')) {
    if (l.startsWith(line + ' ')) return Number(l.slice(line.length + 1));
  }
  return 0;
}

// Waits until `check` returns true (polling), or fails after `ms`.
export async function eventually(check, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
