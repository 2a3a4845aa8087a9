/**
 * Validators for every value that goes into an `xe` command line.
 * Each `require…` returns the value unchanged when it is valid and throws UnsafeXeValueError otherwise.
 */
import { isIPv6 } from 'node:net';
import { codePointName, isForbiddenCharacter, shellSafetyProblem } from './shellQuote';

/** Values in error messages are cut here: enough to recognise a value, short enough for a notification. */
const SHOWN_VALUE_LENGTH = 80;

const READABLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
  ['\0', '\\0'],
  // Escaped too, so that a real backslash followed by `n` cannot be mistaken for an escaped newline.
  ['\\', '\\\\'],
]);

function escapeForDisplay(character: string): string {
  const readable = READABLE_ESCAPES.get(character);
  if (readable !== undefined) return readable;
  return isForbiddenCharacter(character) ? `\\u${codePointName(character).slice(2).toLowerCase()}` : character;
}

/** The value as shown in messages: at most 80 code points, invisible characters written as escapes. */
export function showValue(value: string): string {
  const codePoints = Array.from(value);
  const shown = codePoints.slice(0, SHOWN_VALUE_LENGTH).map(escapeForDisplay).join('');
  return codePoints.length > SHOWN_VALUE_LENGTH ? `${shown}…` : shown;
}

/** A value refused before it could reach a command line. */
export class UnsafeXeValueError extends Error {
  override readonly name = 'UnsafeXeValueError';
  /** The xe parameter the value was meant for, e.g. `master-address`. */
  readonly parameter: string;
  /** The offending value as shown by `showValue` (truncated, control characters escaped). */
  readonly value: string;
  /** Why it was refused, e.g. `is not a UUID (8-4-4-4-12 hexadecimal digits)`. */
  readonly reason: string;

  constructor(parameter: string, rawValue: string, reason: string) {
    const shown = showValue(rawValue);
    super(`${parameter}: "${shown}" ${reason}`);
    this.parameter = parameter;
    this.value = shown;
    this.reason = reason;
  }
}

/** Any value that will be quoted onto a command line: free text such as a name-label filter. */
export function requireSafeValue(parameter: string, value: string): string {
  const problem = shellSafetyProblem(value);
  if (problem !== undefined) throw new UnsafeXeValueError(parameter, value, problem);
  return value;
}

// xapi UUIDs are not always RFC 4122 version-conforming (spec B.4 shows `…-2b4c-…`), so only the shape is checked.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function requireUuid(parameter: string, value: string): string {
  if (!isUuid(value)) throw new UnsafeXeValueError(parameter, value, 'is not a UUID (8-4-4-4-12 hexadecimal digits)');
  return value;
}

// Leading zeros are refused because the resolver (inet_aton) reads `010` as octal 8, i.e. a different host.
const IPV4_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;

function isIPv4(value: string): boolean {
  const octets = value.split('.');
  return octets.length === 4 && octets.every((octet) => IPV4_OCTET.test(octet) && Number(octet) <= 255);
}

const MAX_HOSTNAME_LENGTH = 253;
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * RFC 1123 hostname. The last label must not be all digits: otherwise `10.0.0.256` or `1234` would pass
 * as names, and the resolver would read the latter as the IPv4 address 0.0.4.210.
 */
function isDnsHostname(value: string): boolean {
  if (value.length > MAX_HOSTNAME_LENGTH) return false;
  const labels = value.split('.');
  const topLabel = labels.at(-1) ?? '';
  return labels.every((label) => DNS_LABEL.test(label)) && !/^[0-9]+$/.test(topLabel);
}

/** IPv4 dotted quad, IPv6 literal (without a zone id, which means nothing to the other hosts) or DNS name. */
export function isHostAddress(value: string): boolean {
  return isIPv4(value) || (!value.includes('%') && isIPv6(value)) || isDnsHostname(value);
}

