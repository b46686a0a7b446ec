// Entry point: the view switcher (#/chat, #/models, #/knowledge, #/routing), the settings
// dialog (API key), offline badge and service worker registration. Each view is built once
// and kept (hidden when not shown), so a streaming answer or a pull keeps going while the
// user looks elsewhere.
import {apiKey, setApiKey} from './api.js';
import {toast} from './dom.js';
import {ChatView} from './chat.js';
import {ModelsView} from './models.js';
import {KnowledgeView} from './knowledge.js';
import {RoutingView} from './routing.js';
import {pulls} from './pull.js';

const VIEWS = {chat: ChatView, models: ModelsView, knowledge: KnowledgeView, routing: RoutingView};
const instances = {};
const main = document.getElementById('main');

function currentName() {
  const name = (location.hash.match(/^#\/(\w+)/) || [])[1];
  return VIEWS[name] ? name : 'chat';
}

function show() {
  const name = currentName();
  for (const [n, view] of Object.entries(instances)) view.el.hidden = n !== name;
  if (!instances[name]) {
    const view = new VIEWS[name]();
    instances[name] = view;
    main.append(view.el);
  }
  instances[name].el.hidden = false;
  instances[name].show();
  for (const a of document.querySelectorAll('.views-nav a')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${instances[name].title} · Sovereign`;
}

function setupSettings() {
  const dialog = document.getElementById('settings-dialog');
  const input = document.getElementById('api-key');
  const open = () => {
    input.value = apiKey();
    dialog.showModal();
    input.focus();
  };
  document.getElementById('settings-button').addEventListener('click', open);
  document.getElementById('settings-forget').addEventListener('click', () => {
    setApiKey('');
    input.value = '';
    dialog.close();
    toast('API key forgotten');
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'save') {
      setApiKey(input.value.trim());
      toast('Settings saved');
      for (const view of Object.values(instances)) view.settingsChanged?.();
      show();
    }
  });
  let asked = false;
  window.addEventListener('sov:unauthorized', () => {
    if (asked || dialog.open) return;
    asked = true;
    toast('This server needs an API key: enter it in Settings.', 'error');
    open();
  });
}

function setupOffline() {
  const badge = document.getElementById('offline-badge');
  // Offline: the browser says so, or the server did not answer the last request.
  let reachable = true;
  const update = () => {
    badge.hidden = navigator.onLine && reachable;
    badge.textContent = navigator.onLine ? 'server unreachable' : 'offline';
  };
  window.addEventListener('online', update);
  window.addEventListener('offline', update);
  window.addEventListener('sov:reachable', (e) => {
    reachable = e.detail;
    update();
  });
  update();
}

setupSettings();
setupOffline();
pulls.resume();  // a pull a previous page started goes on
window.addEventListener('hashchange', show);
show();

if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register('/sw.js').catch((err) => console.warn('service worker:', err));
}

