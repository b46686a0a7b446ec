// Model pulls through /api/pull, with progress that survives a page reload: the pull being
// made is remembered in localStorage, and a reloaded page asks the server to pull the same
// model again, which resumes from the bytes already downloaded (the server keeps partial
// downloads). One pull at a time; listeners get the state on every change.
import {stream} from './api.js';

const STORAGE = 'sov.pull';
const RATE_WINDOW_MS = 4000;

class PullManager {
  constructor() {
    this.state = null;  // {model, status, layers: {digest: {total, completed}}, total, completed, rate, eta, error, done}
    this.controller = null;
    this.listeners = new Set();
    this.samples = [];
  }

  subscribe(fn) {
    this.listeners.add(fn);
    fn(this.state);
    return () => this.listeners.delete(fn);
  }

  emit() {
    for (const fn of this.listeners) fn(this.state);
  }

  get running() {
    return Boolean(this.controller);
  }

  // Resumes the pull a previous page left unfinished.
  resume() {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(STORAGE));
    } catch {
      saved = null;
    }
    if (saved?.model && !this.running) this.start(saved.model, true);
  }

  cancel() {
    localStorage.removeItem(STORAGE);
    this.controller?.abort();
  }

  async start(model, resumed = false) {
    if (this.running) return;
    localStorage.setItem(STORAGE, JSON.stringify({model, started: Date.now()}));
    const controller = new AbortController();
    this.controller = controller;
    this.samples = [];
    this.state = {model, status: resumed ? 'resuming' : 'starting', layers: {}, total: 0, completed: 0,
      rate: 0, eta: null, error: null, done: false, resumed, updates: 0};
    this.emit();
    try {
      await stream('/api/pull', {model, stream: true}, (chunk) => this.onChunk(chunk), {signal: controller.signal});
      if (this.state.status !== 'success') throw new Error('the pull ended without success');
      this.state.done = true;
      localStorage.removeItem(STORAGE);
    } catch (err) {
      if (err.name === 'AbortError') {
        this.state.status = 'cancelled';
      } else {
        this.state.error = err.message;
        // A failed pull is not resumed on reload; the user can press Pull again.
        localStorage.removeItem(STORAGE);
      }
    } finally {
      this.controller = null;
      this.emit();
    }
  }

  onChunk(chunk) {
    const s = this.state;
    s.status = chunk.status || s.status;
    s.updates += 1;
    if (chunk.digest && Number.isFinite(chunk.total)) {
      s.layers[chunk.digest] = {total: chunk.total, completed: chunk.completed || 0};
      s.total = Object.values(s.layers).reduce((a, l) => a + l.total, 0);
      s.completed = Object.values(s.layers).reduce((a, l) => a + l.completed, 0);
      const now = performance.now();
      this.samples.push([now, s.completed]);
      while (this.samples.length > 2 && now - this.samples[0][0] > RATE_WINDOW_MS) this.samples.shift();
      const [t0, b0] = this.samples[0];
      if (now - t0 > 200 && s.completed > b0) {
        s.rate = ((s.completed - b0) * 1000) / (now - t0);
        s.eta = s.rate > 0 ? (s.total - s.completed) / s.rate : null;
      }
    }
    this.emit();
  }
}

export const pulls = new PullManager();
