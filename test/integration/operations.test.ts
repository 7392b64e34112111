import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../server/config.ts';
import { generatePrivateJwk } from '../../server/identity/keys.ts';
import { ENGINES, PEOPLE, person, startServer, type TestServer } from '../support/server.ts';
import { tempDir } from '../support/temp.ts';

describe.each(ENGINES)('operations on %s', (engine) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(engine);
  });
  afterAll(() => server?.close());

  it('answers health, readiness and metrics', async () => {
    const client = server.anonymous();
    expect((await client.get('/healthz')).body).toEqual({ status: 'ok' });
    expect((await client.get('/readyz')).body).toEqual({ status: 'ready', services: 4 });
    const agency = await server.agency('apoteket', ['apoteket.prescriptions']);
    await agency.check({ agent: person(PEOPLE.karin), principal: person(PEOPLE.anna), service: 'apoteket.prescriptions', permission: 'view-prescriptions' });
    const metrics = await client.get('/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.text).toMatch(/ombud_checks_total\{decision="deny"\} [1-9]/);
    expect(metrics.text).toContain('ombud_http_request_duration_seconds_bucket');
    expect(metrics.text).toContain('process_resident_memory_bytes');
  });

  it('publishes OpenAPI 3.1 generated from the request schemas', async () => {
    const { body } = await server.anonymous().get('/openapi.json');
    expect(body.openapi).toBe('3.1.0');
    for (const p of ['/api/mandates', '/api/mandates/{id}', '/api/mandates/{id}/revoke', '/api/mandates/{id}/approve', '/api/v1/checks', '/api/v1/representations', '/oauth/token', '/api/audit', '/api/services']) {
      expect(Object.keys(body.paths)).toContain(p);
    }
    const checkSchema = body.components.schemas.CheckRequest;
    expect(checkSchema.required).toEqual(expect.arrayContaining(['agent', 'principal', 'service', 'permission']));
    expect(checkSchema.additionalProperties).toBe(false);
    expect(body.paths['/oauth/token'].post.requestBody.content).toHaveProperty(['application/x-www-form-urlencoded']);
    expect(body.components.schemas.GrantRequest.properties).toHaveProperty('parentId');
  });

  it('sends strict security headers and keeps personal answers out of caches', async () => {
    const anna = await server.signIn(PEOPLE.anna);
    const res = await anna.get('/api/mandates');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('lists the catalogue with Swedish and English labels', async () => {
    const { body } = await server.anonymous().get('/api/services');
    expect(body).toHaveLength(4);
    const bank = body.find((s: { id: string }) => s.id === 'exempelbanken.accounts');
    expect(bank).toMatchObject({ agency: 'exempelbanken', maxValidityDays: 1095, acceptedBases: ['mandate', 'signatory', 'trustee'] });
    expect(bank.permissions.find((p: { code: string }) => p.code === 'pay').name).toEqual({ sv: 'Betala räkningar', en: 'Pay bills' });
  });
});

describe('configuration', () => {
  it('defaults to development mode on the embedded database with demo data', () => {
    const config = readConfig({});
    expect(config).toMatchObject({ mode: 'development', port: 3000, host: '127.0.0.1', devSignIn: true, demoData: true, databaseUrl: undefined });
    expect(config.dataDir).toBe(path.resolve('./data'));
  });

  it('refuses production without key material, public URL and OIDC issuer', () => {
    expect(() => readConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => readConfig({ NODE_ENV: 'production' })).toThrow(/SIGNING_KEYS_FILE/);
    expect(() => readConfig({ NODE_ENV: 'production', SIGNING_KEYS_FILE: 'k', PUBLIC_URL: 'https://ombud.example', OIDC_ISSUER: 'https://id.example', DEMO_DATA: 'true' })).toThrow(/DEMO_DATA/);
    expect(
      readConfig({ NODE_ENV: 'production', SIGNING_KEYS_FILE: 'k', PUBLIC_URL: 'https://ombud.example', OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'ombud' }),
    ).toMatchObject({
      devSignIn: false,
      demoData: false,
      secureCookies: true,
    });
  });

  it('names every invalid variable', () => {
    expect(() => readConfig({ PORT: 'eighty', PUBLIC_URL: 'not a url' })).toThrow(/PORT[\s\S]*PUBLIC_URL|PUBLIC_URL[\s\S]*PORT/);
  });
});

describe('production mode', () => {
  let server: TestServer;

  beforeAll(async () => {
    const dir = tempDir('keys');
    const keyFile = path.join(dir, 'keys.json');
    writeFileSync(keyFile, JSON.stringify({ keys: [await generatePrivateJwk()] }));
    server = await startServer('pglite', { env: { NODE_ENV: 'production', SIGNING_KEYS_FILE: keyFile, OIDC_ISSUER: 'https://id.example', OIDC_CLIENT_ID: 'ombud' } });
  });
  afterAll(() => server?.close());

  it('has no dev sign-in, and sends HSTS', async () => {
    const res = await server.anonymous().post('/auth/dev/login', { personalNumber: PEOPLE.anna });
    expect(res.status).toBe(404);
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    const { body } = await server.anonymous().get('/openapi.json');
    expect(Object.keys(body.paths)).not.toContain('/auth/dev/login');
    expect((await server.anonymous().get('/auth/dev/people')).status).toBe(404);
    expect((await server.anonymous().get('/auth/methods')).body).toEqual({ eid: true, passkey: true, dev: false });
  });
});
