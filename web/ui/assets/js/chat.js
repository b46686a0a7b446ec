// Chat view: a model picker, streamed answers from /api/chat rendered as Markdown, stop
// (AbortController), regenerate, edit-and-resend, system prompt and parameters, conversations
// saved in this browser, tokens/s and time to first token per answer, and an optional
// knowledge base whose sources are listed under the answer and linked from its [n] markers.
import {api, ApiError, stream} from './api.js';
import {clear, field, formatDuration, h, toast, uid} from './dom.js';
import {renderMarkdown} from './markdown.js';
import {kbGround, kbList, sourcesFromChunk, sourceLabel} from './kb_api.js';
import {routedModels} from './router_api.js';
import {loadConversations, newConversation, prefs, saveConversations, setPrefs} from './store.js';

// Parameters offered in the panel: [option, label, attributes].
const PARAMS = [
  ['temperature', 'Temperature', {min: 0, max: 2, step: 0.05}],
  ['num_ctx', 'Context length (tokens)', {min: 64, max: 1048576, step: 64}],
  ['num_predict', 'Max answer tokens (-1: no limit)', {min: -1, max: 1048576, step: 1}],
  ['top_p', 'Top p', {min: 0, max: 1, step: 0.01}],
  ['top_k', 'Top k', {min: 0, max: 1000, step: 1}],
  ['min_p', 'Min p', {min: 0, max: 1, step: 0.01}],
  ['repeat_penalty', 'Repeat penalty', {min: 0, max: 5, step: 0.05}],
  ['seed', 'Seed', {min: 0, max: 4294967295, step: 1}],
];

export class ChatView {
  constructor() {
    this.title = 'Chat';
    this.conversations = loadConversations().sort((a, b) => b.updated - a.updated);
    this.current = null;
    this.controller = null;  // the AbortController of the answer being streamed
    this.models = [];
    this.build();
    // "Chat" on a model in the Models view: continue this conversation with that model.
    window.addEventListener('sov:use-model', (e) => {
      if (!this.controller) this.changed({model: e.detail});
    });
    const last = this.conversations.find((c) => c.id === prefs().lastConversation);
    this.open(last || this.conversations[0] || this.create());
  }

  build() {
    this.list = h('ul', {class: 'conv-list', 'aria-label': 'Saved conversations'});
    const aside = h('aside', {class: 'conv-panel', 'aria-label': 'Conversations'},
      h('button', {type: 'button', class: 'primary wide', onclick: () => this.open(this.create())}, 'New chat'),
      this.list);

    this.modelSelect = h('select', {name: 'model', onchange: () => this.changed({model: this.modelSelect.value})});
    this.kbSelect = h('select', {name: 'kb', onchange: () => this.changed({kb: this.kbSelect.value})},
      h('option', {value: ''}, 'None'));
    this.kbField = field('Knowledge base', this.kbSelect);
    this.kbField.hidden = true;

    this.systemInput = h('textarea', {name: 'system', rows: 3, placeholder: 'You are a helpful assistant.',
      oninput: () => this.changed({system: this.systemInput.value}, false)});
    this.paramInputs = {};
    const paramFields = PARAMS.map(([key, label, attrs]) => {
      const input = h('input', {type: 'number', name: key, inputmode: 'decimal', placeholder: 'default', ...attrs});
      input.addEventListener('input', () => this.paramChanged(key, input));
      this.paramInputs[key] = input;
      return field(label, input);
    });
    this.settings = h('details', {class: 'chat-settings'},
      h('summary', {}, 'System prompt and parameters'),
      field('System prompt', this.systemInput),
      h('div', {class: 'param-grid'}, paramFields),
      h('p', {class: 'hint'}, 'Empty fields use the model\'s defaults. Settings are saved with the conversation.'));

    this.messages = h('ol', {class: 'messages', 'aria-label': 'Messages', 'aria-live': 'polite',
      'aria-busy': 'false'});
    this.empty = h('div', {class: 'empty-chat'},
      h('h2', {}, 'Chat with a local model'),
      h('p', {}, 'Everything runs on this machine. Pick a model and ask anything.'));

    this.input = h('textarea', {name: 'message', rows: 2, placeholder: 'Message (Enter sends, Shift+Enter: new line)',
      'aria-label': 'Message', onkeydown: (e) => this.onKey(e)});
    this.sendButton = h('button', {type: 'submit', class: 'primary'}, 'Send');
    this.stopButton = h('button', {type: 'button', class: 'danger', hidden: true, onclick: () => this.stop()}, 'Stop');
    const form = h('form', {class: 'composer', onsubmit: (e) => {
      e.preventDefault();
      this.send();
    }}, this.input, h('div', {class: 'composer-actions'}, this.stopButton, this.sendButton));

    const main = h('div', {class: 'chat-main'},
      h('div', {class: 'chat-toolbar'}, field('Model', this.modelSelect), this.kbField),
      this.settings,
      h('div', {class: 'messages-scroll'}, this.empty, this.messages),
      form);
    this.el = h('section', {class: 'view chat-view', 'aria-label': 'Chat'}, aside, main);
  }

