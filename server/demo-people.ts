/**
 * Demo people: valid test numbers, never real people's. Kept apart from the demo data so the
 * configuration can read who is the demo official without loading the services.
 */
export const DEMO_PEOPLE = [
  { id: '194003212380', name: 'Anna Andersson', note: { sv: 'Pensionär', en: 'Pensioner' } },
  { id: '196805144026', name: 'Karin Andersson', note: { sv: 'Annas dotter', en: "Anna's daughter" } },
  { id: '197209083919', name: 'Erik Lindqvist', note: { sv: 'Förälder', en: 'Parent' } },
  { id: '201503222463', name: 'Maja Lindqvist', note: { sv: 'Barn, 11 år', en: 'Child, age 11' } },
  { id: '198511304829', name: 'Sara Ek', note: { sv: 'Skyddad identitet', en: 'Protected identity' }, protectedIdentity: true },
  { id: '191212121212', name: 'Tolvan Tolvansson', note: { sv: 'Testperson', en: 'Test person' } },
  { id: '197710172383', name: 'Helena Berg', note: { sv: 'Handläggare, registrerar åt andra', en: 'Official, registers for others' }, official: true },
] as const;

/** The demo people in the `official` role when demo data is on and `OFFICIALS` is not set. */
export const DEMO_OFFICIALS: readonly string[] = DEMO_PEOPLE.filter((p) => 'official' in p).map((p) => p.id);
