import path from 'node:path';
import { expect, it } from 'vitest';
import { projectRoot } from '../../server/config.ts';
import { type Facts, PolicyEngine } from '../../server/policy/engine.ts';

const engine = PolicyEngine.load(path.join(projectRoot, 'policies'));
const facts: Facts = {
  permission: 'pay',
  basis: 'mandate',
  delegated: false,
  assurance: 3,
  principalKind: 'person',
  principalIsMinor: false,
  principalProtectedIdentity: false,
  trusteeScope: [],
  signingRule: '',
  amount: 10,
  amountLimit: 100,
};

it('a clean permit is a permit', () => {
  expect(engine.decide('exempelbanken.accounts', 'a', 'p', facts).allowed).toBe(true);
});

it('a rule that errors during evaluation makes the decision a deny even though a permit matched (invariant 1)', () => {
  // A string where the schema says Long: the limit rule cannot evaluate, Cedar still says allow.
  const decision = engine.decide('exempelbanken.accounts', 'a', 'p', { ...facts, amount: 'ten' as unknown as number });
  expect(decision.errors.length).toBeGreaterThan(0);
  expect(decision.allowed).toBe(false);
});

it('an unknown service is a deny', () => {
  expect(engine.decide('nope.nothing', 'a', 'p', facts)).toMatchObject({ allowed: false });
});
