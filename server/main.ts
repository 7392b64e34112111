import { once } from 'node:events';
import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { ConfigError, readConfig } from './config.ts';
import { createContext } from './context.ts';
import { DataDirBusyError } from './db/data-dir-lock.ts';
import { MigrationError } from './db/migrate.ts';
import { DEMO_PEOPLE, seedDemo } from './demo.ts';
import { KeyFileError } from './identity/keys.ts';
import { PolicyLoadError } from './policy/engine.ts';

const FATAL_AT_START = [ConfigError, PolicyLoadError, MigrationError, KeyFileError, DataDirBusyError];

async function main(): Promise<void> {
  const config = readConfig();
  const ctx = await createContext(config);
  const { logger } = ctx;
  let demoKeyFile: string | undefined;
  if (config.demoData) demoKeyFile = (await seedDemo(ctx)).agencyKeyFile;

  const server = createServer(createApp(ctx).callback());
  server.listen(config.port, config.host);
  await once(server, 'listening');
  ctx.notifications.start();
  logger.info(
    { url: config.publicUrl, mode: config.mode, database: ctx.database.engine, services: ctx.policies.services().length },
    'Ombud is listening',
  );
  if (demoKeyFile) {
    process.stdout.write(
      `\n  Ombud is running at ${config.publicUrl}  (development mode, ${ctx.database.engine})\n` +
        `  Demo people: ${DEMO_PEOPLE.map((p) => `${p.name} ${p.id}${config.officials.includes(p.id) ? ' (official: /official)' : ''}`).join(', ')}\n` +
        `  Demo agency key: ${demoKeyFile}  (try: npm run admin -- demo-check)\n\n`,
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close();
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    await once(server, 'close').catch(() => undefined);
    await ctx.notifications.stop();
    await ctx.database.close();
    await ctx.readDatabase?.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (FATAL_AT_START.some((cls) => err instanceof cls)) {
    process.stderr.write(`Ombud cannot start: ${(err as Error).message}\n`);
  } else {
    process.stderr.write(`Ombud cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
