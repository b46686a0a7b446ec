// Knowledge view: knowledge bases on this machine — create one (optionally with an
// embedding model), add a folder with live indexing progress, search with highlighted
// snippets, and ask a question answered with numbered, clickable sources.
import {api, stream} from './api.js';
import {append, clear, field, formatBytes, h, toast, uid} from './dom.js';
import {renderMarkdown} from './markdown.js';
import {kbAdd, kbBases, kbCreate, kbDelete, kbGround, kbSearch, kbStatus, sourceLabel, sourcesFromChunk}
  from './kb_api.js';

// Text with every occurrence of the query's words wrapped in <mark> (as DOM nodes).
export function highlightTerms(text, query) {
  const frag = document.createDocumentFragment();
  const terms = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) || [])];
  if (!terms.length) {
    frag.append(text);
    return frag;
  }
  const re = new RegExp(terms.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'giu');
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) frag.append(text.slice(last, m.index));
    frag.append(h('mark', {}, m[0]));
    last = m.index + m[0].length;
  }
  if (last < text.length) frag.append(text.slice(last));
  return frag;
}

export class KnowledgeView {
  constructor() {
    this.title = 'Knowledge';
    this.selected = null;
    this.build();
  }

  build() {
    this.unavailable = h('p', {class: 'notice', hidden: true},
      'This server has no knowledge-base API yet.');
    this.list = h('ul', {class: 'conv-list kb-list', 'aria-label': 'Knowledge bases'});
    this.nameInput = h('input', {name: 'kb-name', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._-]{0,63}',
      autocomplete: 'off', spellcheck: false});
    this.embedSelect = h('select', {name: 'kb-embed-model'}, h('option', {value: ''}, 'None (keyword search)'));
    const createForm = h('form', {class: 'card stack', 'aria-labelledby': 'kb-create-title', onsubmit: (e) => {
      e.preventDefault();
      this.create();
    }},
    h('h2', {id: 'kb-create-title'}, 'New knowledge base'),
    field('Name', this.nameInput, 'Letters, digits, ".", "_" and "-".'),
    field('Embedding model', this.embedSelect, 'Without one, search is by keywords only.'),
    h('button', {type: 'submit', class: 'primary'}, 'Create'));

