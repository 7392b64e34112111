import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORGANISATION, seedDemo } from '../../server/demo.ts';
import { ENGINES, inDays, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';

interface Item {
  principal: { type: string; id: string; name?: string };
  roles: { kind: string; scope?: string[]; rule?: string }[];
  mandateIds: string[];
  via: { type: string; id: string; name?: string }[];
  scopes: { service: string; permissions: string[] }[];
}

describe.each(ENGINES)('whom I may act for, on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
    await seedDemo(server.ctx);
  });
  afterAll(() => server?.close());

  async function itemsOf(personalNumber: string): Promise<Item[]> {
    const client = await server.signIn(personalNumber);
    const res = await client.get('/api/representations');
    expect(res.status).toBe(200);
    return (res.body as { items: Item[] }).items;
  }

  const find = (items: Item[], id: string) => items.find((i) => i.principal.id === id);

  it('a guardian sees the child, with what the pharmacy lets a guardian do', async () => {
    const maja = find(await itemsOf(PEOPLE.erik), PEOPLE.maja);
    expect(maja?.principal).toEqual({ type: 'person', id: PEOPLE.maja, name: 'Maja Lindqvist' });
    expect(maja?.roles).toEqual([{ kind: 'guardian', validTo: expect.any(String) }]);
    expect(maja?.mandateIds).toEqual([]);
    expect(maja?.scopes.map((s) => s.service)).toContain('apoteket.prescriptions');
  });

  it('a trustee sees the scope; a mandate from the same person joins the same entry', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const granted = await anna.post('/api/mandates', {
      agents: [person(PEOPLE.karin)],
      scopes: [{ service: 'apoteket.prescriptions', permissions: ['view-prescriptions'] }],
      validTo: inDays(30),
    });
    expect(granted.status).toBe(201);
    const items = await itemsOf(PEOPLE.karin);
    const entry = find(items, PEOPLE.anna);
    expect(entry?.roles).toEqual([{ kind: 'trustee', scope: ['property'] }]);
    expect(entry?.mandateIds).toContain(granted.body.id);
    const services = entry?.scopes.map((s) => s.service) ?? [];
    expect(services).toEqual(expect.arrayContaining(['apoteket.prescriptions', 'skatteverket.income-tax']));
    expect(items.filter((i) => i.principal.id === PEOPLE.anna)).toHaveLength(1);

    await anna.post(`/api/mandates/${granted.body.id}/revoke`, {});
    const after = find(await itemsOf(PEOPLE.karin), PEOPLE.anna);
    expect(after?.mandateIds).not.toContain(granted.body.id);
    expect(after?.roles).toEqual([{ kind: 'trustee', scope: ['property'] }]);
  });

  it('a signatory sees the organisation and the signing rule, jointly too', async () => {
    const org = find(await itemsOf(PEOPLE.tolvan), DEMO_ORGANISATION.id);
    expect(org?.principal).toEqual({ type: 'organisation', id: DEMO_ORGANISATION.id, name: DEMO_ORGANISATION.name });
    expect(org?.roles).toEqual([{ kind: 'signatory', rule: 'alone' }]);
    expect(org?.scopes.map((s) => s.service)).toContain('exempelbanken.accounts');
    const joint = (await itemsOf(PEOPLE.erik)).find((i) => i.principal.type === 'organisation');
    expect(joint?.roles).toEqual([{ kind: 'signatory', rule: 'jointly' }]);
  });

  it('an employee acting through a firm sees the firm’s client, with what both mandates name', async () => {
    const firm = { type: 'organisation' as const, id: DEMO_ORGANISATION.id };
    const anna = await server.signIn(PEOPLE.anna);
    const toFirm = await anna.post('/api/mandates', {
      agents: [firm],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return', 'submit-return'] }],
      validTo: inDays(60),
    });
    expect(toFirm.status).toBe(201);
    expect(find(await itemsOf(PEOPLE.erik), PEOPLE.anna)).toBeUndefined();

    // Tolvan signs alone for the firm and lets Erik view returns for it.
    const tolvan = await server.signIn(PEOPLE.tolvan);
    const toErik = await tolvan.post('/api/mandates', {
      principal: firm,
      agents: [person(PEOPLE.erik)],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return'] }],
      validTo: inDays(30),
    });
    expect(toErik.status).toBe(201);
    const items = await itemsOf(PEOPLE.erik);
    expect(find(items, PEOPLE.anna)).toEqual({
      principal: { type: 'person', id: PEOPLE.anna, name: 'Anna Andersson' },
      roles: [],
      mandateIds: [],
      via: [{ type: 'organisation', id: DEMO_ORGANISATION.id, name: DEMO_ORGANISATION.name }],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['view-return'] }],
    });
    expect(find(items, DEMO_ORGANISATION.id)?.mandateIds).toEqual([toErik.body.id]);

    // The agencies' listing is the same function: it names the firm and both mandates, as a check would.
    const agency = await server.agency('firm-listing', ['skatteverket.income-tax']);
    const listing = await server.anonymous().send('GET', `/api/v1/representations?agent=${PEOPLE.erik}&service=skatteverket.income-tax`, {
      headers: { authorization: `Bearer ${await agency.token()}` },
    });
    expect(listing.body.items).toContainEqual({
      principal: person(PEOPLE.anna),
      permissions: ['view-return'],
      basis: [{ kind: 'mandate', mandateId: toFirm.body.id, mode: 'several', via: { organisation: firm, mandateId: toErik.body.id } }],
    });
    const check = await agency.check({ agent: person(PEOPLE.erik), principal: person(PEOPLE.anna), service: 'skatteverket.income-tax', permission: 'view-return', assurance: 'substantial' });
    expect(check.body.decision).toBe('permit');

    await tolvan.post(`/api/mandates/${toErik.body.id}/revoke`, {});
    expect(find(await itemsOf(PEOPLE.erik), PEOPLE.anna)).toBeUndefined();
  });

  it('a principal with protected identity is listed without a name; others see nothing of it', async () => {
    const sara = await server.signIn(PEOPLE.sara);
    const granted = await sara.post('/api/mandates', {
      agents: [person(PEOPLE.tolvan)],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['submit-return'] }],
      validTo: inDays(30),
    });
    expect(granted.status).toBe(201);
    const entry = find(await itemsOf(PEOPLE.tolvan), PEOPLE.sara);
    expect(entry?.principal).toEqual({ type: 'person', id: PEOPLE.sara });
    expect(entry?.scopes).toEqual([{ service: 'skatteverket.income-tax', permissions: ['submit-return'] }]);
    expect(find(await itemsOf(PEOPLE.anna), PEOPLE.sara)).toBeUndefined();
  });

  it('someone with no mandate and no register role has an empty list; signed out is 401', async () => {
    expect(await itemsOf(PEOPLE.maja)).toEqual([]);
    expect((await server.anonymous().get('/api/representations')).status).toBe(401);
  });
});
