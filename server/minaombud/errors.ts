import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { ApiError } from '../http/errors.ts';
import { UUID_PATTERN } from '../http/schemas.ts';

/** The error classes of the Mina ombud consumer API (`ApiErrorType`). */
export type DfmErrorType = 'urn:dfm:error:basic' | 'urn:dfm:error:auth' | 'urn:dfm:error:validation' | 'urn:dfm:error:network';

/** The well-known error codes (`ApiErrorCode`) this facade answers with. */
export type DfmErrorCode =
  | 'auth.error'
  | 'klient.inaktiv'
  | 'tredjeman.obehorig'
  | 'tredjeman.ogiltig'
  | 'anvandare.obehorig'
  | 'fullmakt.saknas'
  | 'fullmaktshavare.ogiltig'
  | 'fullmaktsgivare.ogiltig'
  | 'sokning.havare_givare.saknas'
  | 'validation.client'
  | 'server.error';

export interface Violation {
  path: string;
  message: string;
}

/** An error as the consumer API describes it; thrown inside the facade, written by `dfmErrors`. */
export class DfmError extends Error {
  override name = 'DfmError';
  constructor(
    readonly status: number,
    readonly type: DfmErrorType,
    readonly instance: DfmErrorCode,
    readonly detail: string,
    readonly violations?: Violation[],
  ) {
    super(detail);
  }
}

export function validationError(detail: string, violations: Violation[]): DfmError {
  return new DfmError(400, 'urn:dfm:error:validation', 'validation.client', detail, violations);
}

const TITLES: Record<DfmErrorType, string> = {
  'urn:dfm:error:basic': 'Begäran kunde inte utföras',
  'urn:dfm:error:auth': 'Åtkomst nekad',
  'urn:dfm:error:validation': 'Ogiltig begäran',
  'urn:dfm:error:network': 'Nätverksfel',
};

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  type?: string;
}

/** Our own errors (validation, authentication, body parsing) in the consumer API's terms. */
function toDfm(err: unknown, logger: Logger, ctx: Context): DfmError {
  if (err instanceof DfmError) return err;
  if (err instanceof ApiError) {
    if (err.status === 401 || err.status === 403) return new DfmError(err.status, 'urn:dfm:error:auth', 'auth.error', err.detail);
    if (err.status === 404) return new DfmError(404, 'urn:dfm:error:basic', 'fullmakt.saknas', err.detail);
    if (err.status >= 400 && err.status < 500) {
      const fieldErrors = Array.isArray(err.extra.errors) ? (err.extra.errors as Array<{ in?: string; path?: string; message?: string }>) : [];
      const violations = fieldErrors.map((e) => ({ path: e.path || e.in || '', message: e.message ?? err.detail }));
      return new DfmError(err.status, 'urn:dfm:error:validation', 'validation.client', err.detail, violations.length > 0 ? violations : [{ path: '', message: err.detail }]);
    }
    logger.error({ err: err.cause ?? err, code: err.code }, 'request failed');
  } else {
    const status = (err as HttpLikeError).status ?? (err as HttpLikeError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const type = (err as HttpLikeError).type;
      const detail =
        status === 413 ? 'The request body is too large.' : type?.startsWith('entity.') ? 'The request body is not valid JSON.' : 'The request could not be read.';
      return new DfmError(status === 413 || status === 415 ? status : 400, 'urn:dfm:error:validation', 'validation.client', detail, [{ path: '', message: detail }]);
    }
    logger.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error');
  }
  return new DfmError(500, 'urn:dfm:error:basic', 'server.error', 'Something went wrong on our side. Nothing was changed.');
}

/**
 * For paths under `prefix`: echoes `X-Request-Id` and writes every failure as the consumer API's
 * `ApiError` (as `application/json`, which the published clients parse) instead of our problem+json.
 * It runs before body parsing, so malformed bodies are answered in the same form.
 */
export function dfmErrors(prefix: string, logger: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!ctx.path.startsWith(`${prefix}/`)) return next();
    const requestId = ctx.get('X-Request-Id');
    const write = (e: DfmError) => {
      ctx.status = e.status;
      ctx.type = 'application/json';
      ctx.body = {
        type: e.type,
        instance: e.instance,
        status: e.status,
        title: TITLES[e.type],
        detail: e.detail,
        timestamp: new Date().toISOString(),
        ...(UUID_PATTERN.test(requestId) ? { requestId } : {}),
        ...(e.violations ? { violations: e.violations } : {}),
      };
    };
    if (requestId && !UUID_PATTERN.test(requestId)) {
      write(validationError('X-Request-Id must be a UUID.', [{ path: 'X-Request-Id', message: 'must be a UUID' }]));
      return;
    }
    if (requestId) ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } catch (err) {
      write(toDfm(err, logger, ctx));
    }
  };
}
