// A small syntax highlighter: a single-pass lexer per language family that marks keywords,
// strings, comments, numbers, function names and (for markup) tags. It returns DOM nodes
// (text nodes inside <span class="tok-...">), never HTML strings.

const C_LIKE_COMMENTS = {line: ['//'], block: [['/*', '*/']]};
const HASH_COMMENTS = {line: ['#'], block: []};

function words(s) {
  return new Set(s.split(/\s+/).filter(Boolean));
}

const LANGS = {
  js: {
    ...C_LIKE_COMMENTS, strings: ['"', "'", '`'],
    keywords: words(`break case catch class const continue debugger default delete do else export extends finally
      for function if import in instanceof let new return super switch this throw try typeof var void while with
      yield async await of static get set null undefined true false NaN Infinity interface type enum implements
      private public protected readonly declare namespace abstract as from`),
  },
  python: {
    ...HASH_COMMENTS, strings: ['"""', "'''", '"', "'"],
    keywords: words(`False None True and as assert async await break class continue def del elif else except
      finally for from global if import in is lambda nonlocal not or pass raise return try while with yield
      match case self print len range int str float list dict set tuple bool`),
  },
  c: {
    ...C_LIKE_COMMENTS, strings: ['"', "'"], preprocessor: true,
    keywords: words(`auto bool break case catch char class const constexpr continue default delete do double else
      enum explicit extern false float for friend goto if inline int long namespace new noexcept nullptr operator
      private protected public register return short signed sizeof static static_cast struct switch template this
      throw true try typedef typename union unsigned using virtual void volatile while size_t uint8_t uint32_t
      uint64_t int32_t int64_t std string vector auto override final co_await co_return consteval`),
  },
  rust: {
    ...C_LIKE_COMMENTS, strings: ['"'],
    keywords: words(`as async await break const continue crate dyn else enum extern false fn for if impl in let loop
      match mod move mut pub ref return self Self static struct super trait true type unsafe use where while
      i8 i16 i32 i64 u8 u16 u32 u64 usize isize f32 f64 bool char str String Vec Option Some None Result Ok Err`),
  },
  go: {
    ...C_LIKE_COMMENTS, strings: ['"', '`', "'"],
    keywords: words(`break case chan const continue default defer else fallthrough for func go goto if import
      interface map package range return select struct switch type var nil true false int int64 string error byte
      rune float64 bool make len append`),
  },
  java: {
    ...C_LIKE_COMMENTS, strings: ['"', "'"],
    keywords: words(`abstract boolean break byte case catch char class const continue default do double else enum
      extends final finally float for if implements import instanceof int interface long native new null package
      private protected public return short static super switch synchronized this throw throws try void volatile
      while true false var val fun when object override string String`),
  },
  shell: {
    ...HASH_COMMENTS, strings: ['"', "'"],
    keywords: words(`if then else elif fi for while until do done case esac function in return export local set
      unset echo cd exit source sudo curl make cmake git sov`),
  },
  sql: {
    line: ['--'], block: [['/*', '*/']], strings: ["'", '"'], caseInsensitive: true,
    keywords: words(`select from where insert into values update set delete create table index view drop alter
      join left right inner outer on group by order having limit offset as and or not null is in like between
      distinct union all primary key foreign references default integer text real blob`),
  },
  json: {line: [], block: [], strings: ['"'], keywords: words('true false null')},
  yaml: {...HASH_COMMENTS, strings: ['"', "'"], keywords: words('true false null yes no on off')},
  css: {line: [], block: [['/*', '*/']], strings: ['"', "'"], keywords: words('important inherit initial none auto')},
  markup: {markup: true},
};

const ALIASES = {
  javascript: 'js', mjs: 'js', jsx: 'js', ts: 'js', typescript: 'js', tsx: 'js', node: 'js',
  py: 'python', python3: 'python',
  h: 'c', cpp: 'c', 'c++': 'c', cc: 'c', cxx: 'c', hpp: 'c', cs: 'java', csharp: 'java', kotlin: 'java',
  kt: 'java', swift: 'java', scala: 'java',
  rs: 'rust', golang: 'go',
  sh: 'shell', bash: 'shell', zsh: 'shell', console: 'shell', shellsession: 'shell',
  yml: 'yaml', toml: 'yaml', ini: 'yaml',
  html: 'markup', xml: 'markup', svg: 'markup', vue: 'markup',
  scss: 'css', less: 'css',
  jsonc: 'json', json5: 'json',
};