/** `[fd00::1]`, as URLs and ssh write an IPv6 address, is the address `fd00::1`. */
export function unbracketedAddress(text: string): string {
  return text.trim().replace(/^\[(.*)\]$/, '$1');
}

/**
 * Why the text an admin typed as a host's address is none, said so that it can be fixed; undefined when it is one
 * (after unbracketedAddress). A port is never part of an address here: ssh's port is a setting of its own.
 */
export function hostAddressProblem(text: string): string | undefined {
  const value = unbracketedAddress(text);
  if (value === '') return 'the address is empty: give an IPv4 or IPv6 address or a DNS name';
  if (isHostAddress(value)) return undefined;
  const shown = JSON.stringify(showValue(value));
  const withPort = /^\[([^\]]*)\]:(.*)$/.exec(text.trim()) ?? /^([^:]*):([^:]*)$/.exec(value);
  if (withPort && isHostAddress(withPort[1] ?? '')) {
    return `${shown} has a port (:${showValue(withPort[2] ?? '')}): give the address alone (another SSH port than 22 goes into "port" of the pool in xenPools.pools, or a Host alias with Port in ~/.ssh/config)`;
  }
  if (value.includes('%') && isIPv6(value.slice(0, value.indexOf('%')))) return `${shown} has a zone id (${showValue(value.slice(value.indexOf('%')))}), which means nothing to the other hosts of the pool: give the address alone`;
  return `${shown} is not an IPv4 or IPv6 address or a DNS name`;
}

export function requireHostAddress(parameter: string, value: string): string {
  if (!isHostAddress(value)) {
    throw new UnsafeXeValueError(parameter, value, 'is not a valid host address (IPv4, IPv6 or DNS name)');
  }
  return value;
}

const MAP_KEY = /^[A-Za-z0-9_.-]+$/;

/** A key inside a map field, e.g. `auto_poweron` in `other-config`. */
export function isMapKey(value: string): boolean {
  return MAP_KEY.test(value);
}

export function requireMapKey(parameter: string, value: string): string {
  if (!isMapKey(value)) throw new UnsafeXeValueError(parameter, value, 'is not a valid map key (letters, digits, _ . -)');
  return value;
}

/** Pool fields as printed by `pool-param-list` (spec B.4, 8.2 field set, plus the newer fields the spec names). */
export const POOL_FIELDS = [
  'uuid', 'name-label', 'name-description', 'master', 'default-SR', 'crash-dump-SR', 'suspend-image-SR',
  'supported-sr-types', 'other-config', 'allowed-operations', 'current-operations', 'ha-enabled',
  'ha-configuration', 'ha-statefiles', 'ha-host-failures-to-tolerate', 'ha-plan-exists-for',
  'ha-allow-overcommit', 'ha-overcommitted', 'blobs', 'wlb-url', 'wlb-username', 'wlb-enabled',
  'wlb-verify-cert', 'igmp-snooping-enabled', 'gui-config', 'health-check-config', 'restrictions', 'tags',
  'license-state', 'ha-cluster-stack', 'guest-agent-config', 'cpu_info', 'policy-no-vendor-device',
  'live-patching-disabled', 'https-only',
  'tls-verification-enabled', 'repositories', 'migration-compression', 'coordinator-bias',
  'ha-reboot-vm-on-internal-shutdown',
] as const;

