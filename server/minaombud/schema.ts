import { z } from 'zod';

/**
 * Request and answer shapes of *API för digitala fullmakter* version 2 (`dfm_konsument_v2.yaml`),
 * with the published names. Requests are validated strictly; the answer schemas document the
 * shapes in our OpenAPI document and type what the service builds.
 */

export const identitetstyp = z.enum(['pnr', 'orgnr', 'samnr', 'gdnr']);

export const identitetsbeteckning = z
  .strictObject({ id: z.string().min(1).max(20), typ: identitetstyp })
  .meta({ id: 'Identitetsbeteckning', example: { id: '198101052382', typ: 'pnr' } });

export const organisationsnummer = z
  .string()
  .regex(/^\d{10}$/)
  .meta({ id: 'Organisationsnummer', example: '2120000829' });

export const fullmaktsgivarroll = z.enum(['PRIVAT', 'ORGANISATION']).meta({ id: 'FullmaktsgivareRoll' });
export const fullmaktStatus = z.enum(['HISTORISK', 'AKTUELL', 'GILTIG']).meta({ id: 'FullmaktStatus' });
export const fullmaktPart = z.enum(['FULLMAKTSHAVARE', 'FULLMAKTSGIVARE', 'TREDJEMAN', 'UTDELARE']).meta({ id: 'FullmaktPart' });

const behorighetKod = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\u0021-\u007e\u00a1-\u00ff]*$/)
  .meta({ id: 'BehorighetKod' });

const pageParameters = z
  .strictObject({
    page: z.number().int().min(0).max(1_000_000).optional(),
    size: z.number().int().min(1).max(1000).optional(),
    sort: z.string().max(300).optional(),
  })
  .meta({ id: 'PageParameters' });

export const hamtaBehorigheterRequest = z
  .strictObject({
    fullmaktshavare: identitetsbeteckning,
    fullmaktsgivare: identitetsbeteckning.optional(),
    fullmaktsgivarroll: z.array(fullmaktsgivarroll).min(1).optional(),
    tredjeman: organisationsnummer,
    behorigheter: z.array(behorighetKod).min(1).max(500).optional(),
    page: pageParameters.optional(),
  })
  .meta({ id: 'HamtaBehorigheterRequest' });

export type HamtaBehorigheterRequest = z.output<typeof hamtaBehorigheterRequest>;

export const hamtaFullmakterRequest = z
  .strictObject({
    fullmaktshavare: identitetsbeteckning.optional(),
    fullmaktsgivare: identitetsbeteckning.optional(),
    fullmaktsgivarroll: z.array(fullmaktsgivarroll).min(1).optional(),
    tredjeman: z.array(organisationsnummer).min(1).max(100).optional(),
    status: fullmaktStatus.optional(),
    aterkallad: z.boolean().optional(),
    referenstidpunkt: z.iso.datetime({ offset: true }).optional(),
    giltigFrom: z.iso.date().optional(),
    giltigTom: z.iso.date().nullable().optional(),
    ursprung: z.uuid().nullable().optional(),
    page: pageParameters.optional(),
  })
  .meta({ id: 'HamtaFullmakterRequest' });

export type HamtaFullmakterRequest = z.output<typeof hamtaFullmakterRequest>;

export const fullmaktParams = z.object({ tredjeman: z.string().max(100), fullmakt: z.string().max(100) });
export const tredjemanParams = z.object({ tredjeman: z.string().max(100) });
export const fullmaktQuery = z.strictObject({
  utdelning: z
    .enum(['AKTUELLA', 'HISTORISKA', 'ALLA'])
    .optional()
    .meta({ description: 'Include the sub-delegations made from this mandate (utdelningar): current, ended or all' }),
});

// Answers.

const namnIdentitet = z
  .object({ id: z.string(), typ: identitetstyp, fornamn: z.string().optional(), namn: z.string().optional() })
  .meta({ id: 'NamnIdentitet' });

const jwsSig = z.object({ protected: z.string(), signature: z.string() }).meta({ id: 'JwsSig' });

const pageMetadata = z
  .object({ size: z.number().int(), number: z.number().int(), totalElements: z.number().int(), totalPages: z.number().int() })
  .meta({ id: 'PageMetadata' });

const behorighetskontext = z
  .object({
    tredjeman: z.string(),
    fullmaktsgivare: namnIdentitet,
    fullmaktsgivarroll,
    fullmaktshavare: z.array(namnIdentitet),
    behorigheter: z.array(z.object({ kod: z.string(), fullmakt: z.uuid() })),
    tidpunkt: z.string(),
    _sig: jwsSig,
  })
  .meta({ id: 'Behorighetskontext' });

