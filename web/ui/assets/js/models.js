// Models view: installed models (size, family, parameters, quantization, context), pull by
// name with a live progress bar (bytes, rate, ETA; resumed after a page reload), delete, and
// the models loaded in memory (memory, context, expiry) with load and unload.
import {api} from './api.js';
import {clear, field, formatBytes, formatDuration, formatRelative, h, toast} from './dom.js';
import {pulls} from './pull.js';
import {setPrefs} from './store.js';

export class ModelsView {
  constructor() {
    this.title = 'Models';
    this.contexts = new Map();  // model name -> context length (from /api/show)
    this.build();
    pulls.subscribe((state) => this.renderPull(state));
  }

  build() {
    this.pullInput = h('input', {name: 'pull-model', placeholder: 'e.g. llama3.2:1b or hf.co/user/repo:Q4_K_M',
      autocomplete: 'off', spellcheck: false, required: true});
    this.pullButton = h('button', {type: 'submit', class: 'primary'}, 'Pull');
    this.cancelButton = h('button', {type: 'button', class: 'ghost', hidden: true, onclick: () => pulls.cancel()},
      'Cancel');
    this.pullStatus = h('div', {class: 'progress-status', 'aria-live': 'polite'});
    this.pullBar = h('progress', {max: 1, value: 0, 'aria-label': 'Download progress'});
    this.pullText = h('div', {class: 'progress-text'});
    this.pullBox = h('div', {class: 'progress pull-progress', hidden: true}, this.pullStatus, this.pullBar, this.pullText);
    const pullForm = h('form', {class: 'card', 'aria-labelledby': 'pull-title', onsubmit: (e) => {
      e.preventDefault();
      const name = this.pullInput.value.trim();
      if (name) pulls.start(name);
    }},
    h('h2', {id: 'pull-title'}, 'Pull a model'),
    h('div', {class: 'row'}, field('Model name', this.pullInput), this.pullButton, this.cancelButton),
    this.pullBox);

    this.installedBody = h('tbody');
    this.installedEmpty = h('p', {class: 'muted', hidden: true}, 'No models yet: pull one above, or put .gguf files in the models folder.');
    this.loadedBody = h('tbody');
    this.loadedEmpty = h('p', {class: 'muted', hidden: true}, 'No model is loaded. Models load on first use, or with Load.');
    const th = (text, cls) => h('th', {scope: 'col', class: cls}, text);

    this.el = h('section', {class: 'view models-view', 'aria-label': 'Models'},
      h('h1', {}, 'Models'),
      pullForm,
      h('h2', {id: 'installed-title'}, 'Installed'),
      h('div', {class: 'table-wrap'}, h('table', {'aria-labelledby': 'installed-title', class: 'installed-models'},
        h('thead', {}, h('tr', {}, th('Name'), th('Size', 'num'), th('Family', 'optional'), th('Parameters', 'num optional'),
          th('Quantization', 'optional'), th('Context', 'num optional'), th('Modified', 'optional'),
          h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'Actions')))),
        this.installedBody)),
      this.installedEmpty,
      h('h2', {id: 'loaded-title'}, 'Loaded in memory'),
      h('div', {class: 'table-wrap'}, h('table', {'aria-labelledby': 'loaded-title', class: 'loaded-models'},
        h('thead', {}, h('tr', {}, th('Name'), th('Memory', 'num'), th('Context', 'num'), th('Parallel', 'num optional'),
          th('Unloads'), h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'Actions')))),
        this.loadedBody)),
      this.loadedEmpty);
  }

  show() {
    this.refresh();
    clearInterval(this.timer);
    // Expiry times and loaded models change on their own: refresh while visible.
    this.timer = setInterval(() => {
      if (this.el.hidden) clearInterval(this.timer);
      else this.refreshLoaded();
    }, 5000);
  }

  settingsChanged() {
    this.contexts.clear();
  }

  async refresh() {
    await Promise.all([this.refreshInstalled(), this.refreshLoaded()]);
  }

  async refreshInstalled() {
    let models = [];
    try {
      ({models = []} = await api('/api/tags'));
    } catch (err) {
      toast(`Cannot list models: ${err.message}`, 'error');
    }
    models.sort((a, b) => a.name.localeCompare(b.name));
    clear(this.installedBody);
    this.installedEmpty.hidden = models.length > 0;
    for (const m of models) {
      const d = m.details || {};
      const ctxCell = h('td', {class: 'num optional'}, this.contexts.get(m.name) ?? '…');
      this.installedBody.append(h('tr', {dataset: {model: m.name}},
        h('th', {scope: 'row'}, m.name),
        h('td', {class: 'num'}, formatBytes(m.size)),
        h('td', {class: 'optional'}, d.family || ''),
        h('td', {class: 'num optional'}, d.parameter_size || ''),
        h('td', {class: 'optional'}, d.quantization_level || ''),
        ctxCell,
        h('td', {class: 'optional'}, m.modified_at ? formatRelative(m.modified_at) : ''),
        h('td', {class: 'actions'},
          h('button', {type: 'button', class: 'small', 'aria-label': `Chat with ${m.name}`, onclick: () => {
            setPrefs({lastModel: m.name});
            window.dispatchEvent(new CustomEvent('sov:use-model', {detail: m.name}));
            location.hash = '#/chat';
          }}, 'Chat'),
          h('button', {type: 'button', class: 'small', 'aria-label': `Load ${m.name}`,
            onclick: (e) => this.load(m.name, e.currentTarget)}, 'Load'),
          h('button', {type: 'button', class: 'small danger', 'aria-label': `Delete ${m.name}`,
            onclick: () => this.remove(m.name)}, 'Delete'))));
      if (!this.contexts.has(m.name)) this.fetchContext(m.name, ctxCell);
    }
  }

  async fetchContext(name, cell) {
    try {
      const info = await api('/api/show', {method: 'POST', body: {model: name}});
      const mi = info.model_info || {};
      const arch = mi['general.architecture'];
      const ctx = mi[`${arch}.context_length`];
      this.contexts.set(name, ctx ? ctx.toLocaleString('en-US') : '?');
    } catch {
      this.contexts.set(name, '?');
    }
    cell.textContent = this.contexts.get(name);
  }

  async refreshLoaded() {
    let models = [];
    try {
      ({models = []} = await api('/api/ps'));
    } catch {
      return;
    }
    clear(this.loadedBody);
    this.loadedEmpty.hidden = models.length > 0;
    for (const m of models) {
      this.loadedBody.append(h('tr', {dataset: {model: m.name}},
        h('th', {scope: 'row'}, m.name),
        h('td', {class: 'num'}, formatBytes(m.size)),
        h('td', {class: 'num'}, m.context_length ? m.context_length.toLocaleString('en-US') : ''),
        h('td', {class: 'num optional'}, m.parallel ?? ''),
        h('td', {}, h('time', {datetime: m.expires_at}, formatRelative(m.expires_at))),
        h('td', {class: 'actions'}, h('button', {type: 'button', class: 'small', 'aria-label': `Unload ${m.name}`,
          onclick: (e) => this.unload(m.name, e.currentTarget)}, 'Unload'))));
    }
  }

  async load(name, button) {
    button.disabled = true;
    button.textContent = 'Loading…';
    try {
      await api('/api/generate', {method: 'POST', body: {model: name, prompt: '', stream: false}});
      toast(`${name} loaded`);
    } catch (err) {
      toast(`Cannot load ${name}: ${err.message}`, 'error');
    }
    button.disabled = false;
    button.textContent = 'Load';
    this.refreshLoaded();
  }

  async unload(name, button) {
    button.disabled = true;
    try {
      await api('/api/generate', {method: 'POST', body: {model: name, prompt: '', keep_alive: 0, stream: false}});
      toast(`${name} unloaded`);
    } catch (err) {
      toast(`Cannot unload ${name}: ${err.message}`, 'error');
    }
    this.refreshLoaded();
  }

  async remove(name) {
    if (!confirm(`Delete ${name}? Its files are removed from disk.`)) return;
    try {
      await api('/api/delete', {method: 'DELETE', body: {model: name}});
      toast(`${name} deleted`);
    } catch (err) {
      toast(`Cannot delete ${name}: ${err.message}`, 'error');
    }
    this.contexts.delete(name);
    this.refresh();
  }

  renderPull(s) {
    const running = pulls.running;
    this.pullButton.disabled = running;
    this.cancelButton.hidden = !running;
    if (!s) return;
    this.pullBox.hidden = false;
    if (running && !this.pullInput.value) this.pullInput.value = s.model;
    let status = `${s.model}: ${s.status}`;
    if (s.error) status = `${s.model}: failed: ${s.error}`;
    else if (s.done) status = `${s.model}: done`;
    this.pullStatus.textContent = status;
    this.pullStatus.classList.toggle('error', Boolean(s.error));
    this.pullBox.dataset.state = s.error ? 'error' : s.done ? 'done' : running ? 'running' : 'stopped';
    if (s.total > 0) {
      this.pullBar.max = s.total;
      this.pullBar.value = s.completed;
      const pct = Math.floor((s.completed / s.total) * 100);
      const parts = [`${formatBytes(s.completed)} / ${formatBytes(s.total)} (${pct}%)`];
      if (running && s.rate > 0) parts.push(`${formatBytes(s.rate)}/s`);
      if (running && s.eta != null) parts.push(`${formatDuration(s.eta)} left`);
      this.pullText.textContent = parts.join(' · ');
    } else {
      this.pullBar.removeAttribute('value');  // indeterminate until the sizes are known
      this.pullText.textContent = '';
    }
    if (s.done && !s.refreshed) {
      s.refreshed = true;
      toast(`${s.model} is ready`);
      this.refreshInstalled();
    }
  }
}