  async show() {
    await Promise.all([this.loadModels(), this.loadKbs()]);
  }

  settingsChanged() {
    this.show();
  }

  async loadModels() {
    try {
      const [{models = []}, routed] = await Promise.all([api('/api/tags'), routedModels()]);
      // Local models first, then "auto" and the upstreams' models when routing is set up.
      this.models = [...models.map((m) => m.name), ...routed];
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) toast(`Cannot list models: ${err.message}`, 'error');
      this.models = [];
    }
    this.fillModels();
  }

  fillModels() {
    const conv = this.current;
    const names = [...this.models];
    if (conv.model && !names.includes(conv.model)) names.unshift(conv.model);
    clear(this.modelSelect);
    if (!names.length) this.modelSelect.append(h('option', {value: ''}, 'No models installed (see Models)'));
    for (const n of names) this.modelSelect.append(h('option', {value: n}, n));
    if (!conv.model || !names.includes(conv.model)) {
      const preferred = names.includes(prefs().lastModel) ? prefs().lastModel : names[0] || '';
      conv.model = preferred;
    }
    this.modelSelect.value = conv.model;
  }

  async loadKbs() {
    const bases = await kbList();
    this.kbField.hidden = bases === null;
    if (bases === null) return;
    clear(this.kbSelect);
    this.kbSelect.append(h('option', {value: ''}, 'None'));
    for (const b of bases) this.kbSelect.append(h('option', {value: b}, b));
    this.kbSelect.value = this.current.kb || '';
  }

  create() {
    const p = prefs();
    const conv = newConversation({model: p.lastModel, system: p.lastSystem, options: p.lastOptions});
    this.conversations.unshift(conv);
    return conv;
  }

  open(conv) {
    if (this.controller) this.stop();
    this.current = conv;
    setPrefs({lastConversation: conv.id});
    this.systemInput.value = conv.system || '';
    for (const [key] of PARAMS) this.paramInputs[key].value = conv.options?.[key] ?? '';
    if (this.models.length) this.fillModels();
    this.kbSelect.value = conv.kb || '';
    this.renderList();
    this.renderMessages();
  }

  changed(patch, rerender = true) {
    Object.assign(this.current, patch);
    if (patch.model) setPrefs({lastModel: patch.model});
    if ('system' in patch) setPrefs({lastSystem: patch.system});
    this.save();
    if (rerender) this.renderList();
  }

  paramChanged(key, input) {
    const opts = {...(this.current.options || {})};
    if (input.value === '' || !Number.isFinite(input.valueAsNumber)) delete opts[key];
    else opts[key] = input.valueAsNumber;
    this.current.options = opts;
    setPrefs({lastOptions: opts});
    this.save();
  }

  save() {
    // Conversations without messages are not worth keeping.
    const keep = this.conversations.filter((c) => c.messages.length || c === this.current);
    if (!saveConversations(keep.filter((c) => c.messages.length))) {
      toast('Browser storage is full: delete old conversations to keep new ones.', 'error');
    }
  }

  remove(conv) {
    if (!confirm(`Delete the conversation "${conv.title}"?`)) return;
    this.conversations = this.conversations.filter((c) => c !== conv);
    this.save();
    if (conv === this.current) this.open(this.conversations[0] || this.create());
    else this.renderList();
  }

  renderList() {
    clear(this.list);
    for (const conv of this.conversations) {
      if (!conv.messages.length && conv !== this.current) continue;
      const selected = conv === this.current;
      this.list.append(h('li', {class: selected ? 'selected' : null},
        h('button', {type: 'button', class: 'conv-open', 'aria-current': selected ? 'true' : null,
          onclick: () => this.open(conv)}, conv.title),
        h('button', {type: 'button', class: 'ghost small icon', 'aria-label': `Delete conversation ${conv.title}`,
          title: 'Delete', onclick: () => this.remove(conv)}, '✕')));
    }
  }

  renderMessages() {
    clear(this.messages);
    const msgs = this.current.messages;
    this.empty.hidden = msgs.length > 0;
    msgs.forEach((m, index) => this.messages.append(this.renderMessage(m, index)));
    this.scrollDown(true);
  }

  renderMessage(m, index) {
    const msgs = this.current.messages;
    const isLast = index === msgs.length - 1;
    const body = h('div', {class: 'msg-body'});
    const li = h('li', {class: `msg ${m.role}`, dataset: {index: String(index)}},
      h('div', {class: 'msg-role'}, m.role === 'user' ? 'You' : (m.model || 'Assistant')), body);
    this.fillBody(body, m);
    if (m.role === 'assistant') {
      li.append(this.renderSources(m));
      const stats = h('div', {class: 'msg-stats'});
      this.fillStats(stats, m);
      li.append(stats);
    }
    const actions = h('div', {class: 'msg-actions'});
    const busy = Boolean(this.controller);
    if (m.role === 'user') {
      actions.append(h('button', {type: 'button', class: 'ghost small', disabled: busy,
        onclick: () => this.edit(li, index)}, 'Edit'));
    } else {
      actions.append(h('button', {type: 'button', class: 'ghost small',
        onclick: () => navigator.clipboard?.writeText(m.content).then(() => toast('Copied'))}, 'Copy'));
      if (isLast) {
        actions.append(h('button', {type: 'button', class: 'ghost small', disabled: busy,
          onclick: () => this.regenerate()}, 'Regenerate'));
      }
    }
    li.append(actions);
    return li;
  }

  fillBody(body, m) {
    clear(body);
    if (m.role === 'user') {
      body.append(h('p', {class: 'plain'}, m.content));
    } else {
      const citation = m.sources?.length ? (n) => this.citationLink(m, n) : null;
      body.append(renderMarkdown(m.content, {citation}));
      if (!m.content && !m.error && this.controller) body.append(h('span', {class: 'typing'}, 'Thinking…'));
    }
    if (m.error) body.append(h('p', {class: 'error', role: 'alert'}, m.error));
  }

  citationLink(m, n) {
    const src = m.sources[n - 1];
    if (!src) return null;
    return h('a', {href: `#${m.sourceIds?.[n - 1] || ''}`, class: 'citation', title: sourceLabel(src),
      onclick: (e) => {
        e.preventDefault();
        const target = document.getElementById(m.sourceIds?.[n - 1]);
        const details = target?.querySelector('details');
        if (details) details.open = true;
        target?.scrollIntoView({block: 'nearest'});
        target?.focus();
      }}, `[${n}]`);
  }

  renderSources(m) {
    if (!m.sources?.length) return h('div', {class: 'sources-slot', hidden: true});
    m.sourceIds = m.sources.map(() => uid('src'));
    return h('details', {class: 'sources sources-slot', open: true},
      h('summary', {}, `Sources (${m.sources.length})`),
      h('ol', {}, m.sources.map((s, k) => h('li', {id: m.sourceIds[k], tabindex: '-1'},
        h('details', {class: 'source'}, h('summary', {class: 'source-path'}, sourceLabel(s)),
          s.text ? h('blockquote', {class: 'source-text'}, String(s.text).slice(0, 1200)) : null)))));
  }

  fillStats(el, m) {
    clear(el);
    const s = m.stats;
    const parts = [];
    if (s?.eval_count && s?.eval_duration) {
      parts.push(h('span', {class: 'stat-rate'}, `${(s.eval_count / (s.eval_duration / 1e9)).toFixed(1)} tokens/s`));
    }
    if (s?.ttft_ms != null) parts.push(h('span', {class: 'stat-ttft'}, `first token ${formatDuration(s.ttft_ms / 1000)}`));
    if (s?.eval_count) parts.push(h('span', {}, `${s.eval_count} tokens`));
    if (s?.prompt_eval_count) parts.push(h('span', {}, `prompt ${s.prompt_eval_count} tokens`));
    if (m.stopped) parts.push(h('span', {class: 'stat-stopped'}, 'stopped'));
    else if (s?.done_reason === 'length') parts.push(h('span', {}, 'length limit reached'));
    parts.forEach((p, k) => {
      if (k) el.append(' · ');
      el.append(p);
    });
  }

  scrollDown(force) {
    const box = this.messages.parentElement;
    if (!box) return;
    const near = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    if (force || near) box.scrollTop = box.scrollHeight;
  }

  onKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.send();
    } else if (e.key === 'Escape' && this.controller) {
      this.stop();
    }
  }

  send() {
    const text = this.input.value.trim();
    if (!text || this.controller) return;
    if (!this.current.model) {
      toast('Install a model first (Models view).', 'error');
      return;
    }
    this.input.value = '';
    this.current.messages.push({role: 'user', content: text});
    if (this.current.title === 'New chat') this.current.title = text.length > 48 ? `${text.slice(0, 47)}…` : text;
    this.generate();
  }

  regenerate() {
    const msgs = this.current.messages;
    if (this.controller || !msgs.length || msgs[msgs.length - 1].role !== 'assistant') return;
    msgs.pop();
    this.generate();
  }

  edit(li, index) {
    const m = this.current.messages[index];
    const area = h('textarea', {rows: 3, 'aria-label': 'Edit message', value: m.content});
    const body = li.querySelector('.msg-body');
    const actions = li.querySelector('.msg-actions');
    const cancel = () => this.renderMessages();
    clear(body).append(area);
    clear(actions).append(
      h('button', {type: 'button', class: 'primary small', onclick: () => {
        const text = area.value.trim();
        if (!text || this.controller) return;
        // Everything after the edited message is dropped: the conversation continues from here.
        this.current.messages.splice(index);
        this.current.messages.push({role: 'user', content: text});
        this.generate();
      }}, 'Send'),
      h('button', {type: 'button', class: 'ghost small', onclick: cancel}, 'Cancel'));
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') cancel();
    });
    area.focus();
  }

  stop() {
    this.controller?.abort();
  }

  setBusy(busy) {
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
    this.messages.setAttribute('aria-busy', String(busy));
    this.modelSelect.disabled = busy;
  }

  async generate() {
    const conv = this.current;
    conv.updated = Date.now();
    const history = conv.messages.map((m) => ({role: m.role, content: m.content}));
    const answer = {role: 'assistant', content: '', model: conv.model};
    conv.messages.push(answer);
    const controller = new AbortController();
    this.controller = controller;
    this.setBusy(true);
    this.conversations = [conv, ...this.conversations.filter((c) => c !== conv)];
    this.renderList();
    this.renderMessages();
    const li = this.messages.lastElementChild;
    const body = li.querySelector('.msg-body');

    let messages = conv.system ? [{role: 'system', content: conv.system}, ...history] : history;
    const t0 = performance.now();
    let ttft = null;
    let pending = false;
    const paint = () => {
      pending = false;
      if (this.current === conv) {
        this.fillBody(body, answer);
        this.scrollDown(false);
      }
    };
    try {
      if (conv.kb) {
        const grounded = await kbGround(conv.kb, messages);
        messages = grounded.messages;
        if (grounded.sources.length) {
          answer.sources = grounded.sources;
          // The sources list goes under the answer now; [n] markers link to it as they stream.
          const fresh = this.renderSources(answer);
          li.querySelector('.sources-slot')?.replaceWith(fresh);
        }
      }
      const request = {model: conv.model, messages, stream: true};
      if (conv.options && Object.keys(conv.options).length) request.options = conv.options;
      await stream('/api/chat', request, (chunk) => {
        const sources = sourcesFromChunk(chunk);
        if (sources) answer.sources = sources;
        const piece = chunk.message?.content;
        if (piece) {
          if (ttft === null) ttft = performance.now() - t0;
          answer.content += piece;
          if (!pending) {
            pending = true;
            requestAnimationFrame(paint);
          }
        }
        if (chunk.done) {
          answer.stats = {
            eval_count: chunk.eval_count, eval_duration: chunk.eval_duration,
            prompt_eval_count: chunk.prompt_eval_count, total_duration: chunk.total_duration,
            done_reason: chunk.done_reason, ttft_ms: ttft,
          };
        }
      }, {signal: controller.signal});
    } catch (err) {
      if (err.name === 'AbortError') {
        answer.stopped = true;
        answer.stats = {ttft_ms: ttft};
      } else {
        answer.error = err.message;
      }
    } finally {
      this.controller = null;
      this.setBusy(false);
      conv.updated = Date.now();
      this.save();
      if (this.current === conv) {
        this.renderMessages();
        this.input.focus();
      }
    }
  }
}
