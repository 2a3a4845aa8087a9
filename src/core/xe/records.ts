/**
 * Parser for the record output of `xe <class>-list` and `xe <class>-param-list` (spec B.1–B.3,
 * xen-api `cli_printer.ml` multi_line_record):
 *
 *     uuid ( RO)                : 3b8f7a3e-…          first key padded on the right to W
 *               name-label ( RW): pool-prod           other keys padded on the left to W
 *         name-description ( RW):                     ": " kept (with its space) on an empty value
 *     <blank>
 *     <blank>                                         every record, the last too, ends with two blank lines
 *
 * W = 4 + the longest key of that record. The layout is checked strictly, so a cut or garbled output is
 * reported as an XeParseError instead of being read as a shorter list or a wrong value.
 */
import { XeParseError } from './errors';
import { isUuid } from './validate';

export type XeFieldAccess = 'RO' | 'RW';
export type XeFieldKind = 'scalar' | 'set' | 'map';

export interface XeField {
  readonly name: string;
  readonly access: XeFieldAccess;
  /** From the marker: `( RO)`/`( RW)` scalar, `(SRO)`/`(SRW)` set, `(MRO)`/`(MRW)` map. */
  readonly kind: XeFieldKind;
  readonly deprecated: boolean;
  /** The value exactly as printed. */
  readonly raw: string;
  /** 1-based line number in the parsed output. */
  readonly line: number;
}

const MARKERS: Readonly<Record<string, { readonly kind: XeFieldKind; readonly access: XeFieldAccess }>> = {
  ' RO': { kind: 'scalar', access: 'RO' },
  ' RW': { kind: 'scalar', access: 'RW' },
  SRO: { kind: 'set', access: 'RO' },
  SRW: { kind: 'set', access: 'RW' },
  MRO: { kind: 'map', access: 'RO' },
  MRW: { kind: 'map', access: 'RW' },
};

/** Field names are [A-Za-z0-9_.:-] in every xen-api version (records.ml); no spaces. */
const KEY = String.raw`(\S+) \(( RO| RW|SRO|SRW|MRO|MRW)\)( \[DEPRECATED\])?`;
/** The first line: key, at least 4 spaces of padding, then the separator. */
const FIRST_LINE = new RegExp(`^${KEY}( {4,}): `);
/** The key part (first W characters) of every other line: at least 4 spaces, then the key. */
const RIGHT_ALIGNED_KEY = new RegExp(`^ {4,}${KEY}$`);
const SEPARATOR = ': ';
const MIN_PADDING = 4;

/** xe never prints control characters in a record; they mean binary junk or a CRLF-mangling transport. */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f]/;

const NULL_REFERENCE = '<not in database>';
const SET_SEPARATOR = '; ';
const MAP_ITEM_SEPARATOR = '; ';
const MAP_KEY_SEPARATOR = ': ';
/**
 * Set fields that xapi keeps joining with ", " for backwards compatibility (records.ml
 * `concat_with_comma`): tags of every class, host patches/updates, network purpose, pool_update
 * hosts/after-apply-guidance, and newer host ntp-custom-servers, cluster required-cluster-stack.
 */
const COMMA_JOINED_SET_FIELDS: ReadonlySet<string> = new Set([
  'tags',
  'patches',
  'updates',
  'purpose',
  'hosts',
  'after-apply-guidance',
  'ntp-custom-servers',
  'required-cluster-stack',
]);

/** Why a value does not have the shape a typed reader expects; turned into an XeParseError by XeRecord. */
class ValueShapeError extends Error {}

/** A parsed field and the output line it was read from. */
export interface XeFieldLine {
  readonly field: XeField;
  readonly sourceLine: string;
}

/** One record: its fields in printed order, with typed readers that reject values of the wrong shape. */
export class XeRecord {
  readonly fields: readonly XeField[];
  private readonly what: string;
  private readonly byName: ReadonlyMap<string, XeFieldLine>;

  /** Built by the parsers below; `what` names the output in error messages. */
  constructor(what: string, fieldLines: readonly XeFieldLine[]) {
    this.what = what;
    this.fields = fieldLines.map(({ field }) => field);
    this.byName = new Map(fieldLines.map((fieldLine) => [fieldLine.field.name, fieldLine]));
  }

