import { describe, expect, it } from 'vitest';
import { csvCell, csvText } from '../../web/src/csv.ts';

describe('CSV for spreadsheets', () => {
  it('quotes every cell and doubles the quotes inside', () => {
    expect(csvCell('Anna Andersson')).toBe('"Anna Andersson"');
    expect(csvCell('sa "ja"')).toBe('"sa ""ja"""');
    expect(csvCell('')).toBe('""');
  });

  it('never lets a cell start like a formula', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${start}HYPERLINK("https://example.com")`)).toMatch(/^"'/);
    expect(csvCell('=1+1')).toBe(`"'=1+1"`);
    expect(csvCell('1+1=2')).toBe('"1+1=2"');
  });

  it('is one text with a byte-order mark and CRLF line ends', () => {
    expect(csvText([['Tid', 'Svar'], ['1 december', 'Tillåtet']])).toBe('\ufeff"Tid","Svar"\r\n"1 december","Tillåtet"\r\n');
  });
});
