import { readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../server/config.ts';
import { type Facts, PolicyEngine, PolicyLoadError } from '../../server/policy/engine.ts';
import { tempDir } from '../support/temp.ts';

interface Table {
  service: string;
  defaults: Facts;
  cases: Array<{ name: string; facts: Partial<Facts>; expect: 'permit' | 'deny'; reasons: string[] }>;
}

const policiesDir = path.join(projectRoot, 'policies');
const engine = PolicyEngine.load(policiesDir);
const tables = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith('.table.json'))
  .map((f) => JSON.parse(readFileSync(path.join(import.meta.dirname, f), 'utf8')) as Table);

it('every service in policies/ has a decision table', () => {
  expect(tables.map((t) => t.service).sort()).toEqual(engine.services().map((s) => s.id).sort());
});

describe.each(tables)('decision table of $service', (table) => {
  it.each(table.cases)('$name → $expect', (c) => {
    const decision = engine.decide(table.service, 'agent-1', 'principal-1', { ...table.defaults, ...c.facts } as Facts);
    expect(decision.errors).toEqual([]);
    expect(decision.allowed ? 'permit' : 'deny').toBe(c.expect);
    expect([...decision.ruleIds].sort()).toEqual([...c.reasons].sort());
  });
});

describe('policy loading refuses to start on any error', () => {
  function brokenCopy(mutate: (dir: string) => void): string {
    const dir = tempDir('policies');
    for (const f of readdirSync(policiesDir)) copyFileSync(path.join(policiesDir, f), path.join(dir, f));
    mutate(dir);
    return dir;
  }

  it('loads the shipped policies', () => {
    expect(engine.services().length).toBeGreaterThanOrEqual(4);
  });

  it.each([
    ['a rule without @id', (d: string) => writeFileSync(path.join(d, 'apoteket.prescriptions.cedar'), 'permit (principal, action, resource);'), /no @id/],
    [
      'a rule that does not type-check against the schema',
      (d: string) =>
        writeFileSync(
          path.join(d, 'apoteket.prescriptions.cedar'),
          '@id("x")\npermit (principal, action == Ombud::Action::"act", resource) when { context.nonsense == 1 };',
        ),
      /apoteket\.prescriptions\.cedar/,
    ],
    ['a syntax error', (d: string) => writeFileSync(path.join(d, 'apoteket.prescriptions.cedar'), '@id("x") permit (principal'), /apoteket/],
    [
      'a duplicate @id',
      (d: string) =>
        writeFileSync(
          path.join(d, 'apoteket.prescriptions.cedar'),
          '@id("a")\npermit (principal, action, resource);\n@id("a")\nforbid (principal, action, resource);',
        ),
      /used twice/,
    ],
    ['a catalogue entry with a bad field', (d: string) => writeFileSync(path.join(d, 'apoteket.prescriptions.json'), '{"id": "apoteket.prescriptions"}'), /apoteket\.prescriptions\.json/],
    ['a policy without a catalogue entry', (d: string) => writeFileSync(path.join(d, 'x.y.cedar'), ''), /no catalogue entry/],
  ])('%s', (_name, mutate, message) => {
    const dir = brokenCopy(mutate);
    expect(() => PolicyEngine.load(dir)).toThrow(PolicyLoadError);
    expect(() => PolicyEngine.load(dir)).toThrow(message);
  });
});
