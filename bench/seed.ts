import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { luhnCheckDigit } from '../server/identity/identity-number.ts';

/** The scopes mandates are granted for, with their share of all mandates. */
const SCOPES: Array<{ service: string; permission: string; weight: number }> = [
  { service: 'skatteverket.income-tax', permission: 'view-return', weight: 25 },
  { service: 'skatteverket.income-tax', permission: 'submit-return', weight: 25 },
  { service: 'skatteverket.income-tax', permission: 'view-tax-account', weight: 10 },
  { service: 'forsakringskassan.benefits', permission: 'view-cases', weight: 15 },
  { service: 'forsakringskassan.benefits', permission: 'report-changes', weight: 10 },
  { service: 'apoteket.prescriptions', permission: 'view-prescriptions', weight: 10 },
  { service: 'apoteket.prescriptions', permission: 'collect-medicine', weight: 5 },
];

export const BENCH_SERVICES = [...new Set(SCOPES.map((s) => s.service))];

const FIRST_BIRTH_DAY = Date.UTC(1930, 0, 1);
const BIRTH_DAYS = 27_000;

/**
 * The n-th test person: a birth date between 1930 and 2003 and a serial number, with the Luhn
 * check digit, so every number is a valid personnummer and n ↦ number is one-to-one.
 */
export function personNumber(n: number): string {
  const birth = new Date(FIRST_BIRTH_DAY + (n % BIRTH_DAYS) * 86_400_000);
  const serial = String(Math.floor(n / BIRTH_DAYS) % 1000).padStart(3, '0');
  const yyyymmdd = birth.toISOString().slice(0, 10).replace(/-/g, '');
  return `${yyyymmdd}${serial}${luhnCheckDigit(yyyymmdd.slice(2) + serial)}`;
}

const CHUNK = 50_000;

/** Adds people `from`..`to - 1` as parties, remembering n ↦ party id in `bench_people`. */
async function seedPeople(client: pg.Client, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += CHUNK) {
    const end = Math.min(to, start + CHUNK);
    const ns: number[] = [];
    const ids: string[] = [];
    const numbers: string[] = [];
    for (let n = start; n < end; n++) {
      ns.push(n);
      ids.push(randomUUID());
      numbers.push(personNumber(n));
    }
    await client.query(
      `WITH p AS (
         INSERT INTO parties (id, kind, national_id, protected_identity)
         SELECT id, 'person', nid, n % 500 = 7 FROM unnest($1::int[], $2::uuid[], $3::text[]) AS u(n, id, nid)
       )
       INSERT INTO bench_people (n, id) SELECT n, id FROM unnest($1::int[], $2::uuid[]) AS u(n, id)`,
      [ns, ids, numbers],
    );
  }
}

/**
 * Grows the database to `mandates` mandates over `mandates / 2` people. One mandate in two
 * goes to one of a few professional agents (people/250 of them, so each holds hundreds); the
 * rest connect random people, so most principals hold 0–2. About 2% are revoked, 1% expired,
 * 0.5% pending and 5% joint with a second agent; the rest are active. One person in 200 has a
 * trustee in the register.
 */
export async function seed(client: pg.Client, mandates: number): Promise<void> {
  await client.query('CREATE TABLE IF NOT EXISTS bench_people (n int PRIMARY KEY, id uuid NOT NULL)');
  const { rows } = await client.query<{ people: number; mandates: number }>(
    'SELECT (SELECT count(*) FROM bench_people)::int AS people, (SELECT count(*) FROM mandates)::int AS mandates',
  );
  const have = rows[0] ?? { people: 0, mandates: 0 };
  const people = Math.max(have.people, Math.ceil(mandates / 2));
  await seedPeople(client, have.people, people);
  // Register data: one person in 200 has a court-appointed trustee (god man) for their property.
  await client.query(
    `INSERT INTO register_entries (id, register, source, kind, representative_id, represented_id, scope, imported_at)
     SELECT gen_random_uuid(), 'trustee', 'bench', 'trustee', r.id, p.id, ARRAY['property'], now()
     FROM bench_people p JOIN bench_people r ON r.n = (p.n * 7 + 3) % $3::int
     WHERE p.n >= $1::int AND p.n < $2::int AND p.n % 200 = 0 AND r.n <> p.n`,
    [have.people, people, people],
  );
  const pros = Math.max(2, Math.floor(people / 250));
  const cumulative: number[] = [];
  let total = 0;
  for (const s of SCOPES) cumulative.push((total += s.weight));

  for (let start = have.mandates; start < mandates; start += 200_000) {
    const end = Math.min(mandates, start + 200_000);
    await client.query('BEGIN');
    await client.query(
      `CREATE TEMP TABLE stage ON COMMIT DROP AS
       SELECT g AS m, gen_random_uuid() AS id, pn,
         CASE WHEN an = pn THEN (an + 1) % $3::int ELSE an END AS an,
         (pn + 1 + floor(random() * ($3::int - 2))::int) % $3::int AS an2,
         floor(random() * $5::int)::int AS pick
       FROM (
         SELECT g, floor(random() * $3::int)::int AS pn,
           CASE WHEN g % 2 = 0 THEN floor(random() * $4::int)::int ELSE floor(random() * $3::int)::int END AS an
         FROM generate_series($1::int, $2::int - 1) g
       ) s`,
      [start, end, people, pros, total],
    );
    await client.query(
      `INSERT INTO mandates (id, principal_id, mode, may_delegate, valid_from, valid_to, state, created_at, created_by,
                             revoked_at, revoked_by, revoked_role)
       SELECT s.id, p.id,
         CASE WHEN s.m % 20 = 5 THEN 'joint' ELSE 'several' END, false,
         now() - interval '30 days',
         CASE WHEN s.m % 100 = 1 THEN now() - interval '1 day' ELSE now() + interval '300 days' END,
         CASE WHEN s.m % 50 = 0 THEN 'revoked' WHEN s.m % 200 = 3 THEN 'pending' ELSE 'active' END,
         now() - interval '30 days', p.id,
         CASE WHEN s.m % 50 = 0 THEN now() - interval '2 days' END,
         CASE WHEN s.m % 50 = 0 THEN p.id END,
         CASE WHEN s.m % 50 = 0 THEN 'principal' END
       FROM stage s JOIN bench_people p ON p.n = s.pn`,
    );
    await client.query(
      `INSERT INTO mandate_agents (mandate_id, agent_id)
       SELECT s.id, a.id FROM stage s JOIN bench_people a ON a.n = s.an
       UNION ALL
       SELECT s.id, b.id FROM stage s JOIN bench_people b ON b.n = s.an2 WHERE s.m % 20 = 5 AND s.an2 <> s.an`,
    );
    await client.query(
      `INSERT INTO mandate_scopes (mandate_id, service, permission)
       SELECT s.id, (($1::text[])[i]), (($2::text[])[i])
       FROM stage s, LATERAL (SELECT min(k) AS i FROM unnest($3::int[]) WITH ORDINALITY AS c(upto, k) WHERE s.pick < c.upto) x`,
      [SCOPES.map((s) => s.service), SCOPES.map((s) => s.permission), cumulative],
    );
    await client.query('COMMIT');
  }
  // A database in service is not fresh from a bulk load: set the hint bits and visibility map,
  // gather statistics and write the load out now, not in the middle of a measurement.
  await client.query('VACUUM ANALYZE');
  await client.query('CHECKPOINT');
}

