import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { projectRoot } from '../../server/config.ts';
import { type Facts, PolicyEngine } from '../../server/policy/engine.ts';

const facts: Facts = {
  permission: 'view-return',
  basis: 'mandate',
  delegated: false,
  assurance: 2,
  principalKind: 'person',
  principalIsMinor: false,
  principalProtectedIdentity: false,
  trusteeScope: [],
  signingRule: '',
};

// A copy of the policies where one service's rule reads who the principal is.
const dir = mkdtempSync(path.join(tmpdir(), 'ombud-policies-'));
cpSync(path.join(projectRoot, 'policies'), dir, { recursive: true });
writeFileSync(
  path.join(dir, 'skatteverket.income-tax.cedar'),
  `@id("only-one-agent")
permit (principal, action == Ombud::Action::"act", resource)
when { context.basis == "mandate" && principal == Ombud::Party::"agent-1" };
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('remembers decisions only where the rules read nothing but the context', () => {
  const engine = PolicyEngine.load(dir);
  expect(engine.decide('skatteverket.income-tax', 'agent-1', 'p', facts).allowed).toBe(true);
  // The same facts for another agent: a remembered answer would wrongly permit.
  expect(engine.decide('skatteverket.income-tax', 'agent-2', 'p', facts).allowed).toBe(false);
  expect(engine.decide('skatteverket.income-tax', 'agent-1', 'p', facts).allowed).toBe(true);
});

it('a remembered decision is the decision Cedar makes for those facts', () => {
  const engine = PolicyEngine.load(path.join(projectRoot, 'policies'));
  const protectedFacts = { ...facts, principalProtectedIdentity: true, assurance: 1 };
  for (let round = 0; round < 2; round++) {
    expect(engine.decide('skatteverket.income-tax', 'a', 'p', facts)).toMatchObject({ allowed: true, ruleIds: ['mandate'] });
    expect(engine.decide('skatteverket.income-tax', 'b', 'q', protectedFacts)).toMatchObject({
      allowed: false,
      ruleIds: ['protected-identity-requires-substantial-assurance'],
    });
  }
});
