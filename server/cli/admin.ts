import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importJWK, type JWK } from 'jose';
import { AgencyInputError, registerAgency } from '../agencies/service.ts';
import { requestAccessToken, signClientAssertion } from '../agencies/token-client.ts';
import { verifyAuditChain } from '../audit/service.ts';
import { ConfigError, readConfig } from '../config.ts';
import { openDatabase } from '../context.ts';
import { DataDirBusyError } from '../db/data-dir-lock.ts';
import { MigrationError, migrate } from '../db/migrate.ts';
import { DEMO_AGENCY_ID, DEMO_AGENCY_KEY_FILE, DEMO_PEOPLE } from '../demo.ts';
import { generateClientSecret } from '../identity/client-secret.ts';
import { KeyFileError, listKeyFile, type RingAlg, rotateKeyFile } from '../identity/keys.ts';
import { countByState, requeueFailed } from '../notifications/repository.ts';
import { PolicyEngine, PolicyLoadError } from '../policy/engine.ts';
import { RegisterInputError } from '../registers/adapter.ts';
import { fileRegisterAdapter } from '../registers/file-import.ts';
import { applyRegisterBatch } from '../registers/service.ts';

const USAGE = `Usage: npm run admin -- <command> [options]

  migrate                              apply pending migrations
  agency add --id <id> --name <name> --services <s1,s2> --jwks <file.json>
             [--org-number <orgnr>] [--scopes user:self,user:other,user:any]
             [--client-secret-file <file> | --generate-client-secret]
             [--id-token-issuer <iss>] [--id-token-audience <aud>]
                                       register an agency (or replace its services and keys);
                                       the options make it a tredje man of the Mina ombud API
  agency add ... --jwks-url <https url>  instead of --jwks: the agency publishes its keys there;
                                       fetched with caching and again when an unknown kid appears
  registers import <file.jsonl> [--source <name>]
                                       load legal representation (guardians, trustees,
                                       signatories), replacing earlier rows of the same
                                       register and source (default source: the file name);
                                       a file with any bad line is rejected whole
  audit verify                         walk the audit chain; exit 1 and name the first broken link
  notifications status                 count the outbox by state (pending, sent, failed)
  notifications retry-failed           give notifications that were given up a fresh set of attempts
  keys list [--ring mina-ombud]        our signing keys: which signs, which are still published
  keys rotate [--ring mina-ombud]      a new key signs from now on; the old one stays published
                                       until what it signed has expired; a running server picks
                                       the change up by itself
  demo-assertion                       print a client assertion signed with the demo agency key
  demo-check [--agent <pnr>] [--principal <pnr>] [--service <id>] [--permission <code>]
                                       get a token as the demo agency and make a check against
                                       the running server (development mode)
`;

class UsageError extends Error {
  override name = 'UsageError';
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function withDatabase<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const config = readConfig();
  const database = await openDatabase(config);
  try {
    await migrate(database, config.migrationsDir);
    return await fn(database);
  } finally {
    await database.close();
  }
}

async function demoAssertion(): Promise<string> {
  const config = readConfig();
  const keyFile = path.join(config.dataDir, DEMO_AGENCY_KEY_FILE);
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
  } catch {
    throw new UsageError(`No demo agency key at ${keyFile}: start the server once in development mode (npm start).`);
  }
  const privateKey = await importJWK(jwk, 'ES256');
  if (privateKey instanceof Uint8Array) throw new UsageError(`${keyFile} does not hold an ES256 private key.`);
  return signClientAssertion(`${config.publicUrl}/oauth/token`, { agencyId: DEMO_AGENCY_ID, kid: jwk.kid as string, privateKey });
}

