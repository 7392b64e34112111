import type { Database } from '../db/database.ts';
import type { RegisterKind, SigningRule } from '../db/schema.ts';
import type { Party } from '../parties/repository.ts';
import type { PartyRef, PartyType } from '../parties/schema.ts';
import type { RegisterRow } from '../registers/repository.ts';
import type { Candidate, CheckCandidates, Link } from './repository.ts';

export interface LookupKey {
  agent: PartyRef;
  principal: PartyRef;
  service: string;
  permission: string;
  /** The register bases the service accepts; none, and the registers are not read. */
  registerKinds: readonly RegisterKind[];
  coAgents?: readonly PartyRef[] | undefined;
}

export interface LookupResult {
  agent: Party | undefined;
  principal: Party | undefined;
  /** Empty unless both parties are known. */
  found: CheckCandidates;
  /** Mandates (of `found`, or above them in a chain) the agency declared invalid for the service. */
  invalidated: Set<string>;
  /** The organisations the organisation links come from. */
  firms: Map<string, Party>;
  coAgentIds: Set<string>;
}

interface Pending {
  key: LookupKey;
  resolve: (result: LookupResult) => void;
  reject: (err: unknown) => void;
}

/**
 * One row of the lookup; `tag` says which: a mandate from the principal (`m`), an organisation
 * link (`l`), a mandate above either in a chain (`a`), a register fact (`r`), or a party: the
 * agent (`pa`), the principal (`pp`), an organisation a link comes from (`pf`), a co-agent (`pc`).
 */
interface Row {
  tag: 'm' | 'l' | 'a' | 'r' | 'pa' | 'pp' | 'pf' | 'pc';
  i: number;
  id: string | null;
  principal_id: string | null;
  mode: Link['mode'] | null;
  may_delegate: boolean | null;
  state: Link['state'] | null;
  valid_from: Date | null;
  valid_to: Date | null;
  revoked_at: Date | null;
  parent_id: string | null;
  created_by: string | null;
  has_scope: boolean | null;
  max_amount: number | null;
  agent_ids: string[] | null;
  invalidated: boolean | null;
  kind: string | null;
  scope: string[] | null;
  signing_rule: SigningRule | null;
  national_id: string | null;
  name: string | null;
  protected_identity: boolean | null;
}

/*
 * Everything the checks of one batch need, in one statement and so one snapshot: both parties,
 * the principal's mandates naming the agent or an organisation, the mandates from such an
 * organisation to the agent (the links through which an employee acts for a firm), every
 * mandate above these in a delegation chain with whether it names the permission, the agency's
 * invalidations of them for the service, the register facts of the kinds the service accepts,
 * and the co-agents named. Mandates are found from the principal's side: a person holds a few,
 * while a professional agent holds hundreds, so scanning the agent's is what would cost.
 * Register and chain parts find nothing to read when a check cannot need them. Rows come by
 * check: parties first (register rows need them), then mandates naming the agent before those
 * naming a firm it acts for.
 */