  field(name: string): XeField | undefined {
    return this.byName.get(name)?.field;
  }

  /** The value as printed, or undefined when the record has no such field. */
  text(name: string): string | undefined {
    return this.field(name)?.raw;
  }

  /** A reference: its UUID, or null for `<not in database>` (a null or dangling reference). */
  ref(name: string): string | null | undefined {
    return this.read(name, (raw) => {
      if (raw === NULL_REFERENCE) return null;
      if (isUuid(raw)) return raw;
      throw new ValueShapeError('expected a UUID or <not in database>');
    });
  }

  /** A set: items split on "; " (", " for the legacy fields); an empty value is the empty set. */
  set(name: string): string[] | undefined {
    const separator = COMMA_JOINED_SET_FIELDS.has(name) ? ', ' : SET_SEPARATOR;
    // A trailing separator is a real empty item (spec B.3: `capabilities … hvm-3.0-x86_64; `), so it is kept.
    return this.read(name, (raw) => (raw === '' ? [] : raw.split(separator)));
  }

  /**
   * A map printed as `k1: v1; k2: v2`, split at "; " then at each item's first ": ". Items without ": "
   * or repeated keys are errors, not guesses; a value that itself contains "; k: v" cannot be detected.
   */
  map(name: string): Record<string, string> | undefined {
    return this.read(name, parseMapValue);
  }

  bool(name: string): boolean | undefined {
    return this.read(name, (raw) => {
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new ValueShapeError('expected true or false');
    });
  }

  private read<T>(name: string, parse: (raw: string) => T): T | undefined {
    const fieldLine = this.byName.get(name);
    if (fieldLine === undefined) return undefined;
    try {
      return parse(fieldLine.field.raw);
    } catch (error) {
      if (!(error instanceof ValueShapeError)) throw error;
      throw new XeParseError(`${this.what}, field ${name}`, fieldLine.field.line, fieldLine.sourceLine, error.message);
    }
  }
}

function parseMapValue(raw: string): Record<string, string> {
  if (raw === '') return {};
  const entries = raw.split(MAP_ITEM_SEPARATOR).map((item): [string, string] => {
    const separatorAt = item.indexOf(MAP_KEY_SEPARATOR);
    if (separatorAt <= 0) throw new ValueShapeError(`map item ${JSON.stringify(item)} is not "key: value"`);
    return [item.slice(0, separatorAt), item.slice(separatorAt + MAP_KEY_SEPARATOR.length)];
  });
  const keys = new Set(entries.map(([key]) => key));
  if (keys.size !== entries.length) throw new ValueShapeError('map has a repeated key (a value containing "; "?)');
  // fromEntries defines own properties, so a key such as "__proto__" stays an ordinary key.
  return Object.fromEntries(entries);
}

interface OutputLine {
  readonly number: number;
  readonly text: string;
}

interface ParsedRecord {
  readonly record: XeRecord;
  readonly firstLine: OutputLine;
}

/**
 * Parses `*-list` output into records, in printed order. Empty output (no match) is []. Output cut
 * exactly between two records cannot be told from a shorter list; any other cut is an XeParseError.
 */
export function parseXeRecords(stdout: string, what = 'xe record output'): XeRecord[] {
  return readRecords(stdout, what).map((parsed) => parsed.record);
}

/** Parses `*-param-list` output: exactly one record. */
export function parseXeRecord(stdout: string, what = 'xe record output'): XeRecord {
  const [only, extra] = readRecords(stdout, what);
  if (only === undefined) throw new XeParseError(what, 1, stdout, 'empty output where one record was expected');
  if (extra !== undefined) {
    throw new XeParseError(what, extra.firstLine.number, extra.firstLine.text, 'more than the one expected record');
  }
  return only.record;
}

/**
 * Reads the output line by line: record lines, then exactly two blank lines, again and again. A record
 * is parsed at its first blank line, so errors are reported in line order.
 */
