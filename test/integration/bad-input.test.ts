import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, inDays, PEOPLE, person, startServer, type Client, type TestAgency, type TestServer } from '../support/server.ts';

const good = () => ({
  agents: [person(PEOPLE.karin)],
  scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return'] }],
  validTo: inDays(30),
});

/** [name, body or raw text, expected status, expected code] */
const grants: Array<[string, unknown, number, string]> = [
  ['malformed JSON', '{"agents": [', 400, 'invalid-json'],
  ['JSON null (only objects are accepted)', 'null', 400, 'invalid-json'],
  ['an array', '[]', 400, 'invalid-request'],
  ['an unknown field', { ...good(), admin: true }, 400, 'invalid-request'],
  ['an unknown field in a party', { ...good(), agents: [{ ...person(PEOPLE.karin), name: 'x' }] }, 400, 'invalid-request'],
  ['a wrong type', { ...good(), mayDelegate: 'yes' }, 400, 'invalid-request'],
  ['no agents', { ...good(), agents: [] }, 400, 'invalid-request'],
  ['a bad check digit', { ...good(), agents: [person('19680514-4027')] }, 400, 'invalid-identity-number'],
  ['a date that does not exist', { ...good(), agents: [person('19680230-4020')] }, 400, 'invalid-identity-number'],
  ['letters as a number', { ...good(), agents: [person('DROP TABLE parties')] }, 400, 'invalid-identity-number'],
  ['a person number as an organisation', { ...good(), agents: [{ type: 'organisation', id: PEOPLE.karin }] }, 400, 'invalid-identity-number'],
  ['an unknown party type', { ...good(), agents: [{ type: 'robot', id: PEOPLE.karin }] }, 400, 'invalid-request'],
  ['a date without zone', { ...good(), validTo: '2027-01-01T00:00:00' }, 400, 'invalid-request'],
  ['a date that is not a date', { ...good(), validTo: 'tomorrow' }, 400, 'invalid-request'],
  ['inverted dates', { ...good(), validFrom: inDays(10), validTo: inDays(5) }, 400, 'invalid-validity'],
  ['a start in the past', { ...good(), validFrom: inDays(-3) }, 400, 'invalid-validity'],
  ['a window beyond the maximum', { ...good(), validTo: inDays(4000) }, 400, 'validity-exceeds-maximum'],
  ['an unknown service', { ...good(), scopes: [{ service: 'nope.nothing', permissions: ['x'] }] }, 400, 'scope-not-in-catalogue'],
  ['an unknown permission', { ...good(), scopes: [{ service: 'skatteverket.income-tax', permissions: ['steal'] }] }, 400, 'scope-not-in-catalogue'],
  ['a service named twice', { ...good(), scopes: [good().scopes[0], good().scopes[0]] }, 400, 'duplicate-scope'],
  ['the same agent twice', { ...good(), agents: [person(PEOPLE.karin), person('196805144026')] }, 400, 'duplicate-agent'],
  ['oneself as agent', { ...good(), agents: [person(PEOPLE.anna)] }, 400, 'agent-is-principal'],
  ['joint with one agent', { ...good(), mode: 'joint' }, 400, 'invalid-request'],
  ['someone else as principal', { ...good(), principal: person(PEOPLE.erik) }, 403, 'not-a-signatory'],
  ['a huge permission list', { ...good(), scopes: [{ service: 'skatteverket.income-tax', permissions: Array(51).fill('view-return') }] }, 400, 'invalid-request'],
];

describe.each(ENGINES)('bad input on %s: 4xx problem+json, no 5xx, no partial write (invariant 7)', (engine) => {
  let server: TestServer;
  let anna: Client;
  let agency: TestAgency;

  beforeAll(async () => {
    server = await startServer(engine);
    anna = await server.signIn(PEOPLE.anna);
    agency = await server.agency('skatteverket', ['skatteverket.income-tax']);
  });
  afterAll(() => server?.close());

  async function counts() {
    const db = server.ctx.database.db;
    const row = await sql<{ m: number; a: number; s: number; e: number }>`SELECT
      (SELECT count(*)::int FROM mandates) AS m, (SELECT count(*)::int FROM mandate_agents) AS a,
      (SELECT count(*)::int FROM mandate_scopes) AS s, (SELECT count(*)::int FROM audit_events) AS e`.execute(db);
    return row.rows[0];
  }

  it.each(grants)('grant with %s', async (_name, body, status, code) => {
    const before = await counts();
    const res = typeof body === 'string' ? await anna.send('POST', '/api/mandates', { raw: body }) : await anna.post('/api/mandates', body);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    expect(res.text).not.toMatch(/at .*\.ts:\d+|node_modules|stack/i);
    expect(await counts()).toEqual(before);
  });

  it('an oversized body is 413', async () => {
    const res = await anna.send('POST', '/api/mandates', { raw: JSON.stringify({ ...good(), pad: 'x'.repeat(200_000) }) });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload-too-large');
  });

  it('a body that is not JSON is 415', async () => {
    const res = await anna.send('POST', '/api/mandates', { raw: 'agents=1', contentType: 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe('unsupported-media-type');
  });

  it('a revoke reason with control characters is refused, and an id that is not a UUID is 404', async () => {
    const { body: m } = await anna.post('/api/mandates', good());
    const res = await anna.post(`/api/mandates/${m.id}/revoke`, { reason: 'bad\u0000reason' });
    expect(res.status).toBe(400);
    expect((await anna.get(`/api/mandates/${m.id}`)).body.status).toBe('active');
    expect((await anna.get("/api/mandates/1' OR '1'='1")).status).toBe(404);
    expect((await anna.post('/api/mandates/not-a-uuid/revoke', {})).status).toBe(404);
  });

  it.each([
    ['an unknown field', { extra: 1 }, 'invalid-request'],
    ['a bad agent number', { agent: person('123') }, 'invalid-identity-number'],
    ['a bad time', { at: 'yesterday' }, 'invalid-request'],
    ['a negative amount', { amount: -5 }, 'invalid-request'],
    ['an unknown assurance', { assurance: 'supreme' }, 'invalid-request'],
  ])('check with %s', async (_name, patch, code) => {
    const res = await agency.check({
      agent: person(PEOPLE.karin),
      principal: person(PEOPLE.anna),
      service: 'skatteverket.income-tax',
      permission: 'view-return',
      ...patch,
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
  });

  it('query strings are validated too', async () => {
    expect((await anna.get('/api/mandates?as=owner')).status).toBe(400);
    expect((await anna.get('/api/audit?limit=100000')).status).toBe(400);
    expect((await anna.get('/api/audit?limit=abc')).status).toBe(400);
    const res = await server.anonymous().send('GET', '/api/v1/representations?agent=xyz&service=skatteverket.income-tax', {
      headers: { authorization: `Bearer ${await agency.token()}` },
    });
    expect(res.body.code).toBe('invalid-identity-number');
  });

  it('unknown paths and methods are problem+json too', async () => {
    const missing = await anna.get('/api/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not-found');
    const wrongMethod = await anna.send('DELETE', '/api/mandates');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.code).toBe('method-not-allowed');
  });
});