const LOOKUP = `
WITH RECURSIVE
q AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    WITH ORDINALITY AS q(agent_kind, agent_nid, principal_kind, principal_nid, service, permission, register_kinds, i)
),
k AS (
  SELECT q.i::int AS i, q.service, q.permission, string_to_array(q.register_kinds, ',') AS register_kinds,
    a.id AS agent_id, p.id AS principal_id
  FROM q
  LEFT JOIN parties a ON a.national_id = q.agent_nid AND a.kind = q.agent_kind
  LEFT JOIN parties p ON p.national_id = q.principal_nid AND p.kind = q.principal_kind
),
own AS (
  SELECT k.i, k.service, k.permission, k.agent_id, k.principal_id, m.id, m.parent_id, s.max_amount, ma.agent_id AS named_id
  FROM k
  JOIN mandates m ON m.principal_id = k.principal_id
  JOIN mandate_scopes s ON s.mandate_id = m.id AND s.service = k.service AND s.permission = k.permission
  JOIN mandate_agents ma ON ma.mandate_id = m.id
  WHERE k.agent_id IS NOT NULL
),
firms AS MATERIALIZED (
  SELECT DISTINCT o.i, o.service, o.permission, o.agent_id, f.id AS firm_id
  FROM own o
  JOIN parties f ON f.id = o.named_id AND f.kind = 'organisation'
  WHERE o.named_id <> o.agent_id AND o.named_id <> o.principal_id
),
links AS (
  SELECT DISTINCT f.i, f.service, f.permission, l.id, l.principal_id, l.parent_id, s.max_amount
  FROM firms f
  JOIN mandates l ON l.principal_id = f.firm_id
  JOIN mandate_agents la ON la.mandate_id = l.id AND la.agent_id = f.agent_id
  JOIN mandate_scopes s ON s.mandate_id = l.id AND s.service = f.service AND s.permission = f.permission
),
leaves AS (
  SELECT o.i, o.service, o.permission, o.id, o.parent_id, o.max_amount, min(CASE WHEN o.named_id = o.agent_id THEN 1 ELSE 2 END) AS o
  FROM own o
  WHERE o.named_id = o.agent_id OR EXISTS (SELECT 1 FROM links l WHERE l.i = o.i AND l.principal_id = o.named_id)
  GROUP BY o.i, o.service, o.permission, o.id, o.parent_id, o.max_amount
),
chain(i, service, permission, id) AS (
  SELECT i, service, permission, parent_id FROM leaves WHERE parent_id IS NOT NULL
  UNION
  SELECT i, service, permission, parent_id FROM links WHERE parent_id IS NOT NULL
  UNION
  SELECT c.i, c.service, c.permission, m.parent_id FROM chain c JOIN mandates m ON m.id = c.id WHERE m.parent_id IS NOT NULL
),
found AS (
  SELECT 'm' AS tag, o, i, service, id, true AS has_scope, max_amount FROM leaves
  UNION ALL
  SELECT 'l', 3, i, service, id, true, max_amount FROM links
  UNION ALL
  SELECT 'a', 4, c.i, c.service, c.id, s.mandate_id IS NOT NULL, s.max_amount
  FROM chain c
  LEFT JOIN mandate_scopes s ON s.mandate_id = c.id AND s.service = c.service AND s.permission = c.permission
)
SELECT tag, i, id, principal_id, mode, may_delegate, state, valid_from, valid_to, revoked_at, parent_id, created_by,
  has_scope, max_amount, agent_ids, invalidated, kind, scope, signing_rule, national_id, name, protected_identity
FROM (
  SELECT f.tag, f.o, f.i, m.id, m.principal_id, m.mode, m.may_delegate, m.state, m.valid_from, m.valid_to, m.revoked_at,
    m.parent_id, m.created_by, f.has_scope, f.max_amount,
    (SELECT array_agg(x.agent_id) FROM mandate_agents x WHERE x.mandate_id = m.id) AS agent_ids,
    EXISTS (SELECT 1 FROM mandate_invalidations v WHERE v.mandate_id = m.id AND v.service = f.service) AS invalidated,
    NULL::text AS kind, NULL::text[] AS scope, NULL::text AS signing_rule,
    NULL::text AS national_id, NULL::text AS name, NULL::boolean AS protected_identity, m.created_at
  FROM found f
  JOIN mandates m ON m.id = f.id
  UNION ALL
  SELECT 'r', 5, k.i, NULL, NULL, NULL, NULL, NULL, r.valid_from, r.valid_to, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    r.kind, r.scope, r.signing_rule, NULL, NULL, NULL, NULL
  FROM k
  JOIN register_entries r ON r.represented_id = k.principal_id AND r.representative_id = k.agent_id AND r.kind = ANY(k.register_kinds)
  WHERE cardinality(k.register_kinds) > 0
  UNION ALL
  SELECT p.tag, 0, p.i, x.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    x.kind, NULL, NULL, x.national_id, x.name, x.protected_identity, NULL
  FROM (
    SELECT 'pa' AS tag, i, agent_id AS id FROM k
    UNION ALL
    SELECT 'pp', i, principal_id FROM k
    UNION ALL
    SELECT DISTINCT 'pf', i, principal_id FROM links
    UNION ALL
    SELECT 'pc', c.i, y.id
    FROM unnest($8::int[], $9::text[], $10::text[]) AS c(i, kind, nid)
    JOIN parties y ON y.national_id = c.nid AND y.kind = c.kind
  ) p
  JOIN parties x ON x.id = p.id
) result
ORDER BY i, o, created_at, id`;

const MAX_BATCH = 256;

/**
 * Where checks read: everything the checks that arrive together need is read in one named
 * statement, one round trip per batch however many mandates, chains, organisation links and
 * register facts they involve. One batch is read at a time, and the checks arriving meanwhile
 * form the next: the busier the service, the fewer statements per check. A lookup joins the
 * next batch that has not yet been sent, never one already running, so every answer reads what
 * was committed before its own request arrived: batching adds no staleness.
 *
 * `database` may be a synchronous standby (`synchronous_commit = remote_apply`): a revoke
 * returns only once the standby has applied it, so reading there is as fresh as the primary.
 */
export class CheckLookup {
  private queue: Pending[] = [];
  private busy = false;

  constructor(readonly database: Database) {}

  lookup(key: LookupKey): Promise<LookupResult> {
    const found = new Promise<LookupResult>((resolve, reject) => this.queue.push({ key, resolve, reject }));
    this.schedule();
    return found;
  }

