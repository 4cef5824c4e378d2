import express, { type RequestHandler } from 'express';
import { ApiError } from '../../../lib/http/errors';
import { signatureHeader, verifySignature } from '../../../lib/crypto/request-signing';
import type { AcceptedServiceKey } from '../../../lib/config/env-parsers';
import { accountServiceLimits } from '../limits';


declare module 'express-serve-static-core' {
  interface Request {
    signedBy?: string;
  }
}

/**
 * Reads the raw body (at most 16 KiB), checks the X-Signature over it for this bank, and only then
 * parses JSON. Everything below this sees authenticated, parsed requests.
 */
export function signedJsonBody(bankId: string, keys: ReadonlyMap<string, AcceptedServiceKey>, nowSeconds: () => number): RequestHandler[] {
  const raw = express.raw({ type: () => true, limit: accountServiceLimits.requestBodyBytesMax });
  const secrets = new Map([...keys].map(([keyId, key]) => [keyId, key.secret]));
  const verify: RequestHandler = (req, _res, next) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verdict = verifySignature(req.get(signatureHeader), { bankId, method: req.method, pathWithQuery: req.originalUrl, body }, secrets, nowSeconds());
    if (!verdict.valid) return next(new ApiError('UNAUTHENTICATED', verdict.reason));
    req.signedBy = verdict.keyId;
    if (body.length === 0) {
      req.body = {};
      return next();
    }
    if (!req.is('application/json')) return next(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the request body as application/json'));
    try {
      req.body = JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      return next(new ApiError('VALIDATION_FAILED', 'request body is not valid JSON'));
    }
    next();
  };
  return [raw, verify];
}
