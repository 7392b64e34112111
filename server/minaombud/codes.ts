import { createHash } from 'node:crypto';
import { type PermissionEntry, PolicyLoadError, type PolicyEngine, type ServiceEntry } from '../policy/engine.ts';

/** Name space of the name-based UUIDs below; fixed forever, or every code changes. */
const NAMESPACE = '6d1f8f3a-5b2e-4c1d-9a57-0b9e1c2d3e4f';

/** RFC 9562 version 5 (SHA-1, name-based) UUID: the same name always gives the same id. */
export function uuidV5(name: string, namespace: string = NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface CodedPermission {
  service: ServiceEntry;
  permission: PermissionEntry;
  code: string;
}

/**
 * Behörighetskoder: every (service, permission) of the catalogue has one stable code. It is the
 * permission's `minaOmbudCode` when the catalogue gives one (an agency keeping the codes its
 * clients already use), otherwise a name-based UUID of `service/permission`, so it never
 * changes between starts or servers. Two permissions with one code refuse the start.
 */
export class PermissionCodes {
  private readonly byCode = new Map<string, CodedPermission>();
  private readonly byKey = new Map<string, CodedPermission>();

  constructor(policies: PolicyEngine) {
    for (const service of policies.services()) {
      for (const permission of service.permissions) {
        const code = permission.minaOmbudCode ?? uuidV5(`${service.id}/${permission.code}`);
        const taken = this.byCode.get(code);
        if (taken) {
          throw new PolicyLoadError(
            `Mina ombud code ${code} is used by both ${taken.service.id}/${taken.permission.code} and ${service.id}/${permission.code}`,
          );
        }
        const entry = { service, permission, code };
        this.byCode.set(code, entry);
        this.byKey.set(`${service.id}/${permission.code}`, entry);
      }
    }
  }

  codeOf(serviceId: string, permission: string): CodedPermission | undefined {
    return this.byKey.get(`${serviceId}/${permission}`);
  }

  resolve(code: string): CodedPermission | undefined {
    return this.byCode.get(code);
  }
}

/** The "mall" (template) a mandate is reported under: one stable id per service. */
export function templateId(serviceId: string): string {
  return uuidV5(`mall/${serviceId}`);
}