  private schedule(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    // Waiting for the end of this turn of the event loop lets the requests already read off
    // the sockets join the same batch.
    setImmediate(() => {
      const batch = this.queue.splice(0, MAX_BATCH);
      void this.run(batch).finally(() => {
        this.busy = false;
        this.schedule();
      });
    });
  }

  private async run(batch: Pending[]): Promise<void> {
    try {
      const keys = batch.map((p) => p.key);
      const coAgents = keys.flatMap((k, n) => (k.coAgents ?? []).map((ref) => ({ i: n + 1, ref })));
      const { rows } = await this.database.prepared<Row>('ombud_check_lookup', LOOKUP, [
        keys.map((k) => k.agent.type),
        keys.map((k) => k.agent.id),
        keys.map((k) => k.principal.type),
        keys.map((k) => k.principal.id),
        keys.map((k) => k.service),
        keys.map((k) => k.permission),
        keys.map((k) => k.registerKinds.join(',')),
        coAgents.map((c) => c.i),
        coAgents.map((c) => c.ref.type),
        coAgents.map((c) => c.ref.id),
      ]);
      const results = assemble(keys.length, rows);
      batch.forEach((p, n) => p.resolve(results[n] as LookupResult));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

interface Gathered {
  result: LookupResult;
  leaves: Row[];
  links: Row[];
  ancestors: Map<string, Link>;
}

function assemble(count: number, rows: readonly Row[]): LookupResult[] {
  const gathered: Gathered[] = Array.from({ length: count }, () => ({
    result: {
      agent: undefined,
      principal: undefined,
      found: { mandates: [], organisationLinks: [], registers: [] },
      invalidated: new Set<string>(),
      firms: new Map<string, Party>(),
      coAgentIds: new Set<string>(),
    },
    leaves: [],
    links: [],
    ancestors: new Map<string, Link>(),
  }));
  for (const r of rows) {
    const g = gathered[r.i - 1];
    if (!g) continue;
    const { result } = g;
    if (r.tag === 'r') {
      result.found.registers.push(toRegisterRow(r, result));
      continue;
    }
    if (r.tag === 'pa' || r.tag === 'pp' || r.tag === 'pf' || r.tag === 'pc') {
      const party = toParty(r);
      if (r.tag === 'pa') result.agent = party;
      else if (r.tag === 'pp') result.principal = party;
      else if (r.tag === 'pf') result.firms.set(party.id, party);
      else result.coAgentIds.add(party.id);
      continue;
    }
    if (r.invalidated) result.invalidated.add(r.id as string);
    if (r.tag === 'm') g.leaves.push(r);
    else if (r.tag === 'l') g.links.push(r);
    else g.ancestors.set(r.id as string, toLink(r));
  }
  return gathered.map(({ result, leaves, links, ancestors }) => {
    if (!result.agent || !result.principal) return result;
    const withChain = (r: Row): Candidate => {
      const chain: Link[] = [];
      const seen = new Set([r.id]);
      for (let id = r.parent_id, link = id ? ancestors.get(id) : undefined; link; id = link.parentId, link = id ? ancestors.get(id) : undefined) {
        if (seen.has(link.id)) break;
        seen.add(link.id);
        chain.push(link);
      }
      return { ...toLink(r), ancestors: chain };
    };
    // A mandate naming both the agent and a firm it works for, or two such firms, is one candidate.
    const fromPrincipal = [...new Map(leaves.map((r) => [r.id, r])).values()];
    result.found.mandates = fromPrincipal.map(withChain);
    result.found.organisationLinks = links.map(withChain);
    return result;
  });
}

function toLink(r: Row): Link {
  return {
    id: r.id as string,
    principalId: r.principal_id as string,
    mode: r.mode as Link['mode'],
    mayDelegate: r.may_delegate === true,
    state: r.state as Link['state'],
    validFrom: r.valid_from as Date,
    validTo: r.valid_to as Date,
    revokedAt: r.revoked_at,
    parentId: r.parent_id,
    createdBy: r.created_by as string,
    hasScope: r.has_scope === true,
    maxAmount: r.max_amount,
    agentIds: r.agent_ids ?? [],
  };
}

function toRegisterRow(r: Row, result: LookupResult): RegisterRow {
  return {
    representativeId: result.agent?.id ?? '',
    representedId: result.principal?.id ?? '',
    kind: r.kind as RegisterKind,
    scope: r.scope ?? [],
    rule: r.signing_rule,
    validFrom: r.valid_from,
    validTo: r.valid_to,
  };
}

function toParty(r: Row): Party {
  return {
    id: r.id as string,
    kind: r.kind as PartyType,
    nationalId: r.national_id as string,
    name: r.name,
    protectedIdentity: r.protected_identity === true,
  };
}
