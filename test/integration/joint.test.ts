import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newPerson } from '../support/people.ts';
import { importRegister, signatory } from '../support/registers.ts';
import { type Client, ENGINES, inDays, PEOPLE, person, startServer, type TestAgency, type TestServer } from '../support/server.ts';

const TAX = 'skatteverket.income-tax';
const FIRM = '5566778899';
const organisation = (id: string) => ({ type: 'organisation' as const, id });

describe.each(ENGINES)('joint acting on %s', (engine) => {
  let server: TestServer;
  let tax: TestAgency;
  let principal: string;
  let client: Client;

  beforeAll(async () => {
    server = await startServer(engine);
    tax = await server.agency('skatteverket', [TAX]);
    await importRegister(server, [signatory(PEOPLE.tolvan, FIRM, 'alone')]);
  });
  beforeEach(async () => {
    principal = newPerson();
    client = await server.signIn(principal);
  });
  afterAll(() => server?.close());

  const ask = (agent: string, coAgents?: Array<{ type: 'person' | 'organisation'; id: string }>) =>
    tax.check({ agent: person(agent), principal: person(principal), service: TAX, permission: 'submit-return', assurance: 'substantial', ...(coAgents ? { coAgents } : {}) });

  const grantJoint = async (agents: Array<{ type: 'person' | 'organisation'; id: string }>) => {
    const res = await client.post('/api/mandates', { agents, scopes: [{ service: TAX, permissions: ['submit-return'] }], validTo: inDays(30), mode: 'joint' });
    expect(res.status).toBe(201);
    return res.body as { id: string; mode: string };
  };

  it('denies every agent acting alone with joint-requires-co-agents, and permits all of them together', async () => {
    const m = await grantJoint([person(PEOPLE.karin), person(PEOPLE.erik)]);
    expect(m.mode).toBe('joint');
    for (const agent of [PEOPLE.karin, PEOPLE.erik]) {
      expect((await ask(agent)).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'joint-requires-co-agents', mandateId: m.id }] });
    }
    expect((await ask(PEOPLE.karin, [person(PEOPLE.erik)])).body).toMatchObject({ decision: 'permit', basis: [{ kind: 'mandate', mandateId: m.id }] });
    // Co-agents are matched in any written form of their number.
    expect((await ask(PEOPLE.erik, [person('680514-4026')])).body.decision).toBe('permit');
  });

  it('does not count a stranger, or the agent itself, as a co-agent', async () => {
    const m = await grantJoint([person(PEOPLE.karin), person(PEOPLE.erik), person(PEOPLE.tolvan)]);
    const missingOne = await ask(PEOPLE.karin, [person(PEOPLE.erik), person(PEOPLE.sara)]);
    expect(missingOne.body).toMatchObject({ decision: 'deny', reasons: [{ code: 'joint-requires-co-agents', mandateId: m.id }] });
    expect((await ask(PEOPLE.karin, [person(PEOPLE.karin), person(PEOPLE.erik)])).body.decision).toBe('deny');
    expect((await ask(PEOPLE.karin, [person(PEOPLE.erik), person(PEOPLE.tolvan)])).body.decision).toBe('permit');
  });

  it('needs the co-agents of an employee acting through a firm named in a joint mandate', async () => {
    const m = await grantJoint([organisation(FIRM), person(PEOPLE.karin)]);
    const tolvan = await server.signIn(PEOPLE.tolvan);
    const toEmployee = await tolvan.post('/api/mandates', {
      principal: organisation(FIRM),
      agents: [person(PEOPLE.sara)],
      scopes: [{ service: TAX, permissions: ['submit-return'] }],
      validTo: inDays(30),
    });
    expect(toEmployee.status).toBe(201);
    expect((await ask(PEOPLE.sara)).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'joint-requires-co-agents', mandateId: m.id }] });
    expect((await ask(PEOPLE.sara, [person(PEOPLE.karin)])).body).toMatchObject({
      decision: 'permit',
      basis: [{ kind: 'mandate', mandateId: m.id, via: { organisation: organisation(FIRM) } }],
    });
    expect((await ask(PEOPLE.karin, [organisation(FIRM)])).body.decision).toBe('permit');
  });

  it('refuses a joint mandate with one agent, and bad co-agents, as problem+json', async () => {
    const one = await client.post('/api/mandates', { agents: [person(PEOPLE.karin)], scopes: [{ service: TAX, permissions: ['submit-return'] }], validTo: inDays(30), mode: 'joint' });
    expect(one.status).toBe(400);
    expect(one.body.code).toBe('invalid-request');
    const bad = await ask(PEOPLE.karin, [person('19121212-1213')]);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(bad.body.code).toBe('invalid-identity-number');
  });

  it('holds a firm\'s joint mandate to its employees to the same rule', async () => {
    const { body: m } = await client.post('/api/mandates', { agents: [organisation(FIRM)], scopes: [{ service: TAX, permissions: ['submit-return'] }], validTo: inDays(30) });
    const tolvan = await server.signIn(PEOPLE.tolvan);
    const { body: link } = await tolvan.post('/api/mandates', {
      principal: organisation(FIRM),
      agents: [person(PEOPLE.anna), person(PEOPLE.maja)],
      scopes: [{ service: TAX, permissions: ['submit-return'] }],
      validTo: inDays(30),
      mode: 'joint',
    });
    expect((await ask(PEOPLE.anna)).body).toMatchObject({ decision: 'deny', reasons: [{ code: 'joint-requires-co-agents', mandateId: link.id }] });
    expect((await ask(PEOPLE.anna, [person(PEOPLE.maja)])).body).toMatchObject({ decision: 'permit', basis: [{ mandateId: m.id, via: { mandateId: link.id } }] });
  });
});
