import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const made: string[] = [];

/** A fresh directory under the system's temp dir, removed after the test file (see `removeTempDirs`). */
export function tempDir(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `ombud-${name}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