async function demoCheck(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      agent: { type: 'string', default: DEMO_PEOPLE[1].id },
      principal: { type: 'string', default: DEMO_PEOPLE[0].id },
      service: { type: 'string', default: 'skatteverket.income-tax' },
      permission: { type: 'string', default: 'submit-return' },
    },
  });
  const config = readConfig();
  const tokenResponse = await requestAccessToken(`${config.publicUrl}/oauth/token`, await demoAssertion()).catch(() => {
    throw new UsageError(`The server does not answer at ${config.publicUrl}; start it with npm start.`);
  });
  const token = (await tokenResponse.json()) as { access_token?: string };
  if (!token.access_token) throw new UsageError(`Token request failed: ${JSON.stringify(token)}`);
  const checkResponse = await fetch(`${config.publicUrl}/api/v1/checks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token.access_token}` },
    body: JSON.stringify({
      agent: { type: 'person', id: values.agent },
      principal: { type: 'person', id: values.principal },
      service: values.service,
      permission: values.permission,
    }),
  });
  out(JSON.stringify(await checkResponse.json(), null, 2));
}

/** The key file of a ring: the configured one, or the one development mode made in the data dir. */
function keyFileOf(args: string[]): { file: string; alg: RingAlg } {
  const { values } = parseArgs({ args, options: { ring: { type: 'string', default: 'default' } } });
  const config = readConfig();
  if (values.ring === 'mina-ombud') {
    return { file: config.minaOmbudSigningKeysFile ?? path.join(config.dataDir, 'mina-ombud-signing-keys.json'), alg: 'RS256' };
  }
  if (values.ring !== 'default') throw new UsageError('--ring is default or mina-ombud');
  return { file: config.signingKeysFile ?? path.join(config.dataDir, 'signing-keys.json'), alg: 'ES256' };
}

