/** The HTTP services' one error type and handler: every error answers {error: {code, message, field?}} with its code's status. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { httpStatusByCode, type ErrorBody, type ErrorCode } from '../contracts/error-codes';

/** The one error type of the API: a stable code, a message for people, and the field at fault. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** Extra headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): number {
    return httpStatusByCode[this.code];
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) } };
  }
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError('NOT_FOUND', `no route for ${req.method} ${req.path}`));
};

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Maps every error to the JSON error body; unexpected ones are logged and answered without details. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let apiError: ApiError;
    const parserError = error as BodyParserError;
    if (error instanceof ApiError) apiError = error;
    else if (parserError.type === 'entity.too.large') apiError = new ApiError('PAYLOAD_TOO_LARGE', 'request body is larger than allowed');
    else if (parserError.type === 'entity.parse.failed') apiError = new ApiError('VALIDATION_FAILED', 'request body is not valid JSON');
    else if (parserError.type === 'encoding.unsupported' || parserError.type === 'charset.unsupported') apiError = new ApiError('UNSUPPORTED_MEDIA_TYPE', 'request body must be UTF-8 JSON');
    else {
      logger.error({ err: error, requestId: (req as { id?: unknown }).id }, 'unexpected error');
      apiError = new ApiError('INTERNAL', 'internal error');
    }
    res.status(apiError.status).set(apiError.headers).json(apiError.toBody());
  };
}
