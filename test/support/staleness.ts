import { expect } from 'vitest';
import type { Response } from './server.ts';

export interface Answer {
  started: number;
  decision: string;
  mandateIds: string[];
}

/**
 * Asks checks from several loops at once while `revoke` runs, and splits the answers by whether
 * the request was sent before or after the revoke returned (that is, after it committed).
 */
export async function checksAroundRevoke(
  ask: () => Promise<Response<any>>,
  revoke: () => Promise<void>,
): Promise<{ before: Answer[]; after: Answer[] }> {
  const answers: Answer[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const started = performance.now();
      const res = await ask();
      expect(res.status).toBe(200);
      const basis = (res.body.basis ?? []) as Array<{ mandateId?: string }>;
      answers.push({ started, decision: res.body.decision, mandateIds: basis.map((b) => b.mandateId ?? '') });
    }
  };
  const loops = Array.from({ length: 6 }, loop);
  await new Promise((r) => setTimeout(r, 300));
  await revoke();
  const committed = performance.now();
  await new Promise((r) => setTimeout(r, 300));
  running = false;
  await Promise.all(loops);
  return { before: answers.filter((a) => a.started < committed), after: answers.filter((a) => a.started >= committed) };
}
