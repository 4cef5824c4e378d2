import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { hashApiKey, type ApiKeyRecord, type Role } from '../config';
import { ApiError } from '../../../lib/http/errors';

/** Who is calling: the name of the API key's client, and its role. */
export interface Caller {
  name: string;
  role: Role;
}

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

/** `Authorization: Bearer <key>`, compared by hash in constant time against every configured key. */
export function bearerAuthentication(keys: readonly ApiKeyRecord[]): RequestHandler {
  return (req, _res, next) => {
    if (req.caller) return next();
    const header = req.get('authorization');
    const match = header ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
    if (!match?.[1]) return next(new ApiError('UNAUTHENTICATED', 'send Authorization: Bearer <API key>', undefined, { 'www-authenticate': 'Bearer' }));
    const hash = hashApiKey(match[1]);
    let found: ApiKeyRecord | undefined;
    for (const record of keys) if (timingSafeEqual(record.keyHash, hash)) found = record;
    if (!found) return next(new ApiError('UNAUTHENTICATED', 'unknown API key', undefined, { 'www-authenticate': 'Bearer' }));
    req.caller = { name: found.name, role: found.role };
    next();
  };
}