export function languageOf(name) {
  const n = (name || '').toLowerCase().trim();
  return LANGS[n] ? n : ALIASES[n] || null;
}

function span(cls, text) {
  const s = document.createElement('span');
  s.className = `tok-${cls}`;
  s.textContent = text;
  return s;
}

function highlightMarkup(code, out) {
  const re = /(<!--[\s\S]*?(?:-->|$))|(<\/?[A-Za-z][\w:-]*)|("[^"]*"|'[^']*')|(\/?>)/g;
  let last = 0;
  let inTag = false;
  for (const m of code.matchAll(re)) {
    if (m[3] && !inTag) continue;  // quotes outside tags are text
    if (m.index > last) out.append(code.slice(last, m.index));
    if (m[1]) out.append(span('com', m[1]));
    else if (m[2]) {
      out.append(span('kw', m[2]));
      inTag = true;
    } else if (m[3]) out.append(span('str', m[3]));
    else {
      out.append(span('kw', m[4]));
      inTag = false;
    }
    last = m.index + m[0].length;
  }
  if (last < code.length) out.append(code.slice(last));
}

// Returns a DocumentFragment with the highlighted code; plain text for unknown languages.
export function highlight(code, langName) {
  const out = document.createDocumentFragment();
  const key = languageOf(langName);
  if (!key) {
    out.append(code);
    return out;
  }
  const lang = LANGS[key];
  if (lang.markup) {
    highlightMarkup(code, out);
    return out;
  }
  let text = '';
  const flush = () => {
    if (text) out.append(text);
    text = '';
  };
  const n = code.length;
  let i = 0;
  let lineStart = true;
  while (i < n) {
    const ch = code[i];
    // Comments.
    const line = lang.line.find((p) => code.startsWith(p, i));
    if (line && !(key === 'shell' && i > 0 && /[\w$]/.test(code[i - 1]))) {
      const end = code.indexOf('\n', i);
      flush();
      out.append(span('com', code.slice(i, end < 0 ? n : end)));
      i = end < 0 ? n : end;
      continue;
    }
    const block = lang.block.find(([open]) => code.startsWith(open, i));
    if (block) {
      const end = code.indexOf(block[1], i + block[0].length);
      const stop = end < 0 ? n : end + block[1].length;
      flush();
      out.append(span('com', code.slice(i, stop)));
      i = stop;
      continue;
    }
    if (lang.preprocessor && lineStart && ch === '#') {
      const end = code.indexOf('\n', i);
      flush();
      out.append(span('meta', code.slice(i, end < 0 ? n : end)));
      i = end < 0 ? n : end;
      continue;
    }
    // Strings (no newline inside except for backticks and triple quotes).
    const quote = lang.strings.find((q) => code.startsWith(q, i));
    if (quote) {
      const multiline = quote.length === 3 || quote === '`';
      let j = i + quote.length;
      while (j < n && !code.startsWith(quote, j)) {
        if (code[j] === '\\') j += 1;
        else if (code[j] === '\n' && !multiline) break;
        j += 1;
      }
      const stop = Math.min(n, code.startsWith(quote, j) ? j + quote.length : j);
      flush();
      out.append(span('str', code.slice(i, stop)));
      i = stop;
      lineStart = false;
      continue;
    }
    if (/[0-9]/.test(ch) && !/[\w$]/.test(code[i - 1] || '')) {
      const m = /^(0x[0-9a-fA-F_]+|\d[\d_]*(\.\d+)?([eE][+-]?\d+)?)[a-zA-Z]*/.exec(code.slice(i, i + 64));
      flush();
      out.append(span('num', m[0]));
      i += m[0].length;
      lineStart = false;
      continue;
    }
    if (/[A-Za-z_$]/.test(ch)) {
      const m = /^[A-Za-z_$][\w$]*/.exec(code.slice(i, i + 128));
      const word = m[0];
      const kw = lang.keywords.has(lang.caseInsensitive ? word.toLowerCase() : word);
      flush();
      if (kw) out.append(span('kw', word));
      else if (code[i + word.length] === '(') out.append(span('fn', word));
      else out.append(word);
      i += word.length;
      lineStart = false;
      continue;
    }
    text += ch;
    if (ch === '\n') lineStart = true;
    else if (ch !== ' ' && ch !== '\t') lineStart = false;
    i += 1;
  }
  flush();
  return out;
}