/** Host fields in record order (spec B.4, v1.249.42), plus the newer fields the spec names (B.4, F). */
export const HOST_FIELDS = [
  'uuid', 'name-label', 'name-description', 'allowed-operations', 'current-operations', 'enabled', 'display',
  'API-version-major', 'API-version-minor', 'API-version-vendor', 'API-version-vendor-implementation', 'logging',
  'suspend-image-sr-uuid', 'crash-dump-sr-uuid', 'software-version', 'capabilities', 'other-config', 'cpu_info',
  'chipset-info', 'hostname', 'address', 'https-only', 'supported-bootloaders', 'blobs', 'memory-overhead',
  'memory-total', 'memory-free', 'memory-free-computed', 'host-metrics-live', 'patches', 'updates',
  'ha-statefiles', 'ha-network-peers', 'external-auth-type', 'external-auth-service-name',
  'external-auth-configuration', 'edition', 'license-server', 'power-on-mode', 'power-on-config',
  'local-cache-sr', 'tags', 'ssl-legacy', 'guest_VCPUs_params', 'virtual-hardware-platform-versions',
  'control-domain-uuid', 'resident-vms', 'updates-requiring-reboot', 'features', 'iscsi_iqn', 'multipathing',
  'ssh-enabled', 'ssh-enabled-timeout', 'ssh-auto-mode', 'tls-verification-enabled', 'numa-affinity-policy',
] as const;

/** SR fields in record order (spec A.8). */
export const SR_FIELDS = [
  'uuid', 'name-label', 'name-description', 'host', 'allowed-operations', 'current-operations', 'VDIs', 'PBDs',
  'virtual-allocation', 'physical-utilisation', 'physical-size', 'type', 'content-type', 'shared',
  'introduced-by', 'is-tools-sr', 'other-config', 'sm-config', 'blobs', 'local-cache-enabled', 'tags',
  'clustered',
] as const;

export const PBD_FIELDS = [
  'uuid', 'host', 'host-uuid', 'sr-uuid', 'device-config', 'currently-attached', 'other-config',
] as const;

/** The VM fields the product reads or filters on (the full record has ~90). */
export const VM_FIELDS = [
  'uuid', 'name-label', 'name-description', 'power-state', 'resident-on', 'is-control-domain', 'is-a-template', 'is-a-snapshot',
  'memory-overhead', 'memory-target', 'memory-static-max', 'memory-dynamic-max', 'memory-dynamic-min', 'memory-static-min',
] as const;

/** The VBD fields the product reads: which VM uses which disk. */
export const VBD_FIELDS = [
  'uuid', 'vm-uuid', 'vm-name-label', 'vdi-uuid', 'vdi-name-label', 'empty', 'device', 'userdevice', 'bootable', 'mode', 'type', 'currently-attached',
] as const;

/** The VDI fields the product reads: where a disk lives. */
export const VDI_FIELDS = [
  'uuid', 'name-label', 'name-description', 'sr-uuid', 'sr-name-label', 'vbd-uuids', 'virtual-size', 'type', 'sharable', 'read-only', 'sm-config',
] as const;

const FIELDS_BY_CLASS = { pool: POOL_FIELDS, host: HOST_FIELDS, SR: SR_FIELDS, PBD: PBD_FIELDS, VM: VM_FIELDS, VBD: VBD_FIELDS, VDI: VDI_FIELDS } as const;

/** An xapi class, spelled as xe spells it in errors (`type: SR`). */
export type XeClass = keyof typeof FIELDS_BY_CLASS;
export type FieldOf<C extends XeClass> = (typeof FIELDS_BY_CLASS)[C][number];
export type PoolField = FieldOf<'pool'>;
export type HostField = FieldOf<'host'>;
export type SrField = FieldOf<'SR'>;
export type PbdField = FieldOf<'PBD'>;
export type VmField = FieldOf<'VM'>;
export type VbdField = FieldOf<'VBD'>;
export type VdiField = FieldOf<'VDI'>;

export function isFieldOf<C extends XeClass>(xeClass: C, value: string): value is FieldOf<C> {
  const fields: readonly string[] = FIELDS_BY_CLASS[xeClass];
  return fields.includes(value);
}

/** Field names are checked at run time too, because they may come from settings or a webview, not only from typed code. */
export function requireFieldName<C extends XeClass>(xeClass: C, parameter: string, value: string): FieldOf<C> {
  if (!isFieldOf(xeClass, value)) throw new UnsafeXeValueError(parameter, value, `is not a known ${xeClass} field`);
  return value;
}
