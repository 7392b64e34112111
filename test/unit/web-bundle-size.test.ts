import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/config.ts';

const dist = path.join(projectRoot, 'web', 'dist');

describe('the built web app', () => {
  it('loads at most 100 kB of gzipped JavaScript before it can show the first page', () => {
    const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
    // The entry script and everything the page preloads with it; lazy chunks load later.
    const scripts = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g)].map((m) => m[1] as string);
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = scripts.reduce((sum, file) => sum + gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length, 0);
    expect(gzipped).toBeLessThanOrEqual(100 * 1024);
  });
});
