// Conversations and preferences kept in this browser (localStorage). Conversations never
// leave the machine: the server stores nothing about them.

const CONVERSATIONS = 'sov.conversations';
const PREFS = 'sov.prefs';

function read(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key));
    return v ?? fallback;
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;  // quota exceeded: keep working in memory
  }
}

export function loadConversations() {
  const list = read(CONVERSATIONS, []);
  return Array.isArray(list) ? list.filter((c) => c && c.id && Array.isArray(c.messages)) : [];
}

export function saveConversations(list) {
  return write(CONVERSATIONS, list);
}

export function newConversation(defaults = {}) {
  return {
    id: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    title: 'New chat',
    created: Date.now(),
    updated: Date.now(),
    model: defaults.model || '',
    system: defaults.system || '',
    options: {...(defaults.options || {})},
    kb: '',
    messages: [],
  };
}

export function prefs() {
  return read(PREFS, {});
}

export function setPrefs(patch) {
  write(PREFS, {...prefs(), ...patch});
}
