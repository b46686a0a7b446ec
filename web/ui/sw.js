// Service worker: keeps the app shell (this build's files) for offline use. Pages and assets
// are fetched from the network first (so an upgraded server shows its new UI at once) and
// served from the cache when the server cannot be reached. API calls are never cached.
const BUILD = self.__SOV_BUILD__;
const CACHE = `sov-ui-${BUILD.version}`;

self.addEventListener('install', (event) => {
  // Accept: text/html, or "/" answers with the plain-text health check instead of the page.
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(BUILD.assets.map((u) => new Request(u, {headers: {Accept: 'text/html'}})))).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('sov-ui-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()));
});

function isShell(url) {
  return url.origin === self.location.origin &&
    (url.pathname === '/' || url.pathname === '/index.html' || url.pathname === '/manifest.webmanifest' ||
     url.pathname.startsWith('/assets/'));
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (!isShell(url)) return;  // the API goes straight to the server
  const key = req.mode === 'navigate' ? '/' : url.pathname;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.ok) await cache.put(key, res.clone());
      return res;
    } catch (err) {
      const hit = await cache.match(key);
      if (hit) return hit;
      throw err;
    }
  })());
});
