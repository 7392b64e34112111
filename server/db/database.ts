import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { DataDirLock } from './data-dir-lock.ts';
import type { DB } from './schema.ts';

export type Engine = 'postgres' | 'pglite';

/** The hot paths each keep one statement in flight (check lookups, the check log); a few spare. */
const NAMED_POOL_SIZE = 4;

/** Runs SQL text that may hold many statements; used only by migrations. */
export type ScriptRunner = (sqlText: string) => Promise<Array<Record<string, unknown>>>;

/** Something that can run queries: the database itself or an open transaction. */
export type Queryable = Kysely<DB>;

export type CommitHook = () => void;

/** One statement run outside Kysely under a fixed name, with its rows and affected-row count. */
export type PreparedRunner = <R>(name: string, text: string, values: readonly unknown[]) => Promise<{ rows: R[]; rowCount: number }>;

/**
 * The one handle to the database. Repositories take a `Queryable`; services open
 * transactions here and may register hooks that run only after a commit.
 */
export class Database {
  private constructor(
    readonly engine: Engine,
    readonly db: Kysely<DB>,
    private readonly rawTransaction: <T>(fn: (run: ScriptRunner) => Promise<T>) => Promise<T>,
    private readonly release: () => Promise<void>,
    private readonly runPrepared: PreparedRunner,
  ) {}

  /**
   * Real Postgres through `pg`; int8 columns come back as numbers, as PGlite gives them. Named
   * statements run on a small pool of their own whose sessions always use the generic plan: a
   * batch lookup's plan does not depend on its values, and planning it again for every custom
   * plan costs more than running it.
   */
  static postgres(connectionString: string, poolSize = 10): Database {
    const types = {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    };
    const pool = new pg.Pool({ connectionString, max: poolSize, types });
    const namedPool = new pg.Pool({ connectionString, max: NAMED_POOL_SIZE, types, options: '-c plan_cache_mode=force_generic_plan' });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return new Database(
      'postgres',
      db,
      async (fn) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn(async (text) => (await client.query(text)).rows ?? []);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
      },
      async () => {
        await db.destroy();
        // Kysely ends the pool only if it ever ran a query.
        if (!pool.ended) await pool.end();
        await namedPool.end();
      },
      async (name, text, values) => {
        const result = await namedPool.query({ name, text, values: [...values] });
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
      },
    );
  }

  /**
   * Embedded Postgres (PGlite). A directory path keeps data on disk and is locked against
   * a second process; `undefined` keeps everything in memory (tests).
   */
  static async pglite(dataDir: string | undefined, options: { loadDataDir?: Blob } = {}): Promise<Database> {
    let lock: DataDirLock | undefined;
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      lock = DataDirLock.acquire(dataDir);
    }
    try {
      const client = await PGlite.create(dataDir ? `${dataDir}/pg` : undefined, {
        ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      });
      const db = new Kysely<DB>({ dialect: new PGliteDialect(client) });
      return new Database(
        'pglite',
        db,
        (fn) =>
          client.transaction(async (tx) =>
            fn(async (text) => {
              const results = await tx.exec(text);
              return (results.at(-1)?.rows ?? []) as Array<Record<string, unknown>>;
            }),
          ),
        async () => {
          // Kysely's PGlite driver closes the client on destroy; close it here only if it did not.
          await db.destroy();
          if (!client.closed) await client.close();
          lock?.release();
        },
        async <R>(_name: string, text: string, values: readonly unknown[]) => {
          const result = await client.query<R>(text, [...values]);
          return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
        },
      );
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  /** Runs `fn` in one transaction; hooks registered with `onCommit` run after it commits. */
  async transaction<T>(fn: (trx: Transaction<DB>, onCommit: (hook: CommitHook) => void) => Promise<T>): Promise<T> {
    const hooks: CommitHook[] = [];
    const result = await this.db.transaction().execute((trx) => fn(trx, (hook) => hooks.push(hook)));
    for (const hook of hooks) hook();
    return result;
  }

  /**
   * One statement under a fixed name, in its own implicit transaction. Real Postgres parses and
   * plans a named statement once per connection, which Kysely's unnamed statements cannot do;
   * the hot paths (check lookups, the check log) use this.
   */
  prepared<R>(name: string, text: string, values: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }> {
    return this.runPrepared<R>(name, text, values);
  }

  /** A transaction on the bare driver, for multi-statement SQL files (migrations). */
  scriptTransaction<T>(fn: (run: ScriptRunner) => Promise<T>): Promise<T> {
    return this.rawTransaction(fn);
  }

  close(): Promise<void> {
    return this.release();
  }
}
