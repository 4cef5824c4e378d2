import type { RequestHandler } from 'express';
import type { AcceptedServiceKey, ServiceScope } from '../../../lib/config/env-parsers';
import { ApiError } from '../../../lib/http/errors';

/**
 * Money moves (the saga's legs and their undoing, a settlement bank's window markers and settlement
 * moves) need `ledger`; account administration `admin`; reads `read`.
 */
const ledgerActions = new Set(['debits', 'credits', 'refunds', 'credit-voids', 'windows', 'settlements']);
const adminActions = new Set(['deposits', 'freeze', 'unfreeze', 'close', 'daily-limit', 'overdraft-limit']);

/**
 * The scope a signed request needs: 'any' for `GET /v1/whoami` (it checks a key rotation), and
 * 'none' for everything this table does not know, which no key may call. Denying by default keeps a
 * spelling the router would still match (another letter case, HEAD for GET) from slipping past.
 */
export function scopeOfRoute(method: string, path: string): ServiceScope | 'any' | 'none' {
  const parts = path.split('?')[0]?.split('/').filter((part) => part !== '') ?? [];
  if (method === 'GET' && parts.length === 2 && parts[0] === 'v1' && parts[1] === 'whoami') return 'any';
  if (parts[0] !== 'v1' || parts[1] !== 'accounts') return 'none';
  if (method === 'GET' && parts.length === 5 && parts[3] === 'operations') return 'read';
  if (parts.length > 4) return 'none';
  if (method === 'GET') return parts.length === 3 || (parts.length === 4 && parts[3] === 'entries') || parts.length === 2 ? 'read' : 'none';
  if (method !== 'POST' || parts.length === 3) return 'none';
  const action = parts[3];
  if (action === undefined) return 'admin';
  if (ledgerActions.has(action)) return 'ledger';
  if (adminActions.has(action)) return 'admin';
  return 'none';
}

/** After the signature: a key used outside its scopes is 403 FORBIDDEN, before any database call. */
export function requireRouteScope(keys: ReadonlyMap<string, AcceptedServiceKey>): RequestHandler {
  return (req, _res, next) => {
    const scope = scopeOfRoute(req.method, req.originalUrl);
    const key = req.signedBy === undefined ? undefined : keys.get(req.signedBy);
    if (scope === 'any' || (scope !== 'none' && key?.scopes.has(scope))) return next();
    const needs = scope === 'none' ? 'no key may call it' : `it needs the ${scope} scope`;
    next(new ApiError('FORBIDDEN', `key ${req.signedBy ?? '?'} may not use ${req.method} ${req.path}: ${needs}`));
  };
}
