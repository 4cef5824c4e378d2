import express, { type RequestHandler } from 'express';
import { ApiError } from '../../../lib/http/errors';
import { transferApiLimits } from '../limits';


/** Requests that carry a body must say it is JSON; the body is parsed with a size limit. */
export function jsonBody(): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = (req.get('content-length') !== undefined && req.get('content-length') !== '0') || req.get('transfer-encoding') !== undefined;
    if (hasBody && !req.is('application/json')) return next(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'send the request body as application/json'));
    next();
  };
  return [requireJson, express.json({ limit: transferApiLimits.requestBodyBytesMax, strict: true, type: 'application/json' })];
}
