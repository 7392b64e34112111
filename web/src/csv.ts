/** Files for spreadsheets. Free of DOM APIs, so it is tested in Node. */

/** A spreadsheet cell: quoted, and never read as a formula (OWASP's list of leading characters). */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** Rows as one CSV text: a byte-order mark so that Excel reads UTF-8, and CRLF line ends. */
export function csvText(rows: readonly (readonly string[])[]): string {
  return `\ufeff${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
