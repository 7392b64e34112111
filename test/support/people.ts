import { luhnCheckDigit } from '../../server/identity/identity-number.ts';

let next = 100;

/**
 * A fresh, valid personal identity number of an adult born in 1980, different on every call,
 * so a test's principal has no mandates but its own.
 */
export function newPerson(): string {
  next += 1;
  const serial = String(next).padStart(3, '0');
  const nine = `800101${serial}`;
  return `19${nine}${luhnCheckDigit(nine)}`;
}
