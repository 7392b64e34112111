import type { Context, Next } from 'koa';
import helmet from 'koa-helmet';
import type { Config } from '../config.ts';

/** Strict headers on every answer: our own scripts only, no framing, no referrer, HSTS in production. */
export function securityHeaders(config: Config) {
  const production = config.mode === 'production';
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: production ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  }) as unknown as (ctx: Context, next: Next) => Promise<void>;
}

/** API answers are personal: never cached by shared caches unless a route says otherwise. */
export async function noStore(ctx: Context, next: Next): Promise<void> {
  await next();
  if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-store');
}
