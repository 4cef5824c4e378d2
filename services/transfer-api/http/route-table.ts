import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { Router, type Request } from 'express';
import type { z } from 'zod';
import type { Role } from '../config';
import { ApiError } from '../../../lib/http/errors';
import type { Caller } from './auth';
import { documentedError, ErrorSchemas, type DocumentedError, type ErrorResponse, type ErrorStatus, type RouteErrors } from './error-responses';
import { sharedHeaderRefs } from './response-headers';

type Method = 'get' | 'post' | 'put' | 'delete';
type Schema = z.ZodType;

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  caller: Caller;
  request: Request;
}

export interface RouteResult {
  status: number;
  /** JSON unless contentType says otherwise; then the text as it is (an ISO 20022 XML render). */
  body: unknown;
  headers?: Record<string, string>;
  contentType?: 'application/xml';
}

/** One documented response; mediaType application/xml for a text render (schema z.string()). */
export interface RouteResponse {
  description: string;
  schema?: Schema;
  mediaType?: 'application/json' | 'application/xml';
  headers?: Record<string, { description: string; schema: { type: 'string' } } | { $ref: string }>;
}

/** The statuses a route answers with success; its errors go in `errors`, by status, as codes of the table. */
export type SuccessStatus = 200 | 201 | 202 | 204;

/**
 * One route: its schemas, who may call it, and its handler. The same definition
 * registers the Express route and its OpenAPI path, so the two cannot disagree.
 */
export interface RouteSpec<B = unknown, Q = unknown, P = unknown> {
  method: Method;
  /** Express path, e.g. /v1/transfers/:id */
  path: string;
  /** Unique in the document, camelCase: the generated client's name for the operation. */
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  roles: readonly Role[];
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /** Request headers to document (validated by the handler). */
  headers?: Schema;
  responses: Partial<Record<SuccessStatus, RouteResponse>>;
  /** The route's own error answers; VALIDATION_FAILED, UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED, INTERNAL and the body's 413/415 are added for every route. */
  errors?: RouteErrors;
  handler: (input: RouteInput<B, Q, P>) => Promise<RouteResult>;
}

// Handlers are checked against their own schemas at definition; the table holds them erased.
export type AnyRouteSpec = RouteSpec<never, never, never>;

export function defineRoute<B = undefined, Q = undefined, P = undefined>(spec: RouteSpec<B, Q, P>): AnyRouteSpec {
  return spec as unknown as AnyRouteSpec;
}

function parseOrThrow<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new ApiError('VALIDATION_FAILED', `invalid ${where}`);
  const unknownKeys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [...issue.path.map(String), ...unknownKeys.slice(0, 1)];
  const field = path.length > 0 ? path.join('.') : undefined;
  const message = unknownKeys.length > 0 ? `${where} has unknown field(s): ${unknownKeys.join(', ')}` : `${field ?? where} ${issue.message}`;
  throw new ApiError('VALIDATION_FAILED', message, field);
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

/** Builds the Express router for a route table; authentication in front of it has set req.caller. */
export function routerFor(routes: readonly AnyRouteSpec[]): Router {
  const router = Router();
  for (const route of routes) {
    router[route.method](route.path, (req, res, next) => {
      const caller = req.caller;
      if (!caller) return next(new ApiError('UNAUTHENTICATED', 'missing credentials'));
      if (!route.roles.includes(caller.role)) return next(new ApiError('FORBIDDEN', `the ${caller.role} role may not ${route.summary.toLowerCase()}`));
      let input: RouteInput<never, never, never>;
      try {
        input = {
          params: parseOrThrow(route.params, req.params, 'path'),
          query: parseOrThrow(route.query, req.query, 'query'),
          body: parseOrThrow(route.body, req.body ?? {}, 'body'),
          caller,
          request: req,
        };
      } catch (error) {
        return next(error);
      }
      route
        .handler(input)
        .then((result) => {
          res.status(result.status).set(result.headers ?? {});
          if (result.body === undefined) res.end();
          else if (result.contentType) res.type(result.contentType).send(String(result.body));
          else res.json(result.body);
        })
        .catch(next);
    });
  }
  return router;
}