async function run(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  switch (`${command ?? ''} ${['agency', 'audit', 'keys', 'registers', 'notifications'].includes(command ?? '') ? (sub ?? '') : ''}`.trim()) {
    case 'keys list': {
      for (const key of listKeyFile(keyFileOf(rest).file)) {
        const when = key.state === 'signing' ? `since ${key.createdAt ?? '(unknown)'}` : `retired ${key.retiredAt ?? '(unknown)'}, published until ${key.publishedUntil ?? '(no end set)'}`;
        out(`${key.kid}  ${key.state}  ${when}`);
      }
      return 0;
    }
    case 'keys rotate': {
      const { file, alg } = keyFileOf(rest);
      const result = await rotateKeyFile(file, alg);
      out(`New signing key ${result.kid}; ${result.retired} stays published until its tokens have expired.`);
      if (result.dropped.length > 0) out(`No longer published: ${result.dropped.join(', ')}`);
      return 0;
    }
    case 'migrate': {
      const { applied } = await withDatabase((db) => migrate(db, readConfig().migrationsDir));
      out(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'Nothing to apply; the schema is up to date.');
      return 0;
    }
    case 'agency add': {
      const { values } = parseArgs({
        args: rest,
        options: {
          id: { type: 'string' },
          name: { type: 'string' },
          services: { type: 'string' },
          jwks: { type: 'string' },
          'jwks-url': { type: 'string' },
          'org-number': { type: 'string' },
          scopes: { type: 'string' },
          'client-secret-file': { type: 'string' },
          'generate-client-secret': { type: 'boolean' },
          'id-token-issuer': { type: 'string' },
          'id-token-audience': { type: 'string' },
        },
      });
      if (!values.id || !values.name || !values.services || !values.jwks === !values['jwks-url']) {
        throw new UsageError('agency add needs --id, --name, --services and one of --jwks or --jwks-url');
      }
      if (values['client-secret-file'] && values['generate-client-secret']) {
        throw new UsageError('Give --client-secret-file or --generate-client-secret, not both.');
      }
      let jwks: unknown;
      if (values.jwks) {
        try {
          jwks = JSON.parse(readFileSync(values.jwks, 'utf8'));
        } catch (err) {
          throw new UsageError(`Cannot read ${values.jwks}: ${(err as Error).message}`);
        }
      }
      let clientSecret: string | undefined;
      if (values['client-secret-file']) {
        try {
          clientSecret = readFileSync(values['client-secret-file'], 'utf8').trim();
        } catch (err) {
          throw new UsageError(`Cannot read ${values['client-secret-file']}: ${(err as Error).message}`);
        }
      } else if (values['generate-client-secret']) {
        clientSecret = generateClientSecret();
      }
      const policies = PolicyEngine.load(readConfig().policiesDir);
      const agency = await withDatabase((db) =>
        registerAgency(db, policies, {
          id: values.id,
          name: values.name,
          services: values.services?.split(','),
          ...(values['jwks-url'] ? { jwksUrl: values['jwks-url'] } : { jwks }),
          ...(values['org-number'] ? { orgNumber: values['org-number'] } : {}),
          ...(values.scopes !== undefined ? { tokenScopes: values.scopes.split(',').filter(Boolean) } : {}),
          ...(clientSecret !== undefined ? { clientSecret } : {}),
          ...(values['id-token-issuer'] ? { idTokenIssuer: values['id-token-issuer'] } : {}),
          ...(values['id-token-audience'] ? { idTokenAudience: values['id-token-audience'] } : {}),
        }),
      );
      out(`Agency ${agency.id} (${agency.name}) may check: ${agency.services.join(', ')}`);
      if (agency.orgNumber) out(`Tredje man ${agency.orgNumber}; scopes: ${(agency.tokenScopes ?? []).join(' ') || '(unchanged)'}`);
      // Shown once and never stored: only its hash is kept.
      if (values['generate-client-secret']) out(`Client secret (shown only now): ${clientSecret}`);
      return 0;
    }
    case 'registers import': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { source: { type: 'string' } } });
      const [file] = positionals;
      if (!file || positionals.length > 1) throw new UsageError('registers import needs exactly one file');
      const batch = await fileRegisterAdapter(file, values.source)
        .read()
        .catch((err: unknown) => {
          if (err instanceof RegisterInputError) throw err;
          throw new UsageError(`Cannot read ${file}: ${(err as Error).message}`);
        });
      const result = await withDatabase((db) => applyRegisterBatch(db, batch));
      for (const r of result.registers) out(`${r.register} register from ${result.source}: ${r.rows} rows (replacing ${r.replaced})`);
      return 0;
    }
    case 'audit verify': {
      const result = await withDatabase((db) => verifyAuditChain(db));
      if (result.ok) {
        out(`Audit chain intact: ${result.events} events, head ${result.head}`);
        return 0;
      }
      out(`Audit chain BROKEN at event #${result.brokenAt.seq}${result.brokenAt.id ? ` (${result.brokenAt.id})` : ''}: ${result.problem}`);
      out(`${result.events} events before it verify.`);
      return 1;
    }
    case 'notifications status': {
      const counts = await withDatabase((db) => countByState(db.db));
      out(`Notifications: ${counts.pending} pending, ${counts.sent} sent, ${counts.failed} failed`);
      return 0;
    }
    case 'notifications retry-failed': {
      const requeued = await withDatabase((db) => requeueFailed(db.db, new Date()));
      out(`${requeued} notification(s) queued again; the server's worker delivers them.`);
      return 0;
    }
    case 'demo-assertion':
      out(await demoAssertion());
      return 0;
    case 'demo-check':
      await demoCheck(argv.slice(1));
      return 0;
    default:
      throw new UsageError(command ? `Unknown command: ${argv.join(' ')}` : 'No command given.');
  }
}

const KNOWN = [UsageError, ConfigError, PolicyLoadError, MigrationError, DataDirBusyError, AgencyInputError, KeyFileError, RegisterInputError];

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (KNOWN.some((cls) => err instanceof cls)) {
      process.stderr.write(`${(err as Error).message}\n`);
      if (err instanceof UsageError) process.stderr.write(`\n${USAGE}`);
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(2);
  },
);
