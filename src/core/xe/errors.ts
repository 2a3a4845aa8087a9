/**
 * Typed errors for `xe`: parse errors for output we cannot read, and the classification of a failed
 * `xe` run (stderr text, exit code) into a discriminated union.
 *
 * Source of every text below: xapi-project/xen-api, `ocaml/idl/datamodel_errors.ml` at v1.160.0 (2019),
 * at the commit before CP-37590 (wordings introduced in 2020), v1.249.42 (8.2 LTS) and HEAD (8.3 / XS8);
 * `ocaml/xapi-cli-server/{xapi_cli,cli_util,cli_operations}.ml` and `ocaml/xe-cli/newcli.ml` for the CLI
 * and client texts. See ../shared/xapi-behaviour.md sections A.0, A.9, C.2, C.3, F.
 */
import { isUuid } from './validate';
import { XAPI_ERROR_TEXTS, XE_CLI_TEXTS, type ParamLabel, type XapiErrorCode, type XapiVersions, type XapiWordingVersion } from './errorTexts';

export * from './errorTexts';

const MAX_QUOTED_LENGTH = 200;

function truncateForQuoting(text: string): string {
  return text.length > MAX_QUOTED_LENGTH ? text.slice(0, MAX_QUOTED_LENGTH) : text;
}

/** Output that is garbage, truncated or not what `xe` prints. Never a guess: parsers throw this instead. */
export class XeParseError extends Error {
  /** What was being parsed, e.g. `pool-list output`. */
  readonly what: string;
  /** 1-based line number of the first offending line. */
  readonly line: number;
  /** The first offending line, cut to 200 characters. */
  readonly offendingLine: string;

