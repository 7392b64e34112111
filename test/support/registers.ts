import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileRegisterAdapter } from '../../server/registers/file-import.ts';
import { applyRegisterBatch, type ImportResult } from '../../server/registers/service.ts';
import type { TestServer } from './server.ts';
import { tempDir } from './temp.ts';

/** Writes register lines (objects, or raw text for broken ones) as a JSON-lines file. */
export function registerFile(lines: ReadonlyArray<object | string>, name = 'register.jsonl'): string {
  const file = path.join(tempDir('register'), name);
  writeFileSync(file, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return file;
}

/** Imports lines through the file adapter, as `npm run admin -- registers import` does. */
export async function importRegister(server: TestServer, lines: ReadonlyArray<object | string>, source = 'test'): Promise<ImportResult> {
  return applyRegisterBatch(server.ctx.database, await fileRegisterAdapter(registerFile(lines), source).read());
}

export const guardian = (representative: string, represented: string) => ({ register: 'population', kind: 'guardian', representative, represented });
export const trustee = (representative: string, represented: string, scope: string[], extra: Record<string, string> = {}) => ({
  register: 'trustee',
  kind: 'trustee',
  representative,
  represented,
  scope,
  ...extra,
});
export const signatory = (representative: string, represented: string, rule: 'alone' | 'jointly') => ({
  register: 'company',
  kind: 'signatory',
  representative,
  represented,
  rule,
});
