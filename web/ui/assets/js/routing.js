// Routing view: where requests may go — the backends (local and upstream) with their health,
// the rules in the order they are tried, a form that explains where a request would go,
// and the audit log of every request that left the machine.
import {append, clear, field, formatRelative, h, toast} from './dom.js';
import {auditEntries, routeConfig, routeExplain} from './router_api.js';

const SINCE = [['1h', 'Last hour'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['', 'Everything']];

// Health of an upstream as the audit log shows it: the outcome of its last call.
function healthBadge(last) {
  if (!last) return h('span', {class: 'badge', title: 'No call has been sent to it yet'}, 'no calls yet');
  const ok = last.status >= 200 && last.status < 300 && !last.error;
  const when = last.time_ms ? formatRelative(new Date(last.time_ms)) : '';
  return h('span', {class: `badge ${ok ? 'ok' : 'bad'}`, title: last.error || null},
    ok ? `ok · ${when}` : `failing (${last.status || 'no answer'}) · ${when}`);
}

function ruleCondition(r) {
  const parts = [];
  if (r.min_prompt_tokens) parts.push(`prompt of ${r.min_prompt_tokens}+ tokens`);
  if (r.exceeds_local_context) parts.push('prompt longer than the local context');
  if (r.needs?.length) parts.push(`needs ${r.needs.join(', ')}`);
  if (r.keywords?.length) parts.push(`mentions ${r.keywords.map((k) => `"${k}"`).join(' or ')}`);
  if (r.match) parts.push(`matches /${r.match}/`);
  if (r.hint) parts.push(`hint "${r.hint}"`);
  return parts.join('; ') || 'always';
}

export class RoutingView {
  constructor() {
    this.title = 'Routing';
    this.build();
  }

  build() {
    const th = (t, cls) => h('th', {scope: 'col', class: cls}, t);
    this.unavailable = h('p', {class: 'notice', hidden: true}, 'This server has no router API yet.');
    this.summary = h('p', {class: 'routing-summary'});
    this.backendsBody = h('tbody');
    this.rulesBody = h('tbody');
    this.auditBody = h('tbody');
    this.auditEmpty = h('p', {class: 'muted', hidden: true}, 'Nothing has left this machine in this period.');
    this.since = h('select', {name: 'audit-since', onchange: () => this.refreshAudit()},
      SINCE.map(([v, label]) => h('option', {value: v}, label)));
    this.since.value = '24h';
    this.explainPrompt = h('textarea', {name: 'explain-prompt', rows: 2, required: true});
    this.explainModel = h('input', {name: 'explain-model', value: 'auto', autocomplete: 'off', spellcheck: false});
    this.explainOut = h('div', {class: 'explain-result', 'aria-live': 'polite'});
    const explainForm = h('form', {class: 'stack', onsubmit: (e) => {
      e.preventDefault();
      this.explain();
    }}, field('Prompt', this.explainPrompt), h('div', {class: 'row'}, field('Model', this.explainModel),
      h('button', {type: 'submit'}, 'Explain')), this.explainOut);

    this.content = h('div', {},
      this.summary,
      h('h2', {id: 'backends-title'}, 'Backends'),
      h('div', {class: 'table-wrap'}, h('table', {class: 'backends', 'aria-labelledby': 'backends-title'},
        h('thead', {}, h('tr', {}, th('Name'), th('Where'), th('Model'), th('Private data', 'optional'),
          th('Price / M tokens', 'optional'), th('Health'))), this.backendsBody)),
      h('h2', {id: 'rules-title'}, 'Rules (tried in order)'),
      h('div', {class: 'table-wrap'}, h('table', {class: 'rules', 'aria-labelledby': 'rules-title'},
        h('thead', {}, h('tr', {}, th('#', 'num'), th('Name'), th('When'), th('Goes to'))), this.rulesBody)),
      h('div', {class: 'card'}, h('h2', {}, 'Where would a request go?'), explainForm),
      h('div', {class: 'row spread'}, h('h2', {id: 'audit-title'}, 'Audit log: what left this machine'),
        h('div', {class: 'row'}, field('Period', this.since),
          h('button', {type: 'button', onclick: () => this.refreshAudit()}, 'Refresh'))),
      h('div', {class: 'table-wrap'}, h('table', {class: 'audit', 'aria-labelledby': 'audit-title'},
        h('thead', {}, h('tr', {}, th('Time'), th('Backend'), th('Model'), th('Rule', 'optional'), th('Status'),
          th('Tokens in / out', 'num'), th('Redactions', 'optional'), th('Cost', 'num optional'),
          th('Latency', 'num optional'))), this.auditBody)),
      this.auditEmpty);
    this.el = h('section', {class: 'view routing-view', 'aria-label': 'Routing'}, h('h1', {}, 'Routing'),
      this.unavailable, this.content);
  }

  async show() {
    // Health comes from the last audited call of each upstream (over the last week).
    let recent = [];
    try {
      recent = (await auditEntries('7d')) || [];
    } catch {
      recent = [];
    }
    this.lastCalls = {};
    for (const e of recent) this.lastCalls[e.backend] ??= e;
    await Promise.all([this.refreshConfig(this.lastCalls), this.refreshAudit()]);
  }

  settingsChanged() {
    this.show();
  }

  async refreshConfig(lastCalls = this.lastCalls || {}) {
    let cfg;
    try {
      cfg = await routeConfig();
    } catch (err) {
      toast(`Cannot read the routing configuration: ${err.message}`, 'error');
      return;
    }
    this.unavailable.hidden = cfg !== null;
    this.content.hidden = cfg === null;
    if (!cfg) return;
    this.cfg = cfg;
    clear(this.summary);
    if (!cfg.enabled) {
      this.summary.append('No routing configuration: every request runs on this machine. ',
        'Add upstreams and rules in ', h('code', {}, '~/.sovereign/config.toml'), ' (see docs/api.md).');
    } else {
      if (cfg.offline) this.summary.append(h('span', {class: 'badge ok'}, 'offline: nothing leaves this machine'), ' ');
      this.summary.append(`Requests for "auto" go to ${cfg.default || 'local'} unless a rule says otherwise.`);
      if (cfg.source) this.summary.append(' Configuration: ', h('code', {}, cfg.source), '.');
    }
    clear(this.backendsBody);
    const local = cfg.local || {};
    this.backendsBody.append(h('tr', {dataset: {backend: 'local'}},
      h('th', {scope: 'row'}, 'local'),
      h('td', {}, 'this machine'),
      h('td', {}, local.model || 'the requested model'),
      h('td', {class: 'optional'}, 'allowed'),
      h('td', {class: 'optional'}, 'free'),
      h('td', {}, h('span', {class: 'badge ok'}, 'ok'))));
    for (const b of cfg.backends || []) {
      const price = b.price && (b.price.input || b.price.output) ? `$${b.price.input} in / $${b.price.output} out` : '';
      this.backendsBody.append(h('tr', {dataset: {backend: b.name}},
        h('th', {scope: 'row'}, b.name),
        h('td', {}, b.base_url || ''),
        h('td', {}, [b.model, ...(b.models || []).filter((m) => m !== b.model)].filter(Boolean).join(', ')),
        h('td', {class: 'optional'}, b.allow_private === false ? 'refused' : 'allowed'),
        h('td', {class: 'optional'}, price),
        h('td', {class: 'health'}, healthBadge(lastCalls[b.name]))));
    }
    clear(this.rulesBody);
    (cfg.rules || []).forEach((r, k) => {
      this.rulesBody.append(h('tr', {},
        h('td', {class: 'num'}, String(k + 1)),
        h('th', {scope: 'row'}, r.name || ''),
        h('td', {}, ruleCondition(r)),
        h('td', {}, `${r.backend}${r.model ? ` / ${r.model}` : ''}`)));
    });
    if (!(cfg.rules || []).length) this.rulesBody.append(h('tr', {}, h('td', {colspan: 4, class: 'muted'}, 'No rules.')));
  }

  async refreshAudit() {
    let entries;
    try {
      entries = await auditEntries(this.since.value);
    } catch (err) {
      toast(`Cannot read the audit log: ${err.message}`, 'error');
      return;
    }
    if (entries === null) return;
    clear(this.auditBody);
    this.auditEmpty.hidden = entries.length > 0;
    for (const e of entries) {
      const t = e.time_ms ? new Date(e.time_ms) : e.time ? new Date(e.time) : null;
      const redactions = e.redactions && Object.entries(e.redactions).map(([k, n]) => `${k} ×${n}`).join(', ');
      const ok = e.status >= 200 && e.status < 300 && !e.error;
      this.auditBody.append(h('tr', {},
        h('td', {}, t ? h('time', {datetime: t.toISOString(), title: t.toLocaleString()}, formatRelative(t)) : ''),
        h('td', {}, e.backend || ''),
        h('td', {}, e.model || ''),
        h('td', {class: 'optional'}, e.rule || ''),
        h('td', {}, h('span', {class: `badge ${ok ? 'ok' : 'bad'}`, title: e.error || null}, String(e.status || 'failed'))),
        h('td', {class: 'num'}, `${e.prompt_tokens ?? 0} / ${e.completion_tokens ?? 0}${e.tokens_estimated ? ' (est.)' : ''}`),
        h('td', {class: 'optional'}, redactions || 'none'),
        h('td', {class: 'num optional'}, e.cost_usd ? `$${Number(e.cost_usd) < 0.01 ? Number(e.cost_usd).toPrecision(2) : Number(e.cost_usd).toFixed(4)}` : ''),
        h('td', {class: 'num optional'}, e.latency_ms != null ? `${e.latency_ms} ms` : '')));
    }
  }

  async explain() {
    clear(this.explainOut);
    try {
      const decision = await routeExplain({model: this.explainModel.value.trim() || 'auto',
        messages: [{role: 'user', content: this.explainPrompt.value}]});
      append(this.explainOut, [
        h('p', {}, h('strong', {}, `→ ${decision.backend}${decision.model ? ` / ${decision.model}` : ''}`),
          decision.rule ? ` (rule: ${decision.rule})` : ''),
        decision.reason ? h('p', {}, decision.reason) : null,
        decision.refused ? h('p', {class: 'error'}, `Refused: ${decision.refused.message}`) : null,
        decision.skipped?.length ? h('ul', {}, decision.skipped.map((s) => h('li', {class: 'muted'}, String(s)))) : null]);
    } catch (err) {
      this.explainOut.append(h('p', {class: 'error'}, err.message));
    }
  }
}