  constructor(what: string, line: number, offendingLine: string, reason: string) {
    const quoted = truncateForQuoting(offendingLine);
    super(`Cannot parse ${what}: ${reason} (line ${line}: ${JSON.stringify(quoted)})`);
    this.name = 'XeParseError';
    this.what = what;
    this.line = line;
    this.offendingLine = quoted;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Failure classification
// ---------------------------------------------------------------------------------------------------------

/** What the process running `xe` reported. */
export interface XeProcessOutput {
  readonly stdout: string;
  readonly stderr: string;
  /** null when the process was killed by a signal. */
  readonly exitCode: number | null;
}

/**
 * An object parameter of an API error. xapi prints a resolvable OpaqueRef as `<uuid> (<name-label>)`,
 * a bare uuid when the object has no name, and the raw text (e.g. the OpaqueRef) otherwise.
 */
export interface XapiObjectParam {
  readonly raw: string;
  readonly uuid: string | null;
  readonly nameLabel: string | null;
}

export type XeFailure =
  | { readonly code: 'HOST_IS_SLAVE'; readonly masterAddress: string; readonly wording: XapiWordingVersion }
  | { readonly code: 'HOST_ITS_OWN_SLAVE'; readonly wording: XapiWordingVersion }
  | {
      readonly code:
        | 'HOST_STILL_BOOTING'
        | 'HOST_IN_EMERGENCY_MODE'
        | 'HOST_NOT_LIVE'
        | 'HOST_HAS_NO_MANAGEMENT_IP'
        | 'HOST_BROKEN'
        | 'HA_IS_ENABLED'
        | 'HA_NOT_ENABLED'
        | 'HA_HOST_CANNOT_ACCESS_STATEFILE'
        | 'HA_HEARTBEAT_DAEMON_STARTUP_FAILED'
        | 'HA_POOL_IS_ENABLED_BUT_HOST_IS_DISABLED'
        | 'POOL_NOT_IN_EMERGENCY_MODE';
    }
  | { readonly code: 'HOST_OFFLINE' | 'CANNOT_CONTACT_HOST' | 'HOST_UNKNOWN_TO_MASTER'; readonly host: XapiObjectParam }
  | { readonly code: 'HOST_MASTER_CANNOT_TALK_BACK'; readonly ip: string }
  | { readonly code: 'HOST_IS_LIVE' | 'HOST_HAS_RESIDENT_VMS'; readonly host: XapiObjectParam }
  | { readonly code: 'CANNOT_RESET_CONTROL_DOMAIN' | 'DOMAIN_EXISTS'; readonly vm: XapiObjectParam }
  | { readonly code: 'VM_BAD_POWER_STATE'; readonly vm: XapiObjectParam; readonly expected: string; readonly actual: string }
  /** Bytes, as xapi prints them. */
  | { readonly code: 'HOST_NOT_ENOUGH_FREE_MEMORY'; readonly needed: string; readonly available: string }
  | { readonly code: 'VM_REQUIRES_SR'; readonly vm: XapiObjectParam; readonly sr: string }
  | { readonly code: 'UUID_INVALID'; readonly objectType: string; readonly uuid: string }
  /** `message` is the first line of the message only; the exact text for a dead master is unconfirmed (spec C.2). */
  | { readonly code: 'INTERNAL_ERROR'; readonly message: string }
  | { readonly code: 'FORCE_REQUIRED' }
  | { readonly code: 'FIELD_READ_ONLY' | 'UNKNOWN_FIELD'; readonly field: string }
  /** `Error: No matching <objects> found`, e.g. objects = 'hosts'. */
  | { readonly code: 'NO_MATCHING_OBJECTS'; readonly objects: string }
  /** Any other `Error: <message>` from the CLI server. */
  | { readonly code: 'CLI_ERROR'; readonly message: string }
  /** The client could not connect; unixError 'Connection refused' means xapi is down on that host. */
  | { readonly code: 'XAPI_UNREACHABLE'; readonly unixError: string; readonly syscall: string }
  | { readonly code: 'CONNECTION_LOST' | 'SERVER_UNREACHABLE' | 'NO_MANAGEMENT_AGENT' }
  | { readonly code: 'SERVER_HOST_NOT_FOUND'; readonly server: string }
  | { readonly code: 'UNKNOWN_COMMAND'; readonly command: string }
  | { readonly code: 'MISSING_PARAMETER'; readonly parameter: string }
  | { readonly code: 'UNKNOWN_SWITCH'; readonly switchName: string }
  | { readonly code: 'SYNTAX_ERROR'; readonly message: string }
  /**
   * `Error code: <CODE>` + `Error parameters: <p1>, <p2>`: a code the CLI has no doc string for.
   * `Missing parameter` is what an unknown param-name gives (spec A.0, unconfirmed by a capture).
   * The parameters are split on `, `, so a parameter that itself contains `, ` is split too.
   */
  | {
      readonly code: 'UNKNOWN_ERROR_CODE';
      readonly errorCode: string;
      readonly params: readonly string[];
      readonly isMissingParameter: boolean;
    }
  | { readonly code: 'AUTHENTICATION_FAILED' | 'CREDENTIALS_REQUIRED' }
  | { readonly code: 'ALREADY_MASTER' }
  | { readonly code: 'UNRECOGNISED'; readonly firstLine: string };

export type XeFailureCode = XeFailure['code'];

/** `xe` succeeded: exit status 0 and nothing on stderr. */
export function isXeSuccess(output: XeProcessOutput): boolean {
  return output.exitCode === 0 && output.stderr === '';
}

/** Classifies a failed `xe` run. Text that matches no known wording exactly gives UNRECOGNISED. */
export function classifyXeFailure(output: XeProcessOutput): XeFailure {
  const lines = messageLines(output);
  const firstLine = lines[0] ?? '';
  const rest = lines.slice(1);
  const recognised =
    classifyApiError(firstLine, rest) ??
    classifyUnknownErrorCode(firstLine, rest) ??
    classifyClientText(firstLine) ??
    classifyCliError(firstLine) ??
    classifyParseError(firstLine);
  return recognised ?? { code: 'UNRECOGNISED', firstLine: truncateForQuoting(firstLine) };
}

/** The lines that carry the failure: stderr, or stdout when stderr is blank (the already-master notice). */
function messageLines(output: XeProcessOutput): string[] {
  const text = output.stderr.trim() === '' ? output.stdout : output.stderr;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

interface KnownWording {
  readonly code: XapiErrorCode;
  readonly versions: XapiVersions;
}

const API_ERROR_BY_FIRST_LINE: ReadonlyMap<string, KnownWording> = new Map(
  (Object.keys(XAPI_ERROR_TEXTS) as XapiErrorCode[]).flatMap((code) =>
    XAPI_ERROR_TEXTS[code].wordings.map((wording): [string, KnownWording] => [
      wording.text,
      { code, versions: wording.versions },
    ]),
  ),
);

type ApiErrorParams<C extends XapiErrorCode> = Readonly<Record<ParamLabel<C>, string>>;

type ApiErrorBuilders = {
  readonly [C in XapiErrorCode]: (params: ApiErrorParams<C>, versions: XapiVersions) => XeFailure;
};

const API_ERROR_BUILDERS: ApiErrorBuilders = {
  // Each HOST_IS_SLAVE / HOST_ITS_OWN_SLAVE wording belongs to exactly one version.
  HOST_IS_SLAVE: (params, versions) => ({
    code: 'HOST_IS_SLAVE',
    masterAddress: params['Master IP address'],
    wording: versions[0],
  }),
  HOST_ITS_OWN_SLAVE: (_params, versions) => ({ code: 'HOST_ITS_OWN_SLAVE', wording: versions[0] }),
  HOST_STILL_BOOTING: () => ({ code: 'HOST_STILL_BOOTING' }),
  HOST_IN_EMERGENCY_MODE: () => ({ code: 'HOST_IN_EMERGENCY_MODE' }),
  HOST_NOT_LIVE: () => ({ code: 'HOST_NOT_LIVE' }),
  HOST_OFFLINE: (params) => ({ code: 'HOST_OFFLINE', host: parseObjectParam(params.host) }),
  CANNOT_CONTACT_HOST: (params) => ({ code: 'CANNOT_CONTACT_HOST', host: parseObjectParam(params.host) }),
  HOST_HAS_NO_MANAGEMENT_IP: () => ({ code: 'HOST_HAS_NO_MANAGEMENT_IP' }),
  HOST_MASTER_CANNOT_TALK_BACK: (params) => ({ code: 'HOST_MASTER_CANNOT_TALK_BACK', ip: params.ip }),
  HOST_UNKNOWN_TO_MASTER: (params) => ({ code: 'HOST_UNKNOWN_TO_MASTER', host: parseObjectParam(params.host) }),
  HOST_BROKEN: () => ({ code: 'HOST_BROKEN' }),
  HA_IS_ENABLED: () => ({ code: 'HA_IS_ENABLED' }),
  HA_NOT_ENABLED: () => ({ code: 'HA_NOT_ENABLED' }),
  HA_HOST_CANNOT_ACCESS_STATEFILE: () => ({ code: 'HA_HOST_CANNOT_ACCESS_STATEFILE' }),
  HA_HEARTBEAT_DAEMON_STARTUP_FAILED: () => ({ code: 'HA_HEARTBEAT_DAEMON_STARTUP_FAILED' }),
  HA_POOL_IS_ENABLED_BUT_HOST_IS_DISABLED: () => ({ code: 'HA_POOL_IS_ENABLED_BUT_HOST_IS_DISABLED' }),
  POOL_NOT_IN_EMERGENCY_MODE: () => ({ code: 'POOL_NOT_IN_EMERGENCY_MODE' }),
  HOST_IS_LIVE: (params) => ({ code: 'HOST_IS_LIVE', host: parseObjectParam(params.host) }),
  HOST_HAS_RESIDENT_VMS: (params) => ({ code: 'HOST_HAS_RESIDENT_VMS', host: parseObjectParam(params.host) }),
  CANNOT_RESET_CONTROL_DOMAIN: (params) => ({ code: 'CANNOT_RESET_CONTROL_DOMAIN', vm: parseObjectParam(params.vm) }),
  DOMAIN_EXISTS: (params) => ({ code: 'DOMAIN_EXISTS', vm: parseObjectParam(params.vm) }),
  VM_BAD_POWER_STATE: (params) => ({ code: 'VM_BAD_POWER_STATE', vm: parseObjectParam(params.vm), expected: params.expected, actual: params.actual }),
  HOST_NOT_ENOUGH_FREE_MEMORY: (params) => ({ code: 'HOST_NOT_ENOUGH_FREE_MEMORY', needed: params.needed, available: params.available }),
  VM_REQUIRES_SR: (params) => ({ code: 'VM_REQUIRES_SR', vm: parseObjectParam(params.vm), sr: params.sr }),
  UUID_INVALID: (params) => ({ code: 'UUID_INVALID', objectType: params.type, uuid: params.uuid }),
  INTERNAL_ERROR: (params) => ({ code: 'INTERNAL_ERROR', message: params.message }),
};

function classifyApiError(firstLine: string, paramLines: readonly string[]): XeFailure | undefined {
  const known = API_ERROR_BY_FIRST_LINE.get(firstLine);
  if (known === undefined) return undefined;
  return buildApiError(known.code, paramLines, known.versions);
}

function buildApiError<C extends XapiErrorCode>(
  code: C,
  paramLines: readonly string[],
  versions: XapiVersions,
): XeFailure | undefined {
  const labels = XAPI_ERROR_TEXTS[code].params;
  const values = parseParamLines(labels, paramLines);
  if (values === undefined) return undefined;
  // parseParamLines returned a value for every label of this code.
  const builder: (params: ApiErrorParams<C>, versions: XapiVersions) => XeFailure = API_ERROR_BUILDERS[code];
  return builder(values as ApiErrorParams<C>, versions);
}

/**
 * Reads `<label>: <value>` lines in the order of the labels. A missing line, another label, or the
 * `<unknown>` that xapi prints for a parameter it did not get, make the whole error unrecognised: we
 * never invent a value. Lines after the expected ones (`<extra>: …`, `--trace` output) are ignored.
 */
function parseParamLines(labels: readonly string[], lines: readonly string[]): Record<string, string> | undefined {
  const values: Record<string, string> = {};
  for (const [index, label] of labels.entries()) {
    const prefix = `${label}: `;
    const line = lines[index];
    if (line === undefined || !line.startsWith(prefix)) return undefined;
    const value = line.slice(prefix.length);
    if (value === '<unknown>') return undefined;
    values[label] = value;
  }
  return values;
}

const OBJECT_WITH_NAME = /^(\S+) \((.*)\)$/;

function parseObjectParam(raw: string): XapiObjectParam {
  if (isUuid(raw)) return { raw, uuid: raw, nameLabel: null };
  const match = OBJECT_WITH_NAME.exec(raw);
  if (match?.[1] !== undefined && match[2] !== undefined && isUuid(match[1])) {
    return { raw, uuid: match[1], nameLabel: match[2] };
  }
  return { raw, uuid: null, nameLabel: null };
}

const UNKNOWN_ERROR_CODE = /^Error code: (.+)$/;
const UNKNOWN_ERROR_PARAMS = 'Error parameters: ';

function classifyUnknownErrorCode(firstLine: string, rest: readonly string[]): XeFailure | undefined {
  const errorCode = UNKNOWN_ERROR_CODE.exec(firstLine)?.[1];
  const paramsLine = rest[0];
  if (errorCode === undefined || paramsLine === undefined || !paramsLine.startsWith(UNKNOWN_ERROR_PARAMS)) {
    return undefined;
  }
  const paramsText = paramsLine.slice(UNKNOWN_ERROR_PARAMS.length);
  // An empty parameter list prints as an empty string (String.concat ", " []).
  const params = paramsText === '' ? [] : paramsText.split(', ');
  return { code: 'UNKNOWN_ERROR_CODE', errorCode, params, isMissingParameter: errorCode === 'Missing parameter' };
}

/** `Error: <Unix.error_message> (calling <function> <argument>)` from newcli.ml. */
const CLIENT_UNIX_ERROR = /^Error: (.+) \(calling (\S+) .*\)$/;
const SERVER_HOST_NOT_FOUND = /^Host '(.*)' not found\.$/;

function classifyClientText(firstLine: string): XeFailure | undefined {
  switch (firstLine) {
    case XE_CLI_TEXTS.connectionLost:
      return { code: 'CONNECTION_LOST' };
    case XE_CLI_TEXTS.serverUnreachable:
      return { code: 'SERVER_UNREACHABLE' };
    case XE_CLI_TEXTS.noManagementAgent:
      return { code: 'NO_MANAGEMENT_AGENT' };
    case XE_CLI_TEXTS.authenticationFailed:
      return { code: 'AUTHENTICATION_FAILED' };
    case XE_CLI_TEXTS.credentialsRequired:
      return { code: 'CREDENTIALS_REQUIRED' };
    case XE_CLI_TEXTS.alreadyMaster:
      return { code: 'ALREADY_MASTER' };
  }
  const unixError = CLIENT_UNIX_ERROR.exec(firstLine);
  if (unixError?.[1] !== undefined && unixError[2] !== undefined) {
    return { code: 'XAPI_UNREACHABLE', unixError: unixError[1], syscall: unixError[2] };
  }
  const server = SERVER_HOST_NOT_FOUND.exec(firstLine)?.[1];
  return server === undefined ? undefined : { code: 'SERVER_HOST_NOT_FOUND', server };
}

const CLI_FAILURE_PREFIX = 'Error: ';
const FIELD_READ_ONLY = /^Field '(.+)' is read-only\.$/;
const UNKNOWN_FIELD = /^Unknown field '(.+)'$/;
const NO_MATCHING_OBJECTS = /^No matching (\S+) found$/;

function classifyCliError(firstLine: string): XeFailure | undefined {
  if (!firstLine.startsWith(CLI_FAILURE_PREFIX)) return undefined;
  if (firstLine === XE_CLI_TEXTS.forceRequired) return { code: 'FORCE_REQUIRED' };
  const message = firstLine.slice(CLI_FAILURE_PREFIX.length);
  const readOnlyField = FIELD_READ_ONLY.exec(message)?.[1];
  if (readOnlyField !== undefined) return { code: 'FIELD_READ_ONLY', field: readOnlyField };
  const unknownField = UNKNOWN_FIELD.exec(message)?.[1];
  if (unknownField !== undefined) return { code: 'UNKNOWN_FIELD', field: unknownField };
  const objects = NO_MATCHING_OBJECTS.exec(message)?.[1];
  if (objects !== undefined) return { code: 'NO_MATCHING_OBJECTS', objects };
  return { code: 'CLI_ERROR', message };
}

const UNKNOWN_COMMAND = /^Unknown command: (.+)$/;
const MISSING_PARAMETER = /^Required parameter not found: (.+)$/;
// The server prints an unknown switch as a ParseError, i.e. `Syntax error: Unknown switch: <s>`
// (cli_frontend.ml); the spec quotes it without the prefix, so both forms are accepted.
const UNKNOWN_SWITCH = /^(?:Syntax error: )?Unknown switch: (.+)$/;
const SYNTAX_ERROR = /^Syntax error: (.*)$/;

function classifyParseError(firstLine: string): XeFailure | undefined {
  const command = UNKNOWN_COMMAND.exec(firstLine)?.[1];
  if (command !== undefined) return { code: 'UNKNOWN_COMMAND', command };
  const parameter = MISSING_PARAMETER.exec(firstLine)?.[1];
  if (parameter !== undefined) return { code: 'MISSING_PARAMETER', parameter };
  const switchName = UNKNOWN_SWITCH.exec(firstLine)?.[1];
  if (switchName !== undefined) return { code: 'UNKNOWN_SWITCH', switchName };
  const message = SYNTAX_ERROR.exec(firstLine)?.[1];
  return message === undefined ? undefined : { code: 'SYNTAX_ERROR', message };
}

// ---------------------------------------------------------------------------------------------------------
// The error thrown for a failed run
// ---------------------------------------------------------------------------------------------------------

const MAX_SUMMARY_LENGTH = 300;

/** A failed `xe` run, classified. The message is one line: code, exit status and what xe said. */
export class XeCommandError extends Error {
  readonly failure: XeFailure;
  readonly output: XeProcessOutput;

  constructor(output: XeProcessOutput) {
    const failure = classifyXeFailure(output);
    super(`xe failed with ${failure.code} (exit ${output.exitCode ?? 'signal'}): ${summarise(output)}`);
    this.name = 'XeCommandError';
    this.failure = failure;
    this.output = output;
  }
}

function summarise(output: XeProcessOutput): string {
  const said = messageLines(output)
    .filter((line) => line.trim() !== '' && line !== XE_CLI_TEXTS.usageHint)
    .join(' / ')
    .replace(/[\u0000-\u001f\u007f]/g, ' ');
  if (said === '') return '(no output)';
  return said.length > MAX_SUMMARY_LENGTH ? `${said.slice(0, MAX_SUMMARY_LENGTH)}…` : said;
}
