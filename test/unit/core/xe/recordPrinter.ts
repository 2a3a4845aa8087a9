/**
 * Test helpers that produce `xe` output: an independent reimplementation of xapi's record printer
 * (spec B.1; xen-api cli_printer.ml multi_line_record), used to prove that the fixtures are laid out
 * exactly as xe lays them out, and a seeded random source for the deterministic fuzz tests.
 */
import { strict as assert } from 'node:assert';
import { XeParseError } from '../../../../src/core/xe/errors';
import type { XeField, XeRecord } from '../../../../src/core/xe/records';

export type Marker = '( RO)' | '( RW)' | '(SRO)' | '(SRW)' | '(MRO)' | '(MRW)';

export interface PrintedField {
  readonly name: string;
  readonly marker: Marker;
  readonly deprecated?: boolean;
  readonly value: string;
}

/** `<name> <marker>` plus ` [DEPRECATED]` (B.1 step 1). */
export function keyOf(field: PrintedField): string {
  return `${field.name} ${field.marker}${field.deprecated === true ? ' [DEPRECATED]' : ''}`;
}

/** One record exactly as xe prints it, including the two blank lines that follow every record. */
export function printRecord(fields: readonly PrintedField[]): string {
  const keys = fields.map(keyOf);
  const width = 4 + Math.max(0, ...keys.map((key) => key.length));
  const lines = fields.map((field, index) => {
    const key = keys[index] ?? '';
    const paddedKey = index === 0 ? key.padEnd(width, ' ') : key.padStart(width, ' ');
    return `${paddedKey}: ${field.value}`;
  });
  // multi_line_record ends with "\n", the CLI adds "\n", print_endline adds "\n" (B.1 step 5).
  return `${lines.join('\n')}\n` + '\n' + '\n';
}

export function printRecords(records: readonly (readonly PrintedField[])[]): string {
  return records.map(printRecord).join('');
}

/** Shorthand for writing records in tests: [name, marker, value] or [name, marker, value, 'deprecated']. */
export type FieldRow = readonly [string, Marker, string] | readonly [string, Marker, string, 'deprecated'];

export function fieldsOf(rows: readonly FieldRow[]): PrintedField[] {
  return rows.map(([name, marker, value, deprecated]) => ({
    name,
    marker,
    value,
    deprecated: deprecated === 'deprecated',
  }));
}

function markerOf(field: XeField): Marker {
  const prefix = { scalar: ' ', set: 'S', map: 'M' }[field.kind];
  return `(${prefix}${field.access})` as Marker;
}

/** Prints parsed records again; equal to the parsed text when the parser read every byte faithfully. */
export function reprint(records: readonly XeRecord[]): string {
  return printRecords(
    records.map((record) =>
      record.fields.map((field) => ({ name: field.name, marker: markerOf(field), deprecated: field.deprecated, value: field.raw })),
    ),
  );
}

/** mulberry32: a tiny deterministic PRNG, so every fuzz run tries the same inputs. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomInt(random: () => number, maxExclusive: number): number {
  return Math.floor(random() * maxExclusive);
}

/** Runs `parse` and returns the XeParseError it must throw. */
export function parseErrorOf(parse: () => unknown): XeParseError {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof XeParseError, `expected XeParseError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an XeParseError, but parsing succeeded');
}
