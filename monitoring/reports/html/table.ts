// The HTML report's text primitives: escaping and a table from rows. Numbers
// are right-aligned and grouped so columns of them can be compared by eye.

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export const fmt = (n: number, digits = 2) =>
  Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: digits });

export type Cell = string | number;

export function table(head: string[], rows: Cell[][]): string {
  const cell = (v: Cell, tag: 'td' | 'th') => `<${tag}${typeof v === 'number' ? ' class="n"' : ''}>${typeof v === 'number' ? fmt(v) : escapeHtml(v)}</${tag}>`;
  return `<table><thead><tr>${head.map((h) => cell(h, 'th')).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => cell(v, 'td')).join('')}</tr>`)
    .join('')}</tbody></table>`;
}
