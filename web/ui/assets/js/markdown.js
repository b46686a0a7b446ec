// A small Markdown renderer for model answers: headings, paragraphs, emphasis, inline code,
// fenced code blocks (highlighted, with a copy button), lists (nested), block quotes, tables,
// rules, links and citations like [1]. It builds DOM nodes directly; every piece of text
// becomes a text node, so nothing in the input is ever interpreted as HTML. Links are kept
// only for http(s) and mailto URLs. Incomplete input (a stream in progress) renders as far
// as it goes: an unclosed code fence is a code block.
import {h} from './dom.js';
import {highlight} from './highlight.js';

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( *)([-*+]|\d{1,9}[.)])(\s+|$)(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

export function safeUrl(url) {
  const u = url.trim();
  if (/^(https?:|mailto:)/i.test(u)) return u;
  if (u.startsWith('#')) return u;
  return null;
}

// Renders `text`; `options.citation(n)` may return a node for the citation marker [n].
export function renderMarkdown(text, options = {}) {
  const frag = document.createDocumentFragment();
  renderBlocks(text.replace(/\r\n?/g, '\n').split('\n'), frag, options);
  return frag;
}

function isBlockStart(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || ITEM.test(line);
}

function renderBlocks(lines, parent, options) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    let m;
    if ((m = FENCE.exec(line))) {
      const fence = m[1];
      const lang = m[2];
      const body = [];
      i += 1;
      while (i < lines.length && !(lines[i].trim().startsWith(fence[0].repeat(fence.length)) &&
                                   /^[`~]+$/.test(lines[i].trim()))) {
        body.push(lines[i]);
        i += 1;
      }
      i += 1;  // the closing fence (or past the end)
      parent.append(codeBlock(body.join('\n'), lang));
      continue;
    }
    if ((m = HEADING.exec(line))) {
      parent.append(inlineInto(h(`h${Math.min(6, m[1].length + 2)}`), m[2], options));
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      parent.append(h('hr'));
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]))) {
        body.push(m[1]);
        i += 1;
      }
      const q = h('blockquote');
      renderBlocks(body, q, options);
      parent.append(q);
      continue;
    }
    if ((m = ITEM.exec(line))) {
      i = renderList(lines, i, parent, options);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      i = renderTable(lines, i, parent, options);
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !(para.length && isBlockStart(lines[i]))) {
      para.push(lines[i]);
      i += 1;
    }
    parent.append(inlineInto(h('p'), para.join('\n'), options));
  }
}

function renderList(lines, start, parent, options) {
  const first = ITEM.exec(lines[start]);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const list = ordered ? h('ol') : h('ul');
  if (ordered && parseInt(first[2], 10) !== 1) list.start = parseInt(first[2], 10);
  let i = start;
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]);
    if (!m || m[1].length !== indent || /\d/.test(m[2]) !== ordered) break;
    const width = m[1].length + m[2].length + Math.max(1, m[3].length);
    const body = [m[4]];
    i += 1;
    // Continuation: indented lines, or blank lines followed by indented ones.
    while (i < lines.length) {
      const l = lines[i];
      const lead = l.length - l.trimStart().length;
      if (l.trim() && lead > indent) {
        body.push(l.slice(Math.min(lead, width)));
        i += 1;
      } else if (!l.trim() && i + 1 < lines.length && lines[i + 1].trim() &&
                 lines[i + 1].length - lines[i + 1].trimStart().length > indent) {
        body.push('');
        i += 1;
      } else if (l.trim() && lead <= indent && !isBlockStart(l) && body[body.length - 1].trim()) {
        body.push(l.trim());  // lazy continuation of the item's paragraph
        i += 1;
      } else {
        break;
      }
    }
    const li = h('li');
    if (body.length === 1 || !body.slice(1).some((l) => l.trim())) {
      inlineInto(li, body[0], options);  // tight item: no <p>
    } else {
      renderBlocks(body, li, options);
    }
    list.append(li);
    // A blank line between items keeps the list going.
    if (i + 1 < lines.length && !lines[i]?.trim() && ITEM.test(lines[i + 1]) &&
        ITEM.exec(lines[i + 1])[1].length === indent) {
      i += 1;
    }
  }
  parent.append(list);
  return i;
}

function cells(line) {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  return s.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

function renderTable(lines, start, parent, options) {
  const head = cells(lines[start]);
  const aligns = cells(lines[start + 1]).map((c) =>
    c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : null);
  const thead = h('thead', {}, h('tr', {}, head.map((c, k) =>
    inlineInto(h('th', {scope: 'col', class: aligns[k] ? `align-${aligns[k]}` : null}), c, options))));
  const tbody = h('tbody');
  let i = start + 2;
  while (i < lines.length && lines[i].trim() && lines[i].includes('|')) {
    const row = cells(lines[i]);
    tbody.append(h('tr', {}, head.map((_, k) =>
      inlineInto(h('td', {class: aligns[k] ? `align-${aligns[k]}` : null}), row[k] ?? '', options))));
    i += 1;
  }
  parent.append(h('div', {class: 'table-wrap'}, h('table', {}, thead, tbody)));
  return i;
}

function codeBlock(code, lang) {
  const codeEl = h('code', {class: lang ? `language-${lang}` : null});
  codeEl.append(highlight(code, lang));
  const copy = h('button', {type: 'button', class: 'copy-code ghost small', 'aria-label': 'Copy code'}, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(code);
      copy.textContent = 'Copied';
    } catch {
      copy.textContent = 'Copy failed';
    }
    setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
  });
  return h('div', {class: 'code-block'},
    h('div', {class: 'code-head'}, h('span', {class: 'code-lang'}, lang || 'text'), copy),
    h('pre', {tabindex: '0'}, codeEl));
}

// Appends the inline content of `text` to `el` and returns `el`.
export function inlineInto(el, text, options = {}) {
  parseInline(text, el, options);
  return el;
}

const URL_RE = /^https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"*_~]/;

function parseInline(src, parent, options) {
  let text = '';
  const flush = () => {
    if (text) parent.append(text);
    text = '';
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    const rest = src.slice(i);
    let m;
    if (ch === '\\' && i + 1 < src.length && /[!-\/:-@[-`{-~]/.test(src[i + 1])) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (ch === '\\' && src[i + 1] === '\n') {
      flush();
      parent.append(h('br'));
      i += 2;
      continue;
    }
    if (ch === '\n') {
      if (text.endsWith('  ')) {
        text = text.trimEnd();
        flush();
        parent.append(h('br'));
      } else {
        text += '\n';
      }
      i += 1;
      continue;
    }
    if (ch === '`' && (m = /^(`+)([\s\S]*?[^`])\1(?!`)/.exec(rest))) {
      flush();
      let code = m[2].replace(/\n/g, ' ');
      if (/^ .* $/.test(code)) code = code.slice(1, -1);
      parent.append(h('code', {}, code));
      i += m[0].length;
      continue;
    }
    if ((ch === '*' || ch === '_') && src[i + 1] === ch &&
        (m = (ch === '*' ? /^\*\*(?=\S)([\s\S]*?\S)\*\*/ : /^__(?=\S)([\s\S]*?\S)__(?!\w)/).exec(rest))) {
      flush();
      parent.append(inlineInto(h('strong'), m[1], options));
      i += m[0].length;
      continue;
    }
    if ((ch === '*' || (ch === '_' && !/\w/.test(src[i - 1] || ''))) &&
        (m = (ch === '*' ? /^\*(?=[^\s*])([\s\S]*?[^\s*])\*(?!\*)/ : /^_(?=\S)([\s\S]*?\S)_(?!\w)/).exec(rest))) {
      flush();
      parent.append(inlineInto(h('em'), m[1], options));
      i += m[0].length;
      continue;
    }
    if (ch === '~' && (m = /^~~(?=\S)([\s\S]*?\S)~~/.exec(rest))) {
      flush();
      parent.append(inlineInto(h('del'), m[1], options));
      i += m[0].length;
      continue;
    }
    if (ch === '[') {
      if ((m = /^\[([^\]\n]*)\]\(\s*<?([^\s<>)]*)>?(?:\s+"[^"]*")?\s*\)/.exec(rest))) {
        const href = safeUrl(m[2]);
        flush();
        if (href) {
          const external = !href.startsWith('#');
          parent.append(inlineInto(h('a', {href, rel: external ? 'noopener noreferrer' : null,
            target: external ? '_blank' : null}), m[1] || m[2], options));
        } else {
          parseInline(m[1], parent, options);
        }
        i += m[0].length;
        continue;
      }
      if (options.citation && (m = /^\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/.exec(rest))) {
        const nodes = m[1].split(',').map((n) => options.citation(parseInt(n, 10)));
        if (nodes.every(Boolean)) {
          flush();
          nodes.forEach((node) => parent.append(node));
          i += m[0].length;
          continue;
        }
      }
    }
    if (ch === '<' && (m = /^<(https?:\/\/[^\s<>]+)>/.exec(rest))) {
      flush();
      parent.append(h('a', {href: m[1], rel: 'noopener noreferrer', target: '_blank'}, m[1]));
      i += m[0].length;
      continue;
    }
    if (ch === 'h' && !/\w/.test(src[i - 1] || '') && (m = URL_RE.exec(rest))) {
      flush();
      parent.append(h('a', {href: m[0], rel: 'noopener noreferrer', target: '_blank'}, m[0]));
      i += m[0].length;
      continue;
    }
    text += ch;
    i += 1;
  }
  flush();
}
