import type { RequestHandler } from 'express';
import type { AcceptedServiceKey, ServiceScope } from '../../../lib/config-parsers';
import { ApiError } from '../../../lib/http-errors';

/** Money moves (the saga's legs and their undoing) need `ledger`; account administration `admin`; reads `read`. */
const ledgerActions = new Set(['debits', 'credits', 'refunds', 'credit-voids']);
const adminActions = new Set(['deposits', 'freeze', 'unfreeze', 'close', 'daily-limit']);

/**
 * The scope a signed route needs; undefined for `GET /v1/whoami`, which any accepted key may call
 * (it checks a key rotation), and for paths no route serves (they answer 404 below).
 */
export function scopeOfRoute(method: string, path: string): ServiceScope | undefined {
  const parts = path.split('?')[0]?.split('/').filter((part) => part !== '') ?? [];
  if (parts[0] !== 'v1' || parts[1] !== 'accounts') return undefined;
  if (method === 'GET') return 'read';
  if (method !== 'POST') return undefined;
  if (parts.length === 2) return 'admin';
  const action = parts[3];
  if (parts.length !== 4 || action === undefined) return undefined;
  if (ledgerActions.has(action)) return 'ledger';
  if (adminActions.has(action)) return 'admin';
  return undefined;
}

/** After the signature: a key used outside its scopes is 403 FORBIDDEN, before any database call. */
export function requireRouteScope(keys: ReadonlyMap<string, AcceptedServiceKey>): RequestHandler {
  return (req, _res, next) => {
    const scope = scopeOfRoute(req.method, req.originalUrl);
    const key = req.signedBy === undefined ? undefined : keys.get(req.signedBy);
    if (scope === undefined || key?.scopes.has(scope)) return next();
    next(new ApiError('FORBIDDEN', `key ${req.signedBy ?? '?'} may not use ${req.method} ${req.path}: it needs the ${scope} scope`));
  };
}
