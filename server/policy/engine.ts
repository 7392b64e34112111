import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { z } from 'zod';

export type BasisKind = 'mandate' | 'guardian' | 'trustee' | 'signatory';

const localised = z.strictObject({ sv: z.string().min(1), en: z.string().min(1) });

const serviceEntrySchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/),
  agency: z.string().regex(/^[a-z0-9-]+$/),
  agencyName: localised,
  name: localised,
  description: localised,
  maxValidityDays: z.number().int().min(1).max(3650),
  defaultValidityDays: z.number().int().min(1),
  acceptedBases: z.array(z.enum(['mandate', 'guardian', 'trustee', 'signatory'])).min(1),
  permissions: z
    .array(
      z.strictObject({
        code: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
        name: localised,
        description: localised,
        amountLimit: z.strictObject({ required: z.boolean(), max: z.number().int().min(1) }).optional(),
        /** The permission's code in the Mina ombud API, when an agency keeps the one it already uses. */
        minaOmbudCode: z
          .string()
          .regex(/^[\u0021-\u007e\u00a1-\u00ff]{1,255}$/)
          .optional(),
      }),
    )
    .min(1),
});

export type ServiceEntry = z.infer<typeof serviceEntrySchema>;
export type PermissionEntry = ServiceEntry['permissions'][number];

/** The facts a policy decides on; see policies/schema.cedarschema. */
export interface Facts {
  permission: string;
  basis: BasisKind;
  delegated: boolean;
  assurance: number;
  principalKind: 'person' | 'organisation';
  principalIsMinor: boolean;
  principalProtectedIdentity: boolean;
  trusteeScope: readonly string[];
  signingRule: string;
  amount?: number;
  amountLimit?: number;
}

export interface PolicyDecision {
  allowed: boolean;
  /** The `@id`s of the rules that decided (forbids on a deny, permits on an allow). */
  ruleIds: string[];
  /** Evaluation errors; any error makes the decision a deny. */
  errors: string[];
}

export class PolicyLoadError extends Error {
  override name = 'PolicyLoadError';
}

const SCHEMA_NAME = 'ombud';
/** Distinct fact combinations are few (a handful of booleans, levels and permissions); amounts add more. */
const DECIDED_CACHE_SIZE = 50_000;
const ACTION = { type: 'Ombud::Action', id: 'act' };

function messages(errors: readonly { message: string }[]): string {
  return errors.map((e) => e.message).join('; ');
}

/**
 * Loads `policies/`: the shared Cedar schema plus, per service, `<id>.json` (catalogue) and
 * `<id>.cedar` (rules). Everything is validated up front; any problem refuses the start.
 * Policy sets and the schema are preparsed once, so a decision passes facts only.
 */
export class PolicyEngine {
  /** Decisions already made, for the services whose rules read nothing but the context. */
  private readonly decided = new Map<string, PolicyDecision>();

  private constructor(
    private readonly entries: Map<string, ServiceEntry>,
    /** Services whose every rule leaves principal and resource unconstrained and unread. */
    private readonly contextOnly: ReadonlySet<string>,
  ) {}

