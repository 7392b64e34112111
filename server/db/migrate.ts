import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from './database.ts';

const FILE_NAME = /^\d{4}-[a-z0-9-]+\.sql$/;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies the SQL files of `dir` in name order, all in one transaction together with
 * their rows in `schema_migrations`, so a failed start leaves the schema as it was. Forward-only: a file that changed after it was applied
 * stops the start-up, because landed migrations are never edited.
 * Kysely's Migrator is not used because PGlite's extended protocol cannot run a
 * multi-statement file; here each engine runs the file through its simple-query path.
 */
export async function migrate(database: Database, dir: string): Promise<MigrationResult> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  for (const f of files) {
    if (!FILE_NAME.test(f)) throw new MigrationError(`Migration file name ${f} must look like 0001-name.sql`);
  }
  const applied: string[] = [];
  await database.scriptTransaction(async (run) => {
    // Serialise concurrent starts of several nodes against one database.
    await run('SELECT pg_advisory_xact_lock(7226083)');
    await run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const rows = await run('SELECT name, checksum FROM schema_migrations');
    const done = new Map(rows.map((r) => [String(r.name), String(r.checksum)]));
    for (const f of files) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      const checksum = createHash('sha256').update(text).digest('hex');
      const previous = done.get(f);
      if (previous !== undefined) {
        if (previous !== checksum) {
          throw new MigrationError(`Migration ${f} was changed after it was applied; add a new migration instead.`);
        }
        continue;
      }
      await run(text);
      await run(`INSERT INTO schema_migrations (name, checksum) VALUES ('${f}', '${checksum}')`);
      applied.push(f);
    }
    for (const name of done.keys()) {
      if (!files.includes(name)) throw new MigrationError(`Migration ${name} is recorded but its file is missing.`);
    }
  });
  return { applied };
}
