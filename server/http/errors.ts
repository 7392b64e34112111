import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

/** Every error code the API may answer with; clients rely on these staying stable. */
export type ErrorCode =
  | 'invalid-request'
  | 'invalid-json'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'invalid-identity-number'
  | 'invalid-validity'
  | 'validity-exceeds-maximum'
  | 'unknown-service'
  | 'scope-not-in-catalogue'
  | 'constraint-not-allowed'
  | 'constraint-required'
  | 'agent-is-principal'
  | 'duplicate-agent'
  | 'duplicate-scope'
  | 'not-a-signatory'
  | 'delegation-not-allowed'
  | 'delegation-too-deep'
  | 'parent-not-active'
  | 'scope-exceeds-parent'
  | 'constraint-exceeds-parent'
  | 'window-exceeds-parent'
  | 'unauthenticated'
  | 'step-up-required'
  | 'sign-in-failed'
  | 'sign-in-unavailable'
  | 'invalid-token'
  | 'forbidden'
  | 'foreign-origin'
  | 'service-not-owned'
  | 'not-found'
  | 'method-not-allowed'
  | 'invalid-client'
  | 'invalid-grant'
  | 'invalid-scope'
  | 'unsupported-grant-type'
  | 'unavailable'
  | 'internal'
  | 'request-not-open'
  | 'request-already-open'
  | 'too-many-open-requests'
  | 'requests-locked-out'
  | 'approval-exceeds-request'
  | 'not-an-official'
  | 'official-is-party';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/**
 * The only error that reaches the wire. `detail` is public text; the `cause` stays in the log.
 * Extra members (e.g. field errors) are added to the problem document.
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }
}

function problem(ctx: Context, err: ApiError): void {
  ctx.status = err.status;
  ctx.type = 'application/problem+json';
  ctx.body = {
    type: `https://ombud.example/problems/${err.code}`,
    title: TITLES[err.status] ?? 'Error',
    status: err.status,
    detail: err.detail,
    code: err.code,
    ...err.extra,
  };
}

/** Errors thrown by Koa's own helpers and body parsing carry `status` and `type`/`expose`. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

function fromHttpError(err: HttpLikeError): ApiError | undefined {
  // co-body rethrows JSON.parse's SyntaxError with status 400.
  if (err instanceof SyntaxError) return new ApiError(400, 'invalid-json', 'The request body is not valid JSON.');
  const status = err.status ?? err.statusCode;
  if (status === 413 || err.type === 'entity.too.large') {
    return new ApiError(413, 'payload-too-large', 'The request body is too large.');
  }
  if (err.type === 'entity.parse.failed' || (status === 400 && err.type?.startsWith('entity.'))) {
    return new ApiError(400, 'invalid-json', 'The request body is not valid JSON.');
  }
  if (status === 415 || err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
    return new ApiError(415, 'unsupported-media-type', 'The request body type or encoding is not supported.');
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return new ApiError(400, 'invalid-request', 'The request could not be read.');
  }
  return undefined;
}

/** Outermost middleware: turns every failure into problem+json, never a stack trace. */
export function errorHandler(logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        problem(ctx, new ApiError(404, 'not-found', 'There is nothing at this address.'));
      } else if (ctx.status === 405 && ctx.body === undefined) {
        problem(ctx, new ApiError(405, 'method-not-allowed', 'This method is not allowed here.'));
      }
    } catch (err) {
      if (err instanceof ApiError) {
        if (err.status >= 500) logger.error({ err: err.cause ?? err, code: err.code }, 'request failed');
        problem(ctx, err);
        return;
      }
      const mapped = fromHttpError(err as HttpLikeError);
      if (mapped) {
        problem(ctx, mapped);
        return;
      }
      logger.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error');
      problem(ctx, new ApiError(500, 'internal', 'Something went wrong on our side. Nothing was changed.'));
    }
  };
}
