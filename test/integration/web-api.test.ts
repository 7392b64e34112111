import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, inDays, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';

describe.each(ENGINES)('what the web app reads on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(() => server?.close());

  async function grantByAnna(agent: string = PEOPLE.karin) {
    const anna = await server.signIn(PEOPLE.anna);
    const granted = await anna.post('/api/mandates', {
      agents: [person(agent)],
      scopes: [{ service: 'skatteverket.income-tax', permissions: ['submit-return'] }],
      validTo: inDays(90),
    });
    expect(granted.status).toBe(201);
    return { anna, id: granted.body.id as string };
  }

  it('a mandate’s activity shows its grant and the agency checks, to principal and agent alike', async () => {
    const { anna, id } = await grantByAnna();
    const agency = await server.agency('activity-agency', ['skatteverket.income-tax']);
    const check = await agency.check({
      agent: person(PEOPLE.karin),
      principal: person(PEOPLE.anna),
      service: 'skatteverket.income-tax',
      permission: 'submit-return',
    });
    expect(check.body.decision).toBe('permit');

    const asPrincipal = await anna.get(`/api/mandates/${id}/activity`);
    expect(asPrincipal.status).toBe(200);
    expect(asPrincipal.body.items.map((e: { action: string }) => e.action)).toEqual(['check', 'mandate.granted']);
    expect(asPrincipal.body.items[0]).toMatchObject({
      decision: 'permit',
      actor: { type: 'agency', id: 'activity-agency' },
      agent: { id: PEOPLE.karin },
      mandateId: id,
    });

    const karin = await server.signIn(PEOPLE.karin);
    const asAgent = await karin.get(`/api/mandates/${id}/activity`);
    expect(asAgent.status).toBe(200);
    expect(asAgent.body.items).toHaveLength(2);
  });

  it('someone else’s mandate has no activity to show: 404, as for a missing one', async () => {
    const { id } = await grantByAnna();
    const erik = await server.signIn(PEOPLE.erik);
    expect((await erik.get(`/api/mandates/${id}/activity`)).status).toBe(404);
    expect((await erik.get('/api/mandates/not-a-uuid/activity')).status).toBe(404);
    expect((await server.anonymous().get(`/api/mandates/${id}/activity`)).status).toBe(401);
  });

  it('a mandate’s activity comes a page at a time, to its first event, with nothing twice', async () => {
    // An agent of no other mandate here, so that every check is about this one.
    const { anna, id } = await grantByAnna(PEOPLE.erik);
    const agency = await server.agency('paging-agency', ['skatteverket.income-tax']);
    const check = () =>
      agency.check({ agent: person(PEOPLE.erik), principal: person(PEOPLE.anna), service: 'skatteverket.income-tax', permission: 'submit-return' });
    await Promise.all(Array.from({ length: 4 }, check));

    const seen: { id: string; action: string }[] = [];
    let cursor: number | undefined;
    let pages = 0;
    do {
      const page = await anna.get(`/api/mandates/${id}/activity?limit=2${cursor === undefined ? '' : `&before=${cursor}`}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      cursor = page.body.nextBefore;
      pages++;
    } while (cursor !== undefined && pages < 10);
    // Five events in pages of two: the third page is short and the last.
    expect(pages).toBe(3);
    expect(seen.map((e) => e.action)).toEqual(['check', 'check', 'check', 'check', 'mandate.granted']);
    expect(new Set(seen.map((e) => e.id)).size).toBe(5);

    expect((await anna.get(`/api/mandates/${id}/activity?limit=501`)).status).toBe(400);
    expect((await anna.get(`/api/mandates/${id}/activity?before=first`)).status).toBe(400);
  });

  it('activity filters by kind and by period', async () => {
    await grantByAnna();
    const anna = await server.signIn(PEOPLE.anna);
    const mandates = await anna.get('/api/audit?kind=mandate');
    expect(mandates.status).toBe(200);
    expect(mandates.body.items.length).toBeGreaterThan(0);
    expect(mandates.body.items.every((e: { action: string }) => e.action.startsWith('mandate.'))).toBe(true);

    const signIns = await anna.get('/api/audit?kind=sign-in');
    expect(signIns.body.items.every((e: { action: string }) => e.action === 'signed-in')).toBe(true);
    expect(signIns.body.items.length).toBeGreaterThan(0);

    const future = await anna.get(`/api/audit?from=${encodeURIComponent(inDays(1))}`);
    expect(future.body.items).toEqual([]);
    const past = await anna.get(`/api/audit?to=${encodeURIComponent(inDays(-1))}`);
    expect(past.body.items).toEqual([]);
    const now = await anna.get(`/api/audit?from=${encodeURIComponent(inDays(-1))}&to=${encodeURIComponent(inDays(1))}`);
    expect(now.body.items.length).toBeGreaterThan(0);

    expect((await anna.get('/api/audit?kind=everything')).status).toBe(400);
    expect((await anna.get(`/api/audit?from=${encodeURIComponent(inDays(1))}&to=${encodeURIComponent(inDays(-1))}`)).status).toBe(400);
    expect((await anna.get('/api/audit?from=yesterday')).status).toBe(400);
  });

  it('lists the ways to sign in, and the demo people for one-click sign-in outside production', async () => {
    expect((await server.anonymous().get('/auth/methods')).body).toEqual({ eid: false, passkey: true, dev: true });
    const res = await server.anonymous().get('/auth/dev/people');
    expect(res.status).toBe(200);
    expect(res.body.items).toContainEqual(expect.objectContaining({ personalNumber: PEOPLE.anna, name: 'Anna Andersson' }));
    const openapi = await server.anonymous().get('/openapi.json');
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/auth/dev/people', '/api/mandates/{id}/activity']));
  });

  it('serves the built web app on its own origin under a strict CSP, never its sources', async () => {
    const client = server.anonymous();
    const deepLink = await client.get('/mandates/00000000-0000-4000-8000-000000000000');
    expect(deepLink.status).toBe(200);
    expect(deepLink.headers.get('content-type')).toContain('text/html');
    expect(deepLink.text).toContain('<ombud-app>');
    const csp = deepLink.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // Only files: no inline script or style that the policy would refuse.
    expect(deepLink.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(deepLink.text)?.[1] as string;
    const asset = await client.get(script);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await client.get('/src/main.ts')).status).toBe(404);
    expect((await client.get('/assets/missing.js')).status).toBe(404);
  });
});