export const hamtaBehorigheterResponse = z
  .object({ kontext: z.array(behorighetskontext), page: pageMetadata })
  .meta({ id: 'HamtaBehorigheterResponse' });

export type HamtaBehorigheterResponse = z.infer<typeof hamtaBehorigheterResponse>;
export type Behorighetskontext = z.infer<typeof behorighetskontext>;
export type NamnIdentitet = z.infer<typeof namnIdentitet>;
export type JwsSig = z.infer<typeof jwsSig>;
export type PageMetadata = z.infer<typeof pageMetadata>;

const aterkallad = z
  .object({ part: fullmaktPart, person: namnIdentitet.optional(), tidpunkt: z.string() })
  .meta({ id: 'AterkalladFullmaktDetaljer' });

const metadataBase = {
  referensnummer: z.string(),
  registreringstidpunkt: z.string(),
  aterkallad: aterkallad.optional(),
  status: fullmaktStatus,
  vidaredelad: z.boolean(),
};

export const fullmaktListItem = z
  .object({
    ...metadataBase,
    id: z.uuid(),
    rubrik: z.string(),
    giltigFrom: z.string(),
    giltigTom: z.string(),
    tredjeman: z.string(),
    fullmaktsgivare: namnIdentitet,
    fullmaktsgivarroll,
    fullmaktshavare: z.array(namnIdentitet),
    vidaredelning: z.boolean(),
    transportfullmakt: z.boolean(),
  })
  .meta({ id: 'FullmaktListItem' });

export type FullmaktListItem = z.infer<typeof fullmaktListItem>;

export const hamtaFullmakterResponse = z
  .object({ fullmakter: z.array(fullmaktListItem), page: pageMetadata })
  .meta({ id: 'HamtaFullmakterResponse' });

export type HamtaFullmakterResponse = z.infer<typeof hamtaFullmakterResponse>;

const fullmaktSignatar = z
  .object({
    fysiskPerson: namnIdentitet.optional(),
    juridiskSignatar: z.object({ juridiskPerson: namnIdentitet, foretradare: z.array(namnIdentitet) }).optional(),
  })
  .meta({ id: 'FullmaktSignatar' });

const fullmakt = z
  .object({
    id: z.uuid(),
    ursprung: z.object({ mall: z.uuid(), fullmakt: z.uuid().optional() }),
    rubrik: z.string(),
    beskrivning: z.string(),
    giltigFrom: z.string(),
    giltigTom: z.string(),
    skapare: namnIdentitet,
    skapadTidpunkt: z.string(),
    vidaredelning: z.boolean(),
    transportfullmakt: z.boolean(),
    fullmaktsgivare: namnIdentitet,
    fullmaktsgivarroll,
    fullmaktshavare: z.array(namnIdentitet),
    tredjeman: z.object({ id: z.string(), namn: z.string() }),
    signatarer: z.array(fullmaktSignatar),
    behorigheter: z.array(z.object({ kod: z.string(), rubrik: z.string(), beskrivning: z.string() })),
  })
  .meta({ id: 'Fullmakt' });

const fullmaktUtdelning = z
  .object({
    id: z.uuid(),
    status: fullmaktStatus,
    aterkallad: z.boolean(),
    giltigFrom: z.string(),
    giltigTom: z.string(),
    vidaredelning: z.boolean(),
    vidaredelad: z.boolean(),
    fullmaktshavare: z.array(namnIdentitet),
  })
  .meta({ id: 'FullmaktUtdelning' });

const fullmaktMetadata = z
  .object({
    ...metadataBase,
    underskrifter: z.array(z.object({ person: namnIdentitet, tidpunkt: z.string() })),
    utdelningar: z.array(fullmaktUtdelning).optional(),
  })
  .meta({ id: 'FullmaktMetadata' });

export const fullmaktMetadataResponse = z
  .object({ fullmakt, metadata: fullmaktMetadata, svarstidpunkt: z.string(), _sig: jwsSig })
  .meta({ id: 'FullmaktMetadataResponse' });

export type FullmaktMetadataResponse = z.infer<typeof fullmaktMetadataResponse>;
export type Fullmakt = z.infer<typeof fullmakt>;
export type FullmaktMetadata = z.infer<typeof fullmaktMetadata>;
export type FullmaktUtdelning = z.infer<typeof fullmaktUtdelning>;
export type Aterkallad = z.infer<typeof aterkallad>;

export const jwkSet = z.object({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string() })) }).meta({ id: 'JwkSet' });

export const apiError = z
  .object({
    type: z.string(),
    instance: z.string(),
    status: z.number().int(),
    title: z.string(),
    detail: z.string().optional(),
    timestamp: z.string(),
    requestId: z.string().optional(),
    violations: z.array(z.object({ message: z.string(), path: z.string() })).optional(),
  })
  .meta({ id: 'ApiError' });
