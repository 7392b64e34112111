import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Embedded Postgres tolerates only one process per data directory; two would corrupt it.
 * A pid file taken with O_EXCL keeps a second server or the admin CLI out, and a stale
 * one (its process gone) is taken over.
 */
export class DataDirLock {
  private constructor(private readonly file: string) {}

  static acquire(dataDir: string): DataDirLock {
    const file = path.join(dataDir, 'ombud.pid');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new DataDirLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number(readFileSync(file, 'utf8').trim());
        if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
          throw new DataDirBusyError(
            `The embedded database in ${dataDir} is in use by process ${holder} (probably the running server). ` +
              'Stop it first, or point DATABASE_URL at a Postgres server.',
          );
        }
        rmSync(file, { force: true });
      }
    }
    throw new DataDirBusyError(`Could not lock ${dataDir}`);
  }

  release(): void {
    rmSync(this.file, { force: true });
  }
}