const everyRole: readonly Role[] = ['client', 'operator'];

function rolesSentence(roles: readonly Role[]): string {
  return roles.length === 1 ? `Needs an API key of the ${roles[0]} role.` : `Needs an API key of the ${roles.join(' or ')} role.`;
}

/** The errors every route of the table can answer, merged with the route's own (their codes added to the same status). */
function routeErrors(route: AnyRouteSpec): Map<string, DocumentedError> {
  const errors = new Map<string, DocumentedError>();
  const add = (status: ErrorStatus, response: DocumentedError): void => {
    const known = errors.get(String(status));
    const description = [known?.description, response.description].filter((text) => text !== undefined).join(' ');
    errors.set(String(status), { codes: [...(known?.codes ?? []), ...response.codes], ...(description ? { description } : {}) });
  };
  add(400, { codes: ['VALIDATION_FAILED'], description: 'A path parameter, query parameter, header or body field is malformed (field names it).' });
  add(401, { codes: ['UNAUTHENTICATED'], description: 'No Authorization: Bearer <API key>, or an unknown key.' });
  if (everyRole.some((role) => !route.roles.includes(role))) add(403, { codes: ['FORBIDDEN'], description: 'The API key\'s role may not call this operation.' });
  if (route.body) {
    add(413, { codes: ['PAYLOAD_TOO_LARGE'], description: 'The body is larger than the API accepts.' });
    add(415, { codes: ['UNSUPPORTED_MEDIA_TYPE'], description: 'The body is not UTF-8 application/json.' });
  }
  add(429, { codes: ['RATE_LIMITED'], description: 'More requests a minute with this API key than allowed; Retry-After says when to ask again.' });
  add(500, { codes: ['INTERNAL'], description: 'An unexpected failure; details are in the API\'s log under the X-Request-Id.' });
  for (const [status, response] of Object.entries(route.errors ?? {}) as Array<[string, ErrorResponse<ErrorStatus>]>) add(Number(status) as ErrorStatus, documentedError(response));
  return errors;
}

/** The codes, then when they happen; a description that names every code already stands alone. */
function errorDescription(error: DocumentedError): string {
  const codes = [...new Set(error.codes)];
  if (!error.description) return codes.join(', ');
  return codes.every((code) => error.description?.includes(code)) ? error.description : `${codes.join(', ')}: ${error.description}`;
}

/** Adds every route of the table to the OpenAPI registry, with the shared error responses, its roles and the headers every answer carries. */
export function registerOpenApi(registry: OpenAPIRegistry, routes: readonly AnyRouteSpec[], errorSchemas = new ErrorSchemas()): void {
  for (const route of routes) {
    const responses: RouteConfig['responses'] = {};
    for (const [status, response] of Object.entries(route.responses) as Array<[string, RouteResponse]>) {
      responses[status] = {
        description: response.description,
        headers: { ...sharedHeaderRefs.limited, ...response.headers },
        ...(response.schema ? { content: { [response.mediaType ?? 'application/json']: { schema: response.schema } } } : {}),
      };
    }
    for (const [status, error] of routeErrors(route)) {
      responses[status] = {
        description: errorDescription(error),
        headers: status === '401' ? sharedHeaderRefs.unauthenticated : status === '429' || status === '503' ? { ...sharedHeaderRefs.limited, ...sharedHeaderRefs.retryAfter } : sharedHeaderRefs.limited,
        content: { 'application/json': { schema: errorSchemas.schemaFor(error.codes, route.operationId, status) } },
      };
    }
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      operationId: route.operationId,
      summary: route.summary,
      description: route.description ? `${route.description}\n\n${rolesSentence(route.roles)}` : rolesSentence(route.roles),
      tags: [route.tag],
      security: [{ bearerAuth: [] }],
      'x-roles': [...route.roles],
      request: {
        ...(route.params ? { params: route.params as unknown as z.ZodObject } : {}),
        ...(route.query ? { query: route.query as unknown as z.ZodObject } : {}),
        ...(route.headers ? { headers: route.headers as unknown as z.ZodObject } : {}),
        ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      },
      responses,
    });
  }
}