    this.detail = h('div', {class: 'stack kb-detail'});
    this.el = h('section', {class: 'view knowledge-view', 'aria-label': 'Knowledge'},
      h('h1', {}, 'Knowledge'),
      this.unavailable,
      h('div', {class: 'two-col'},
        h('div', {class: 'stack'}, h('h2', {id: 'kb-list-title'}, 'Knowledge bases'), this.list, createForm),
        this.detail));
  }

  async show() {
    await Promise.all([this.refresh(), this.loadModels()]);
  }

  settingsChanged() {
    this.show();
  }

  async loadModels() {
    try {
      const {models = []} = await api('/api/tags');
      const keep = this.embedSelect.value;
      clear(this.embedSelect).append(h('option', {value: ''}, 'None (keyword search)'));
      for (const m of models) this.embedSelect.append(h('option', {value: m.name}, m.name));
      this.embedSelect.value = keep;
      this.models = models.map((m) => m.name);
    } catch {
      this.models = [];
    }
  }

  async refresh() {
    let bases;
    try {
      bases = await kbBases();
    } catch (err) {
      toast(`Cannot list knowledge bases: ${err.message}`, 'error');
      return;
    }
    this.unavailable.hidden = bases !== null;
    this.el.querySelector('.two-col').hidden = bases === null;
    if (bases === null) return;
    clear(this.list);
    if (!bases.length) this.list.append(h('li', {class: 'muted'}, 'None yet.'));
    for (const b of bases) {
      const selected = b.name === this.selected;
      this.list.append(h('li', {class: selected ? 'selected' : null},
        h('button', {type: 'button', class: 'conv-open', 'aria-current': selected ? 'true' : null,
          onclick: () => this.select(b.name)}, b.name)));
    }
    if (!this.selected && bases.length) this.select(bases[0].name);
    else if (this.selected && !bases.some((b) => b.name === this.selected)) {
      this.selected = null;
      clear(this.detail);
    }
  }

  async create() {
    const name = this.nameInput.value.trim();
    try {
      await kbCreate(name, this.embedSelect.value);
      toast(`Knowledge base ${name} created`);
      this.nameInput.value = '';
      this.selected = name;
      await this.refresh();
      this.select(name);
    } catch (err) {
      toast(`Cannot create ${name}: ${err.message}`, 'error');
    }
  }

  select(name) {
    this.selected = name;
    for (const b of this.list.querySelectorAll('.conv-open')) {
      const on = b.textContent === name;
      b.parentElement.classList.toggle('selected', on);
      if (on) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
    this.renderDetail(name);
  }

  renderDetail(name) {
    clear(this.detail);
    const statusBox = h('dl', {class: 'kb-status'});
    const progressStatus = h('div', {class: 'progress-status', 'aria-live': 'polite'});
    const bar = h('progress', {max: 1, value: 0, 'aria-label': 'Indexing progress'});
    const progressText = h('div', {class: 'progress-text'});
    const progress = h('div', {class: 'progress kb-progress', hidden: true}, progressStatus, bar, progressText);

    const pathInput = h('input', {name: 'kb-path', required: true, placeholder: '/home/me/notes', autocomplete: 'off',
      spellcheck: false});
    const addButton = h('button', {type: 'submit', class: 'primary'}, 'Add');
    const addForm = h('form', {class: 'row', onsubmit: async (e) => {
      e.preventDefault();
      addButton.disabled = true;
      progress.hidden = false;
      progress.dataset.state = 'running';
      try {
        const summary = await kbAdd(name, [pathInput.value.trim()], (p) => {
          progressStatus.textContent = p.phase ? `${p.phase}${p.path ? `: ${p.path}` : ''}` : (p.status || '');
          if (p.total > 0) {
            bar.max = p.total;
            bar.value = p.done || 0;
            progressText.textContent = `${p.done || 0} / ${p.total} files`;
          }
        });
        progress.dataset.state = 'done';
        bar.value = bar.max;
        const parts = ['added', 'updated', 'renamed', 'removed', 'unchanged']
          .filter((k) => summary[k]).map((k) => `${summary[k]} ${k}`);
        if (summary.chunks != null) parts.push(`${summary.chunks} chunks`);
        const skipped = summary.skipped?.length ?? summary.skipped;
        if (skipped) parts.push(`${skipped} skipped`);
        progressStatus.textContent = `Done: ${parts.join(', ') || 'nothing changed'}`;
        progressText.textContent = '';
      } catch (err) {
        progress.dataset.state = 'error';
        progressStatus.textContent = `Failed: ${err.message}`;
      }
      addButton.disabled = false;
      this.fillStatus(name, statusBox);
    }}, field('Folder or file on this machine', pathInput), addButton);

    const query = h('input', {name: 'kb-query', type: 'search', required: true, autocomplete: 'off'});
    const mode = h('select', {name: 'kb-mode'}, h('option', {value: ''}, 'Best available'),
      h('option', {value: 'keyword'}, 'Keyword'), h('option', {value: 'vector'}, 'Vector'),
      h('option', {value: 'hybrid'}, 'Hybrid'));
    const results = h('ol', {class: 'results', 'aria-label': 'Search results'});
    const searchForm = h('form', {class: 'row', role: 'search', onsubmit: async (e) => {
      e.preventDefault();
      clear(results);
      try {
        const hits = await kbSearch(name, query.value, {mode: mode.value || undefined});
        if (!hits.length) results.append(h('li', {class: 'muted'}, 'No results.'));
        for (const hit of hits) {
          results.append(h('li', {class: 'result'},
            h('div', {class: 'source-path'}, sourceLabel(hit),
              hit.score != null ? h('span', {class: 'muted'}, ` · score ${Number(hit.score).toFixed(3)}`) : null),
            hit.heading ? h('div', {class: 'muted'}, hit.heading) : null,
            h('p', {class: 'snippet'}, highlightTerms(String(hit.text || '').slice(0, 600), query.value))));
        }
      } catch (err) {
        results.append(h('li', {class: 'error'}, err.message));
      }
    }}, field('Search', query), field('Mode', mode), h('button', {type: 'submit'}, 'Search'));

    const question = h('input', {name: 'kb-question', required: true, autocomplete: 'off'});
    const model = h('select', {name: 'kb-ask-model'}, (this.models || []).map((m) => h('option', {value: m}, m)));
    const answer = h('div', {class: 'kb-answer', 'aria-live': 'polite'});
    const askButton = h('button', {type: 'submit', class: 'primary'}, 'Ask');
    const askForm = h('form', {class: 'row', onsubmit: (e) => {
      e.preventDefault();
      this.ask(name, model.value, question.value, answer, askButton);
    }}, field('Question', question), field('Model', model), askButton);

    this.detail.append(
      h('div', {class: 'card'},
        h('div', {class: 'row spread'}, h('h2', {}, name),
          h('button', {type: 'button', class: 'small danger', 'aria-label': `Delete knowledge base ${name}`,
            onclick: () => this.remove(name)}, 'Delete')),
        statusBox, addForm, progress),
      h('div', {class: 'card'}, h('h2', {}, 'Search'), searchForm, results),
      h('div', {class: 'card'}, h('h2', {}, 'Ask'), askForm, answer));
    this.fillStatus(name, statusBox);
  }

  async fillStatus(name, box) {
    try {
      const s = await kbStatus(name);
      clear(box);
      const row = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
      append(box, [
        row('Documents', String(s.documents ?? '?')),
        row('Chunks', String(s.chunks ?? '?')),
        row('Size', formatBytes(s.bytes)),
        row('Embedding model', s.embed_model || s.settings?.embed_model || 'none (keyword search)')]);
      if (s.chunks_embedded != null && (s.embed_model || s.settings?.embed_model)) {
        append(box, row('Embedded', `${s.chunks_embedded} / ${s.chunks}`));
      }
    } catch (err) {
      clear(box).append(h('p', {class: 'error'}, err.message));
    }
  }

  async ask(name, model, question, box, button) {
    if (!model) {
      toast('Install a model first (Models view).', 'error');
      return;
    }
    button.disabled = true;
    let content = '';
    let sources = [];
    let ids = [];
    const body = h('div', {class: 'msg-body'});
    const sourcesBox = h('div', {class: 'kb-sources'});
    clear(box).append(body, sourcesBox);
    const citation = (n) => (sources[n - 1]
      ? h('a', {href: `#${ids[n - 1]}`, class: 'citation', title: sourceLabel(sources[n - 1]), onclick: (e) => {
        e.preventDefault();
        const target = document.getElementById(ids[n - 1]);
        const details = target?.querySelector('details');
        if (details) details.open = true;
        target?.focus();
      }}, `[${n}]`) : null);
    const showSources = () => {
      ids = sources.map(() => uid('kbsrc'));
      clear(sourcesBox);
      if (!sources.length) return;
      sourcesBox.append(h('details', {class: 'sources', open: true}, h('summary', {}, `Sources (${sources.length})`),
        h('ol', {}, sources.map((s, k) => h('li', {id: ids[k], tabindex: '-1'},
          h('details', {class: 'source'}, h('summary', {class: 'source-path'}, sourceLabel(s)),
            h('p', {class: 'snippet'}, highlightTerms(String(s.text || '').slice(0, 1200), question))))))));
    };
    const paint = () => clear(body).append(renderMarkdown(content, {citation: sources.length ? citation : null}));
    try {
      const grounded = await kbGround(name, [{role: 'user', content: question}]);
      sources = grounded.sources;
      showSources();
      if (!sources.length) body.append(h('p', {class: 'muted'}, 'Nothing in this knowledge base matches the question.'));
      await stream('/api/chat', {model, stream: true, messages: grounded.messages}, (chunk) => {
        const fromServer = sourcesFromChunk(chunk);
        if (fromServer) {
          sources = fromServer;
          showSources();
        }
        if (chunk.message?.content) {
          content += chunk.message.content;
          paint();
        }
      });
      box.dataset.state = 'done';
    } catch (err) {
      box.append(h('p', {class: 'error', role: 'alert'}, err.message));
      box.dataset.state = 'error';
    }
    button.disabled = false;
  }

  async remove(name) {
    if (!confirm(`Delete the knowledge base ${name}? Its index is removed; your files are not touched.`)) return;
    try {
      await kbDelete(name);
      toast(`${name} deleted`);
    } catch (err) {
      toast(`Cannot delete ${name}: ${err.message}`, 'error');
    }
    this.selected = null;
    clear(this.detail);
    this.refresh();
  }
}
