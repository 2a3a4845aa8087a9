/**
 * The lab's record printer: the layout rules of xapi's cli_printer (notes B.1–B.3).
 */

export type Marker = ' RO' | ' RW' | 'SRO' | 'SRW' | 'MRO' | 'MRW';

export interface Field {
  name: string;
  marker: Marker;
  value: string;
  deprecated?: boolean;
  /** Printed as `<expensive field>` by `*-list params=all` (B.3). */
  expensive?: boolean;
  /** Never shown by list/param-list, but readable by param-get (B.3). */
  hidden?: boolean;
  /** For map fields: the map itself (param-get param-key=…). */
  map?: Record<string, string>;
}

export function fieldKey(f: Field): string {
  return `${f.name} (${f.marker})${f.deprecated ? ' [DEPRECATED]' : ''}`;
}

/**
 * B.1: W = 4 + longest key; first line left-aligned, others right-aligned; `key: value` (trailing space kept on empty
 * values); every record is followed by two empty lines.
 */
export function formatRecord(fields: Field[]): string {
  if (fields.length === 0) return '';
  const keys = fields.map(fieldKey);
  const w = 4 + Math.max(...keys.map((k) => k.length));
  const lines = keys.map((k, i) => `${i === 0 ? k.padEnd(w) : k.padStart(w)}: ${fields[i]?.value ?? ''}`);
  return lines.join('\n') + '\n\n\n';
}

/** B.3 `--minimal`: escape `\` and `,`, join with `,`, end with a newline (an empty result is one empty line). */
export function minimalJoin(values: string[]): string {
  return values.map((v) => v.replace(/\\/g, '\\\\').replace(/,/g, '\\,')).join(',') + '\n';
}

export function joinSet(items: string[]): string {
  return items.join('; ');
}

export function joinMap(map: Record<string, string>): string {
  return Object.entries(map)
    .map(([k, v]) => `${k}: ${v}`)
    .join('; ');
}

export const NOT_IN_DATABASE = '<not in database>';
export const EXPENSIVE = '<expensive field>';
