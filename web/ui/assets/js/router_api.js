// The router's API (docs/api.md) as the UI uses it: GET /api/route (backends and rules;
// {"enabled": false} without a routing config), POST /api/route/explain (where a request
// would go) and GET /api/audit?since=24h (what left the machine). Every endpoint path and
// field name the UI depends on is in this file.
import {api, ApiError} from './api.js';

function notThere(err) {
  return err instanceof ApiError && (err.status === 404 || err.status === 405);
}

// The routing configuration, or null when this server has no router API.
export async function routeConfig() {
  try {
    return await api('/api/route');
  } catch (err) {
    if (notThere(err)) return null;
    throw err;
  }
}

// The decision for a request: {backend, model, rule, reason, skipped, refused?}.
export function routeExplain(request) {
  return api('/api/route/explain', {method: 'POST', body: request});
}

// Audit entries since `since` ("1h", "24h", "7d"; "" for all), newest first; null without
// the API.
export async function auditEntries(since) {
  const q = since ? `?since=${encodeURIComponent(since)}` : '';
  try {
    const body = await api(`/api/audit${q}`);
    return (body.entries || []).sort((a, b) => (b.time_ms ?? 0) - (a.time_ms ?? 0));
  } catch (err) {
    if (notThere(err)) return null;
    throw err;
  }
}

// Model names a chat can pick besides the local ones: "auto" and "<backend>/<model>".
export async function routedModels() {
  try {
    const cfg = await routeConfig();
    if (!cfg?.enabled) return [];
    const names = ['auto'];
    for (const b of cfg.backends || []) {
      const models = b.models?.length ? b.models : b.model ? [b.model] : [];
      for (const m of models) names.push(`${b.name}/${m}`);
      for (const alias of Object.keys(b.aliases || {})) names.push(alias);
    }
    return names;
  } catch {
    return [];
  }
}
