import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { CheckLookup } from './checks/batch-lookup.ts';
import { CheckLog } from './checks/check-log.ts';
import type { Config } from './config.ts';
import { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { AgencyKeySets } from './identity/agency-keys.ts';
import { KeyRing } from './identity/keys.ts';
import { createLogger } from './logger.ts';
import { adapterFor } from './notifications/adapters.ts';
import { NotificationWorker } from './notifications/worker.ts';
import { PolicyEngine } from './policy/engine.ts';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  checksTotal: Counter<'decision'>;
  notificationsTotal: Counter<'outcome'>;
  signInRefused: Counter<'kind'>;
}

/** Everything a request handler may use, wired once here and passed in; no module singletons. */
export interface AppContext {
  config: Config;
  logger: Logger;
  database: Database;
  policies: PolicyEngine;
  keys: KeyRing;
  /** Agencies' public keys, one cache for their client assertions and the ID tokens they send. */
  agencyKeys: AgencyKeySets;
  /** RS256 keys that sign the Mina ombud compatible answers; absent when that API is off. */
  minaOmbudKeys?: KeyRing;
  metrics: Metrics;
  checkLog: CheckLog;
  checkLookup: CheckLookup;
  /** A synchronous standby that check lookups read from (`DATABASE_READ_URL`); writes stay on `database`. */
  readDatabase?: Database;
  /** Delivers the notification outbox; `main` starts and stops it, tests drive it by hand. */
  notifications: NotificationWorker;
}

function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'ombud_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    checksTotal: new Counter({
      name: 'ombud_checks_total',
      help: 'Checks answered, by decision',
      labelNames: ['decision'],
      registers: [registry],
    }),
    notificationsTotal: new Counter({
      name: 'ombud_notifications_total',
      help: 'Notification delivery attempts, by outcome (delivered, retry, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    signInRefused: new Counter({
      name: 'ombud_sign_in_refused_total',
      help: 'Refused sign-ins, by security event kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}

export async function openDatabase(config: Config): Promise<Database> {
  return config.databaseUrl ? Database.postgres(config.databaseUrl) : Database.pglite(config.dataDir);
}

/**
 * Loads policies (refusing to start on any error), opens and migrates the database and loads
 * the signing keys. `database` may be passed in (tests give each file its own).
 */
export async function createContext(config: Config, options: { database?: Database; logger?: Logger } = {}): Promise<AppContext> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const policies = PolicyEngine.load(config.policiesDir);
  const database = options.database ?? (await openDatabase(config));
  const readDatabase = config.databaseReadUrl ? Database.postgres(config.databaseReadUrl) : undefined;
  try {
    const { applied } = await migrate(database, config.migrationsDir);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    const keys = await KeyRing.load({ file: config.signingKeysFile, dataDir: config.dataDir, generate: config.mode !== 'production' });
    const minaOmbudKeys =
      config.minaOmbudSigningKeysFile || config.mode !== 'production'
        ? await KeyRing.load({
            file: config.minaOmbudSigningKeysFile,
            dataDir: config.dataDir,
            generate: config.mode !== 'production',
            fileName: 'mina-ombud-signing-keys.json',
            alg: 'RS256',
          })
        : undefined;
    const metrics = createMetrics();
    return {
      config,
      logger,
      database,
      policies,
      keys,
      agencyKeys: new AgencyKeySets({ cacheMaxAgeMs: 10 * 60_000, cooldownMs: config.jwksRefreshCooldownMs, timeoutMs: 5_000 }),
      ...(minaOmbudKeys ? { minaOmbudKeys } : {}),
      metrics,
      checkLog: new CheckLog(database),
      checkLookup: new CheckLookup(readDatabase ?? database),
      ...(readDatabase ? { readDatabase } : {}),
      notifications: new NotificationWorker(database, adapterFor(config, logger), logger, config.notifications, metrics.notificationsTotal),
    };
  } catch (err) {
    if (!options.database) await database.close();
    await readDatabase?.close();
    throw err;
  }
}
