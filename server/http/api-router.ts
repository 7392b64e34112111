import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathsObject } from 'zod-openapi';
import { ApiError, type ErrorCode } from './errors.ts';

type Method = 'get' | 'post' | 'patch' | 'delete';
type AnyObject = z.ZodType<Record<string, unknown>>;

export interface RouteSpec<B extends z.ZodType, Q extends AnyObject, P extends AnyObject> {
  method: Method;
  /** Koa path, e.g. `/api/mandates/:id`. */
  path: string;
  summary: string;
  tag: string;
  security?: 'session' | 'agency';
  body?: B;
  /** `json` (default) or `form` (application/x-www-form-urlencoded). */
  bodyType?: 'json' | 'form';
  query?: Q;
  params?: P;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  /** Authentication and authorisation middleware that run after validation. */
  use?: Middleware[];
  /** How errors look when not our problem+json (a compatibility API with its own error object). */
  errorResponse?: { description: string; schema: z.ZodType; contentType: string };
}

export interface Input<B extends z.ZodType, Q extends AnyObject, P extends AnyObject> {
  body: z.output<B>;
  query: z.output<Q>;
  params: z.output<P>;
}

/** A zod issue may name the public error code it stands for (see `withCode`). */
function codeOf(issues: z.core.$ZodIssue[]): ErrorCode {
  for (const issue of issues) {
    const code = (issue as { params?: { code?: ErrorCode } }).params?.code;
    if (code) return code;
  }
  return 'invalid-request';
}

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.map((i) => ({
    in: where,
    path: i.path.join('.'),
    message: i.message,
  }));
  const first = errors[0];
  const detail = first ? `${first.path || where}: ${first.message}` : `The ${where} is invalid.`;
  throw new ApiError(400, codeOf(result.error.issues), detail, { errors });
}

function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z]+)/g, '{$1}');
}

const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
  })
  .meta({ id: 'Problem' });

/**
 * A router whose every route declares its schemas once: the same zod schemas validate the
 * request and describe it in the OpenAPI document, so the two cannot drift apart.
 */
export class ApiRouter {
  readonly router = new Router();
  private readonly paths: ZodOpenApiPathsObject = {};

  add<B extends z.ZodType = z.ZodUndefined, Q extends AnyObject = AnyObject, P extends AnyObject = AnyObject>(
    spec: RouteSpec<B, Q, P>,
    handler: (ctx: Context, input: Input<B, Q, P>) => Promise<void>,
  ): void {
    const validate: Middleware = async (ctx, next) => {
      const query = spec.query ? parseOrThrow(spec.query, { ...ctx.query }, 'query') : {};
      const params = spec.params ? parseOrThrow(spec.params, ctx.params ?? {}, 'path') : {};
      let body: unknown;
      if (spec.body) {
        const wanted = spec.bodyType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json';
        if (!ctx.is(wanted)) {
          throw new ApiError(415, 'unsupported-media-type', `Send the body as ${wanted}.`);
        }
        body = parseOrThrow(spec.body, (ctx.request as { body?: unknown }).body, 'body');
      }
      ctx.state.input = { body, query, params };
      await next();
    };
    const run: Middleware = (ctx) => handler(ctx, ctx.state.input as Input<B, Q, P>);
    this.router[spec.method](spec.path, validate, ...(spec.use ?? []), run);
    this.describe(spec);
  }

  private describe(spec: RouteSpec<z.ZodType, AnyObject, AnyObject>): void {
    const responses: ZodOpenApiOperationObject['responses'] = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      (responses as Record<string, unknown>)[status] = r.schema
        ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: r.schema } } }
        : { description: r.description };
    }
    responses.default = spec.errorResponse
      ? { description: spec.errorResponse.description, content: { [spec.errorResponse.contentType]: { schema: spec.errorResponse.schema } } }
      : {
          description: 'An error, as RFC 9457 problem details',
          content: { 'application/problem+json': { schema: problemSchema } },
        };
    const operation: ZodOpenApiOperationObject = {
      summary: spec.summary,
      tags: [spec.tag],
      responses,
      ...(spec.security ? { security: [{ [spec.security]: [] }] } : {}),
      ...(spec.query || spec.params
        ? {
            requestParams: {
              ...(spec.query ? { query: spec.query as z.ZodObject } : {}),
              ...(spec.params ? { path: spec.params as z.ZodObject } : {}),
            },
          }
        : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: {
                [spec.bodyType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json']: {
                  schema: spec.body,
                },
              },
            },
          }
        : {}),
    };
    const key = openApiPath(spec.path) as `/${string}`;
    this.paths[key] = { ...(this.paths[key] ?? {}), [spec.method]: operation };
  }

  openApiPaths(): ZodOpenApiPathsObject {
    return this.paths;
  }

  middleware(): Middleware {
    return this.router.routes() as unknown as Middleware;
  }

  allowedMethods(): Middleware {
    return this.router.allowedMethods() as unknown as Middleware;
  }
}

/** Attaches a public error code to a refinement so a failed parse answers with that code. */
export function withCode(code: ErrorCode): { params: { code: ErrorCode } } {
  return { params: { code } };
}