function readRecords(stdout: string, what: string): ParsedRecord[] {
  if (stdout === '') return [];
  const lines = stdout.split('\n').map((text, index): OutputLine => ({ number: index + 1, text }));
  const cutOff = lines[lines.length - 1]?.text !== '';
  if (!cutOff) lines.pop();
  const records: ParsedRecord[] = [];
  let pending: OutputLine[] = [];
  let blanksAfterPending = 0;
  for (const line of lines) {
    if (line.text !== '') {
      if (blanksAfterPending === 1) {
        throw new XeParseError(what, line.number, line.text, 'record followed by only one blank line');
      }
      pending.push(line);
    } else if (pending.length === 0) {
      throw new XeParseError(what, line.number, line.text, 'blank line where a record should start');
    } else if (++blanksAfterPending === 1) {
      records.push(parseRecord(pending, what));
    } else {
      pending = [];
      blanksAfterPending = 0;
    }
  }
  const last = pending[pending.length - 1];
  if (last === undefined) return records;
  if (blanksAfterPending === 0) parseRecord(pending, what);
  const reason = cutOff
    ? 'output ends in the middle of this line (cut off?)'
    : 'record not followed by two blank lines (output cut off?)';
  throw new XeParseError(what, last.number, last.text, reason);
}

function parseRecord(recordLines: readonly OutputLine[], what: string): ParsedRecord {
  const [first, ...others] = recordLines;
  if (first === undefined) throw new RangeError('a record has at least one line');
  rejectControlCharacters(first, what);
  const firstMatch = FIRST_LINE.exec(first.text);
  if (firstMatch === null) {
    throw new XeParseError(what, first.number, first.text, 'not the first line of a record ("<name> (<marker>)", padding, ": ")');
  }
  const width = firstMatch[0].length - SEPARATOR.length;
  const fieldLines = [{ field: fieldFrom(firstMatch, first, width, what), sourceLine: first.text }];
  for (const line of others) fieldLines.push({ field: parseRightAlignedLine(line, width, what), sourceLine: line.text });
  return { record: buildRecord(first, fieldLines, width, what), firstLine: first };
}

function parseRightAlignedLine(line: OutputLine, width: number, what: string): XeField {
  rejectControlCharacters(line, what);
  const keyMatch = RIGHT_ALIGNED_KEY.exec(line.text.slice(0, width));
  if (keyMatch === null || line.text.slice(width, width + SEPARATOR.length) !== SEPARATOR) {
    throw new XeParseError(what, line.number, line.text, `key not right-aligned to the record's ": " column (${width + 1})`);
  }
  return fieldFrom(keyMatch, line, width, what);
}

function fieldFrom(keyMatch: RegExpExecArray, line: OutputLine, width: number, what: string): XeField {
  const [, name, marker, deprecated] = keyMatch;
  const markerMeaning = marker === undefined ? undefined : MARKERS[marker];
  if (name === undefined || markerMeaning === undefined) {
    throw new XeParseError(what, line.number, line.text, 'unknown field marker');
  }
  return {
    name,
    access: markerMeaning.access,
    kind: markerMeaning.kind,
    deprecated: deprecated !== undefined,
    raw: line.text.slice(width + SEPARATOR.length),
    line: line.number,
  };
}

/** Checks what needs the whole record: unique names, and W = 4 + the longest key. */
function buildRecord(first: OutputLine, fieldLines: readonly XeFieldLine[], width: number, what: string): XeRecord {
  const names = new Set<string>();
  let longestKey = 0;
  for (const { field, sourceLine } of fieldLines) {
    if (names.has(field.name)) throw new XeParseError(what, field.line, sourceLine, `field ${field.name} appears twice`);
    names.add(field.name);
    longestKey = Math.max(longestKey, sourceLine.slice(0, width).trim().length);
  }
  if (longestKey + MIN_PADDING !== width) {
    throw new XeParseError(what, first.number, first.text, `": " is in column ${width + 1}, not 4 after the longest key`);
  }
  return new XeRecord(what, fieldLines);
}

function rejectControlCharacters(line: OutputLine, what: string): void {
  if (CONTROL_CHARACTER.test(line.text)) {
    throw new XeParseError(what, line.number, line.text, 'control character in record output');
  }
}
