import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { Router, type Request } from 'express';
import type { z } from 'zod';
import type { Role } from '../config';
import { errorBodySchema } from '../schemas';
import { ApiError } from '../../../lib/http/errors';
import type { Caller } from './auth';

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
  headers?: Record<string, { description: string; schema: { type: 'string' } }>;
}

/**
 * One route: its schemas, who may call it, and its handler. The same definition
 * registers the Express route and its OpenAPI path, so the two cannot disagree.
 */
export interface RouteSpec<B = unknown, Q = unknown, P = unknown> {
  method: Method;
  /** Express path, e.g. /v1/transfers/:id */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  roles: readonly Role[];
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /** Request headers to document (validated by the handler). */
  headers?: Schema;
  responses: Record<number, RouteResponse>;
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

/** Adds every route of the table to the OpenAPI registry, with the shared error responses. */
export function registerOpenApi(registry: OpenAPIRegistry, routes: readonly AnyRouteSpec[]): void {
  for (const route of routes) {
    const responses: RouteConfig['responses'] = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.headers ? { headers: response.headers } : {}),
        ...(response.schema ? { content: { [response.mediaType ?? 'application/json']: { schema: response.schema } } } : {}),
      };
    }
    for (const status of ['400', '401', '403', '429']) {
      responses[status] ??= { description: 'See the error code', content: { 'application/json': { schema: errorBodySchema } } };
    }
    registry.registerPath({
      method: route.method,
      path: openApiPath(route.path),
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      security: [{ bearerAuth: [] }],
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
