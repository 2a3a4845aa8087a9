/**
 * Parsers for the small outputs of `xe`: `--minimal` lists, `host-is-in-emergency-mode`,
 * `pool-recover-slaves`, the role-change notices, `param-get`, and `/etc/xensource/pool.conf`.
 * They take stdout exactly as xe printed it (untrimmed): every line xe prints ends with a newline
 * (print_endline), so output without its final newline was cut off and is rejected.
 * Spec: ../shared/xapi-behaviour.md A.1–A.4, B.3, F.
 */
import { XE_CLI_TEXTS, XeParseError } from './errors';
import { isUuid } from './validate';

/** xe prints no control characters here; they mean binary junk or a transport that turned \n into \r\n. */
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** The lines of newline-terminated output; '' gives no lines. */
function terminatedLines(stdout: string, what: string): string[] {
  if (stdout === '') return [];
  const lines = stdout.split('\n');
  const last = lines.pop() ?? '';
  const junkAt = lines.findIndex((line) => CONTROL_CHARACTER.test(line));
  if (junkAt >= 0) throw new XeParseError(what, junkAt + 1, lines[junkAt] ?? '', 'control character in output');
  if (last !== '') throw new XeParseError(what, lines.length + 1, last, 'output ends in the middle of a line (cut off?)');
  return lines;
}

/** Exactly one newline-terminated line. */
function singleLine(stdout: string, what: string): string {
  const lines = terminatedLines(stdout, what);
  const [line, extra] = lines;
  if (line === undefined) throw new XeParseError(what, 1, '', 'empty output where one line was expected');
  if (extra !== undefined) throw new XeParseError(what, 2, extra, 'more than the one expected line');
  return line;
}

/**
 * `--minimal` output: values joined with `,`, with `,` and `\` inside values escaped as `\,` and `\\`.
 * One empty line means no values (an empty first field of a single record is indistinguishable from that).
 */
export function parseMinimal(stdout: string, what = 'xe --minimal output'): string[] {
  const line = singleLine(stdout, what);
  if (line === '') return [];
  const values: string[] = [];
  let current = '';
  for (let index = 0; index < line.length; index++) {
    const character = line.charAt(index);
    if (character === ',') {
      values.push(current);
      current = '';
    } else if (character === '\\') {
      const escaped = line.charAt(index + 1);
      if (escaped !== ',' && escaped !== '\\') {
        throw new XeParseError(what, 1, line, `backslash at column ${index + 1} escapes neither ',' nor '\\'`);
      }
      current += escaped;
      index++;
    } else {
      current += character;
    }
  }
  values.push(current);
  return values;
}

/** `xe host-is-in-emergency-mode`: `true` or `false`. */
export function parseEmergencyModeFlag(stdout: string): boolean {
  const what = 'host-is-in-emergency-mode output';
  const line = singleLine(stdout, what);
  if (line === 'true') return true;
  if (line === 'false') return false;
  // --minimal drops this command's message and leaves an empty line (spec A.1).
  const reason = line === '' ? 'empty line instead of true/false (was --minimal given?)' : 'expected true or false';
  throw new XeParseError(what, 1, line, reason);
}

/**
 * `xe pool-recover-slaves`: the UUIDs of the hosts that were reset, one per line, or comma-separated
 * on one line with --minimal. No host recovered prints nothing (an empty line with --minimal).
 */
export function parseRecoveredSlaves(stdout: string): string[] {
  const what = 'pool-recover-slaves output';
  const lines = terminatedLines(stdout, what);
  if (lines.length === 1 && lines[0] === '') return [];
  const [onlyLine] = lines;
  const minimalForm = lines.length === 1 && onlyLine !== undefined && onlyLine.includes(',');
  const uuids = minimalForm ? onlyLine.split(',') : lines;
  uuids.forEach((uuid, index) => {
    if (!isUuid(uuid)) {
      const lineNumber = minimalForm ? 1 : index + 1;
      throw new XeParseError(what, lineNumber, minimalForm ? onlyLine : uuid, `not a host UUID: ${JSON.stringify(uuid)}`);
    }
  });
  return uuids;
}

export type RoleChangeNotice =
  | { readonly kind: 'transition-to-master'; readonly delaySeconds: number }
  | { readonly kind: 'become-slave'; readonly masterAddress: string; readonly delaySeconds: number }
  | { readonly kind: 'already-master' };

const TRANSITION_TO_MASTER = /^Host agent will restart and transition to master in (\S+) seconds\.\.\.$/;
// The address is echoed exactly as typed, so it is taken up to the last " in ".
const BECOME_SLAVE = /^Host agent will restart and become slave of (.+) in (\S+) seconds\.\.\.$/;

