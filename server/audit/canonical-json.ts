import canonicalizeModule from 'canonicalize';

/**
 * RFC 8785 canonical JSON. canonicalize 2 (the line that supports Node 20) is CommonJS whose
 * typings declare an ES default export; under NodeNext the default import is `module.exports`,
 * which is the function itself.
 */
export const canonicalJson = canonicalizeModule as unknown as (input: unknown) => string | undefined;
