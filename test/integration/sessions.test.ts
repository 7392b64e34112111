import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../server/config.ts';
import { Client, ENGINES, PEOPLE, startServer, type TestServer } from '../support/server.ts';

describe.each(ENGINES)('sessions on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine, { env: { SESSION_IDLE_MINUTES: '30', SESSION_ABSOLUTE_HOURS: '12' } });
  });
  afterAll(() => server?.close());

  async function partyId(personalNumber: string): Promise<string> {
    const row = await server.ctx.database.db.selectFrom('parties').select('id').where('national_id', '=', personalNumber).executeTakeFirstOrThrow();
    return row.id;
  }

  it('sets an HttpOnly, SameSite session cookie and gives a new id at every sign-in', async () => {
    const client = new Client(server.url);
    const res = await client.post('/auth/dev/login', { personalNumber: PEOPLE.erik });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ombud_session=')) as string;
    expect(cookie).toMatch(/httponly/i);
    expect(cookie).toMatch(/samesite=lax/i);
    expect(cookie).not.toMatch(/secure/i);
    const first = client.cookie;
    await client.post('/auth/dev/login', { personalNumber: PEOPLE.erik });
    expect(client.cookie).not.toBe(first);
    expect((await new Client(server.url, first).get('/api/me')).status).toBe(401);
    expect((await client.get('/api/me')).status).toBe(200);
  });

  it('lists my sessions, ends one, and signs out everywhere', async () => {
    const phone = await server.signIn(PEOPLE.anna);
    const laptop = await server.signIn(PEOPLE.anna);
    const other = await server.signIn(PEOPLE.sara);
    const listed = await laptop.get('/api/sessions');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(2);
    expect(listed.body.items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    expect(listed.body.items[0]).toMatchObject({ method: 'dev', assurance: 'high' });
    expect(JSON.stringify(listed.body)).not.toContain((laptop.cookie as string).split('=')[1]);

    const phoneId = (listed.body.items as Array<{ id: string; current: boolean }>).find((s) => !s.current)?.id as string;
    // Someone else cannot end my session, nor learn that it exists.
    expect((await other.send('DELETE', `/api/sessions/${phoneId}`)).status).toBe(404);
    expect((await laptop.send('DELETE', '/api/sessions/not-a-uuid')).status).toBe(404);
    expect((await laptop.send('DELETE', `/api/sessions/${phoneId}`)).status).toBe(204);
    expect((await phone.get('/api/me')).status).toBe(401);
    expect((await laptop.get('/api/me')).status).toBe(200);

    const tablet = await server.signIn(PEOPLE.anna);
    expect((await laptop.send('POST', '/auth/logout-everywhere', { origin: null })).status).toBe(403);
    expect((await laptop.post('/auth/logout-everywhere')).status).toBe(204);
    expect(laptop.cookie).toBeUndefined();
    expect((await tablet.get('/api/me')).status).toBe(401);
    expect((await other.get('/api/me')).status).toBe(200);
    const audit = await (await server.signIn(PEOPLE.anna)).get('/api/audit?action=signed-out-everywhere,session-ended');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['signed-out-everywhere', 'session-ended']);
  });

  it('signs out', async () => {
    const client = await server.signIn(PEOPLE.karin);
    const stolen = client.cookie;
    expect((await client.post('/auth/logout')).status).toBe(204);
    expect(client.cookie).toBeUndefined();
    expect((await new Client(server.url, stolen).get('/api/me')).status).toBe(401);
  });

  it('ends a session after the idle timeout and after the absolute timeout', async () => {
    const idle = await server.signIn(PEOPLE.maja);
    const db = server.ctx.database.db;
    const maja = await partyId(PEOPLE.maja);
    await db.updateTable('sessions').set({ last_seen_at: sql<Date>`now() - interval '31 minutes'` }).where('party_id', '=', maja).execute();
    expect((await idle.get('/api/me')).status).toBe(401);

    const old = await server.signIn(PEOPLE.maja);
    await db.updateTable('sessions').set({ expires_at: sql<Date>`now() - interval '1 second'` }).where('party_id', '=', maja).execute();
    expect((await old.get('/api/me')).status).toBe(401);
    expect(await db.selectFrom('sessions').select('id_hash').where('party_id', '=', maja).execute()).toEqual([]);
  });
});

describe('production sign-in settings', () => {
  const base = { NODE_ENV: 'production', SIGNING_KEYS_FILE: '/keys.json', PUBLIC_URL: 'https://ombud.example' };

  it('refuses to start without an https OpenID provider and a client id', () => {
    expect(() => readConfig({ ...base })).toThrow(/OIDC_ISSUER/);
    expect(() => readConfig({ ...base, OIDC_ISSUER: 'http://id.example', OIDC_CLIENT_ID: 'ombud' })).toThrow(/https/);
    expect(() => readConfig({ ...base, OIDC_ISSUER: 'https://id.example' })).toThrow(/OIDC_CLIENT_ID/);
    expect(() => readConfig({ ...base, OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'ombud', OIDC_ACR_MAP: 'loa3=extreme' })).toThrow(/OIDC_ACR_MAP/);
  });

  it('uses Secure cookies and has no dev sign-in', () => {
    const config = readConfig({ ...base, OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'ombud' });
    expect(config).toMatchObject({ secureCookies: true, devSignIn: false, mode: 'production' });
    expect(config.oidc).toMatchObject({ issuer: 'https://id.example', personalNumberClaim: 'https://claims.oidc.se/1.0/personalNumber', idTokenAlg: 'RS256' });
  });
});
