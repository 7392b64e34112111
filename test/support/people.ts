import { luhnCheckDigit } from '../../server/identity/identity-number.ts';

let serial = 0;

/** A valid personal number of an adult nobody else in the test file uses. */
export function newPerson(): string {
  serial += 1;
  const year = 1950 + (serial % 40);
  const day = String(1 + (Math.floor(serial / 40) % 28)).padStart(2, '0');
  const birth = `${year}03${day}`;
  const nnn = String(100 + (serial % 800)).padStart(3, '0');
  return birth + nnn + luhnCheckDigit(birth.slice(2) + nnn);
}
