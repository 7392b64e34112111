import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'vite';
import { projectRoot } from '../../server/config.ts';

function newest(file: string): number {
  const stat = statSync(file);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(file).map((name) => newest(path.join(file, name))));
}

/**
 * Browser tests serve web/dist: build it when it is missing or older than its sources, so a
 * clean clone's `npm test` needs no separate build step.
 */
export default async function setup(): Promise<void> {
  const built = path.join(projectRoot, 'web', 'dist', 'index.html');
  const sources = ['web/src', 'web/index.html', 'vite.config.ts', 'server/identity/identity-number.ts'].map((p) => path.join(projectRoot, p));
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest))) return;
  await build({ configFile: path.join(projectRoot, 'vite.config.ts'), root: path.join(projectRoot, 'web'), logLevel: 'warn' });
}
