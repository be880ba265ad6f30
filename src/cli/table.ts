/** Rows as aligned columns (two spaces apart, no trailing blanks), the first row the header. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  // a loop, not Math.max(...column): a long listing would overflow the call stack
  const widths = rows[0].map((_, i) => rows.reduce((width, r) => Math.max(width, r[i].length), 0));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
