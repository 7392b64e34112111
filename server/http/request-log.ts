import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../context.ts';

/**
 * One log line and one histogram sample per request. Only the method, the matched route and
 * the status are recorded: paths and queries may hold personal numbers, headers hold credentials.
 */
export function requestLog(logger: Logger, metrics: Metrics) {
  return async (ctx: Context, next: Next): Promise<void> => {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.httpDuration.observe({ method: ctx.method, route: String(route), status: String(ctx.status) }, seconds);
      logger.debug({ method: ctx.method, route, status: ctx.status, ms: Math.round(seconds * 1000) }, 'request');
    }
  };
}