export interface Tuple {
  agent: string;
  principal: string;
  service: string;
  permission: string;
  mandateId: string | null;
  principalPartyId: string;
  expected: 'permit' | 'deny';
  /** What a peer PDP is told about the mandate, as the request's data. */
  mandate: { state: string; mode: string; validFrom: string; validTo: string; agentCount: number } | null;
  protectedIdentity: boolean;
}

const SAMPLE = `
SELECT a.national_id AS agent, p.national_id AS principal, s.service, s.permission, m.id AS mandate_id,
  p.id AS principal_party_id, m.state, m.mode, m.valid_from, m.valid_to, p.protected_identity,
  (SELECT count(*) FROM mandate_agents x WHERE x.mandate_id = m.id)::int AS agent_count
FROM mandates m TABLESAMPLE SYSTEM (LEAST(100, $1::float8))
JOIN mandate_agents ma ON ma.mandate_id = m.id
JOIN parties a ON a.id = ma.agent_id
JOIN parties p ON p.id = m.principal_id
JOIN mandate_scopes s ON s.mandate_id = m.id
WHERE ($2 = 'permit' AND m.state = 'active' AND m.mode = 'several' AND m.valid_to > now())
   OR ($2 = 'deny' AND (m.state <> 'active' OR m.mode = 'joint' OR m.valid_to <= now()))
ORDER BY random() LIMIT $3`;

/**
 * Check requests with their expected answer: about 70% permits (active mandates, several
 * agents), 30% denies spread over revoked, expired, pending and joint mandates, a permission
 * the mandate does not hold, and people with no mandate between them.
 */
export async function sampleTuples(client: pg.Client, count: number): Promise<Tuple[]> {
  const { rows: size } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM mandates');
  const mandates = size[0]?.n ?? 1;
  const pct = (want: number) => Math.min(100, (want * 400) / mandates);
  const permits = Math.round(count * 0.7);
  const byState = Math.round(count * 0.2);
  const other = count - permits - byState;
  const toTuple = (r: Record<string, any>, expected: Tuple['expected']): Tuple => ({
    agent: r.agent,
    principal: r.principal,
    service: r.service,
    permission: r.permission,
    mandateId: r.mandate_id,
    principalPartyId: r.principal_party_id,
    expected,
    mandate: {
      state: r.state,
      mode: r.mode,
      validFrom: (r.valid_from as Date).toISOString(),
      validTo: (r.valid_to as Date).toISOString(),
      agentCount: r.agent_count,
    },
    protectedIdentity: r.protected_identity,
  });
  const permitRows = (await client.query(SAMPLE, [pct(permits), 'permit', permits + other])).rows;
  const denyRows = (await client.query(SAMPLE, [pct(byState * 20), 'deny', byState])).rows;
  const tuples = permitRows.slice(0, permits).map((r) => toTuple(r, 'permit'));
  tuples.push(...denyRows.map((r) => toTuple(r, 'deny')));
  // The rest ask about a permission the mandate lacks, or about two people with nothing between them.
  for (const [k, r] of permitRows.slice(permits).entries()) {
    if (k % 2 === 0) {
      const other = SCOPES.find((s) => s.service === r.service && s.permission !== r.permission) as (typeof SCOPES)[number];
      tuples.push({ ...toTuple(r, 'deny'), permission: other.permission, mandateId: null, mandate: null });
    } else {
      tuples.push({ ...toTuple(r, 'deny'), agent: personNumber(k * 7919 + 13), mandateId: null, mandate: null });
    }
  }
  return tuples;
}
