import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

/**
 * One real Postgres for the whole run (or TEST_DATABASE_URL); every test file makes its own
 * database on it, so files stay independent.
 */
export default async function setup(project: TestProject) {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('postgresUrl', process.env.TEST_DATABASE_URL);
    return;
  }
  const pg = await startTestPostgres();
  project.provide('postgresUrl', pg.url('postgres'));
  return () => pg.stop();
}
