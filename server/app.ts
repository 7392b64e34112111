import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import { auditRoutes } from './audit/routes.ts';
import { catalogueRoutes } from './catalogue/routes.ts';
import { checkRoutes } from './checks/routes.ts';
import type { AppContext } from './context.ts';
import { ApiRouter } from './http/api-router.ts';
import { errorHandler } from './http/errors.ts';
import { requestLog } from './http/request-log.ts';
import { noStore, securityHeaders } from './http/security-headers.ts';
import { identityRoutes } from './identity/routes.ts';
import { invalidationRoutes } from './invalidations/routes.ts';
import { mandateRoutes } from './mandates/routes.ts';
import { dfmErrors } from './minaombud/errors.ts';
import { DFM_PREFIX, minaOmbudRoutes } from './minaombud/routes.ts';
import { devMailboxRoutes } from './notifications/routes.ts';
import { officialRoutes } from './officials/routes.ts';
import { opsRoutes } from './ops/routes.ts';
import { requestRoutes } from './requests/routes.ts';
import { webApp } from './web.ts';

/** Middleware order and routers; nothing else. */
export function createApp(ctx: AppContext): Koa {
  const app = new Koa();
  const api = new ApiRouter();
  identityRoutes(api, ctx);
  catalogueRoutes(api, ctx);
  mandateRoutes(api, ctx);
  checkRoutes(api, ctx);
  auditRoutes(api, ctx);
  opsRoutes(api, ctx);
  minaOmbudRoutes(api, ctx);
  requestRoutes(api, ctx);
  officialRoutes(api, ctx);
  invalidationRoutes(api, ctx);
  devMailboxRoutes(api, ctx);

  app.use(requestLog(ctx.logger, ctx.metrics));
  app.use(errorHandler(ctx.logger));
  app.use(dfmErrors(DFM_PREFIX, ctx.logger));
  app.use(securityHeaders(ctx.config));
  app.use(webApp(ctx.config));
  app.use(noStore);
  app.use(
    bodyParser({
      enableTypes: ['json', 'form'],
      jsonLimit: ctx.config.bodyLimitBytes,
      formLimit: ctx.config.bodyLimitBytes,
      jsonStrict: true,
    }),
  );
  app.use(api.middleware());
  app.use(api.allowedMethods());
  return app;
}