  static load(dir: string): PolicyEngine {
    const problems: string[] = [];
    const schemaText = readFileSync(path.join(dir, 'schema.cedarschema'), 'utf8');
    const schemaParse = cedar.preparseSchema(SCHEMA_NAME, schemaText);
    if (schemaParse.type !== 'success') {
      throw new PolicyLoadError(`schema.cedarschema: ${messages(schemaParse.errors)}`);
    }
    const files = readdirSync(dir);
    const entries = new Map<string, ServiceEntry>();
    const contextOnly = new Set<string>();
    for (const file of files.filter((f) => f.endsWith('.json')).sort()) {
      const id = file.slice(0, -'.json'.length);
      const where = (msg: string) => problems.push(`${file}: ${msg}`);
      let entry: ServiceEntry;
      try {
        const parsed = serviceEntrySchema.safeParse(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
        if (!parsed.success) {
          where(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
          continue;
        }
        entry = parsed.data;
      } catch (err) {
        where(`not valid JSON (${(err as Error).message})`);
        continue;
      }
      if (entry.id !== id) where(`id "${entry.id}" must match the file name`);
      if (entry.defaultValidityDays > entry.maxValidityDays) where('defaultValidityDays exceeds maxValidityDays');
      const codes = entry.permissions.map((p) => p.code);
      if (new Set(codes).size !== codes.length) where('permission codes must be unique');
      if (!files.includes(`${id}.cedar`)) {
        where(`missing ${id}.cedar`);
        continue;
      }
      const loaded = PolicyEngine.loadPolicySet(id, readFileSync(path.join(dir, `${id}.cedar`), 'utf8'), schemaText);
      for (const p of loaded.problems) problems.push(`${id}.cedar: ${p}`);
      if (loaded.contextOnly) contextOnly.add(id);
      entries.set(id, entry);
    }
    for (const file of files.filter((f) => f.endsWith('.cedar'))) {
      if (!files.includes(file.replace(/\.cedar$/, '.json'))) problems.push(`${file}: no catalogue entry (.json) beside it`);
    }
    if (entries.size === 0) problems.push('no services found');
    if (problems.length > 0) throw new PolicyLoadError(`Policies are invalid:\n  ${problems.join('\n  ')}`);
    return new PolicyEngine(entries, contextOnly);
  }

  /**
   * Splits the file into rules keyed by their `@id`, validates them strictly, preparses the set.
   * Also tells whether every rule reads only the context: no principal or resource in its scope
   * or conditions. Decisions are made with no entities and one action, so for such a set the
   * answer is a function of the context alone.
   */
  private static loadPolicySet(serviceId: string, text: string, schemaText: string): { problems: string[]; contextOnly: boolean } {
    const fail = (problems: string[]) => ({ problems, contextOnly: false });
    const parts = cedar.policySetTextToParts(text);
    if (parts.type !== 'success') return fail([messages(parts.errors)]);
    if (parts.policy_templates.length > 0) return fail(['templates are not used here']);
    const byId: Record<string, string> = {};
    const problems: string[] = [];
    let contextOnly = true;
    for (const policyText of parts.policies) {
      const json = cedar.policyToJson(policyText);
      if (json.type !== 'success') {
        problems.push(messages(json.errors));
        continue;
      }
      const conditions = JSON.stringify(json.json.conditions);
      if (
        json.json.principal.op !== 'All' ||
        json.json.resource.op !== 'All' ||
        conditions.includes('"Var":"principal"') ||
        conditions.includes('"Var":"resource"')
      ) {
        contextOnly = false;
      }
      const id = json.json.annotations?.id;
      if (!id) problems.push(`a rule has no @id: ${policyText.split('\n').find((l) => l.trim()) ?? ''}`);
      else if (byId[id]) problems.push(`@id("${id}") is used twice`);
      else byId[id] = policyText;
    }
    if (problems.length > 0) return fail(problems);
    const validation = cedar.validate({
      schema: schemaText,
      policies: { staticPolicies: byId },
      validationSettings: { mode: 'strict' },
    });
    if (validation.type !== 'success') return fail([messages(validation.errors)]);
    // A "success" answer may still carry validation errors; they count.
    if (validation.validationErrors.length > 0) {
      return fail(validation.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`));
    }
    const preparsed = cedar.preparsePolicySet(serviceId, { staticPolicies: byId });
    if (preparsed.type !== 'success') return fail([messages(preparsed.errors)]);
    return { problems: [], contextOnly };
  }

  services(): ServiceEntry[] {
    return [...this.entries.values()];
  }

  service(id: string): ServiceEntry | undefined {
    return this.entries.get(id);
  }

  /** One decision. Fails closed: anything but a clean "allow" is a deny. */
  decide(serviceId: string, agentId: string, principalId: string, facts: Facts): PolicyDecision {
    if (!this.entries.has(serviceId)) return { allowed: false, ruleIds: [], errors: ['unknown service'] };
    const context: cedar.Context = {
      permission: facts.permission,
      basis: facts.basis,
      delegated: facts.delegated,
      assurance: facts.assurance,
      principalKind: facts.principalKind,
      principalIsMinor: facts.principalIsMinor,
      principalProtectedIdentity: facts.principalProtectedIdentity,
      trusteeScope: [...facts.trusteeScope],
      signingRule: facts.signingRule,
      ...(facts.amount !== undefined ? { amount: facts.amount } : {}),
      ...(facts.amountLimit !== undefined ? { amountLimit: facts.amountLimit } : {}),
    };
    // The context is built above in a fixed key order, so equal facts give equal keys.
    const key = this.contextOnly.has(serviceId) ? `${serviceId}\n${JSON.stringify(context)}` : undefined;
    const known = key === undefined ? undefined : this.decided.get(key);
    if (known) return known;
    const decision = this.evaluate(serviceId, agentId, principalId, context);
    if (key !== undefined && decision.errors.length === 0) {
      if (this.decided.size >= DECIDED_CACHE_SIZE) this.decided.clear();
      this.decided.set(key, decision);
    }
    return decision;
  }

  private evaluate(serviceId: string, agentId: string, principalId: string, context: cedar.Context): PolicyDecision {
    try {
      const answer = cedar.statefulIsAuthorized({
        principal: { type: 'Ombud::Party', id: agentId },
        action: ACTION,
        resource: { type: 'Ombud::Party', id: principalId },
        context,
        preparsedPolicySetId: serviceId,
        // The context is built here from typed facts; validating it per call would cost more
        // than the decision itself, and the policies were validated against the schema at start.
        validateRequest: false,
        entities: [],
      });
      if (answer.type !== 'success') return { allowed: false, ruleIds: [], errors: answer.errors.map((e) => e.message) };
      const { decision, diagnostics } = answer.response;
      const errors = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`);
      return { allowed: decision === 'allow' && errors.length === 0, ruleIds: diagnostics.reason, errors };
    } catch (err) {
      return { allowed: false, ruleIds: [], errors: [(err as Error).message] };
    }
  }
}