/** What pool-emergency-transition-to-master / pool-emergency-reset-master print on success (exit 0). */
export function parseRoleChangeNotice(stdout: string): RoleChangeNotice {
  const what = 'role change notice';
  const line = singleLine(stdout, what);
  if (line === XE_CLI_TEXTS.alreadyMaster) return { kind: 'already-master' };
  const transition = TRANSITION_TO_MASTER.exec(line);
  if (transition?.[1] !== undefined) {
    return { kind: 'transition-to-master', delaySeconds: parseFuseTime(transition[1], line, what) };
  }
  const becomeSlave = BECOME_SLAVE.exec(line);
  if (becomeSlave?.[1] !== undefined && becomeSlave[2] !== undefined) {
    return {
      kind: 'become-slave',
      masterAddress: becomeSlave[1],
      delaySeconds: parseFuseTime(becomeSlave[2], line, what),
    };
  }
  throw new XeParseError(what, 1, line, 'not a known pool role change notice');
}

// OCaml's string_of_float: `10.`, `10.5`, `1e+20` (always a dot or an exponent).
const OCAML_FLOAT = /^\d+(?:\.\d*(?:e[+-]\d+)?|e[+-]\d+)$/;

function parseFuseTime(text: string, line: string, what: string): number {
  if (!OCAML_FLOAT.test(text)) {
    throw new XeParseError(what, 1, line, `restart delay ${JSON.stringify(text)} is not a number`);
  }
  return Number(text);
}

/** The notice text as xapi prints it, for the lab simulator. Delays print like OCaml's string_of_float. */
export function formatRoleChangeNotice(notice: RoleChangeNotice): string {
  switch (notice.kind) {
    case 'already-master':
      return `${XE_CLI_TEXTS.alreadyMaster}\n`;
    case 'transition-to-master':
      return `Host agent will restart and transition to master in ${formatOcamlFloat(notice.delaySeconds)} seconds...\n`;
    case 'become-slave': {
      const delay = formatOcamlFloat(notice.delaySeconds);
      return `Host agent will restart and become slave of ${notice.masterAddress} in ${delay} seconds...\n`;
    }
  }
}

// Matches OCaml's %.12g-based string_of_float for the delays xapi uses (whole or short decimal seconds).
function formatOcamlFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.` : String(value);
}

export type PoolRole =
  | { readonly role: 'master' }
  | { readonly role: 'slave'; readonly masterAddress: string }
  | { readonly role: 'broken' };

const SLAVE_ROLE = /^slave:(\S+)$/;

/**
 * `/etc/xensource/pool.conf`: `master`, `slave:<address>` or `broken`. xapi trims surrounding
 * whitespace before reading it (pool_role.ml), so a trailing newline is optional. xapi itself treats an
 * unreadable file as `broken`; here anything else is a parse error, so the caller sees the real content.
 */
export function parsePoolConf(text: string): PoolRole {
  const what = '/etc/xensource/pool.conf';
  const contentLines = text
    .split('\n')
    .map((line, index) => ({ number: index + 1, text: line }))
    .filter((line) => line.text.trim() !== '');
  const [content, extra] = contentLines;
  if (content === undefined) throw new XeParseError(what, 1, text, 'empty file');
  if (extra !== undefined) throw new XeParseError(what, extra.number, extra.text, 'more than one line of content');
  const role = content.text.trim();
  if (role === 'master') return { role: 'master' };
  if (role === 'broken') return { role: 'broken' };
  const masterAddress = SLAVE_ROLE.exec(role)?.[1];
  if (masterAddress !== undefined) return { role: 'slave', masterAddress };
  throw new XeParseError(what, content.number, content.text, 'expected master, slave:<address> or broken');
}

const NULL_REFERENCE = '<not in database>';

/**
 * `xe <class>-param-get` of a free-text field (a name-label): xe prints the value as stored and a
 * newline, so newlines inside the value are part of it. Only the final newline is required.
 */
export function parseFreeTextValue(stdout: string, what = 'param-get output'): string {
  if (!stdout.endsWith('\n')) {
    const lines = stdout.split('\n');
    throw new XeParseError(what, lines.length, lines[lines.length - 1] ?? '', 'output ends in the middle of a line (cut off?)');
  }
  return stdout.slice(0, -1);
}

/**
 * `xe <class>-param-get` without --minimal: the value on one line; a null reference prints as
 * `<not in database>` and gives null. A value with a newline in it cannot be told from garbage and is rejected.
 */
export function parseSingleValue(stdout: string, what = 'param-get output'): string | null {
  const value = singleLine(stdout, what);
  return value === NULL_REFERENCE ? null : value;
}
