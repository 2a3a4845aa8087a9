/**
 * What the product shows of an `xe` command (log, audit trail, errors, notifications): every value masked by
 * default. A value is shown only when its key is known to carry no secret (the record fields the product knows, and
 * the parameters admins use to name things); a key that looks like a secret is masked even then. The command that
 * runs keeps every value; only its display form is masked.
 */
import { shellQuote } from './shellQuote';
import { HOST_FIELDS, PBD_FIELDS, POOL_FIELDS, SR_FIELDS, VBD_FIELDS, VDI_FIELDS, VM_FIELDS } from './validate';

/** Parameters that name or select things, and switches' values; none of them carries a secret. */
const SAFE_PARAMETERS = [
  'uuid', 'params', 'param-name', 'param-key', 'name-label', 'name-description', 'new-name-label',
  'host', 'host-uuid', 'host-name-label', 'vm', 'vm-uuid', 'vm-name-label', 'sr', 'sr-uuid', 'sr-name-label',
  'pool-uuid', 'vdi-uuid', 'vbd-uuid', 'vif-uuid', 'pif-uuid', 'pbd-uuid', 'network-uuid', 'vlan-uuid',
  'master-address', 'address', 'hostname', 'on', 'force', 'live', 'power-state', 'resident-on', 'type',
  'content-type', 'shared', 'device', 'mode', 'bootable', 'mac', 'mtu', 'bridge', 'vlan', 'size', 'virtual-size',
  'filename', 'file-name', 'plugin', 'fn', 'is-control-domain', 'is-a-template', 'is-a-snapshot', 'minimal',
  'device-config:server', 'device-config:serverpath', 'device-config:target', 'device-config:targetIQN',
  'device-config:SCSIid', 'device-config:device', 'device-config:port', 'device-config:location',
  'other-config:auto_poweron',
];

const SAFE_KEYS: ReadonlySet<string> = new Set<string>([...POOL_FIELDS, ...HOST_FIELDS, ...SR_FIELDS, ...PBD_FIELDS, ...VM_FIELDS, ...VBD_FIELDS, ...VDI_FIELDS, ...SAFE_PARAMETERS]);

/** Keys that name a secret wherever they appear (`*password*`, `*secret*`, `*token*`, `*pass`, `*pw`, `*passphrase*`, `*credential*`). */
const SECRET_KEY = /password|passwd|secret|token|passphrase|credential|pass$|pw$/i;

/** True when the value of `key` may be shown for `subcommand`. */
export function isShownKey(subcommand: string, key: string): boolean {
  if (SECRET_KEY.test(key) || key.startsWith('args:')) return false;
  // secret-create stores its `value` as the secret itself.
  if (subcommand === 'secret-create' && key === 'value') return false;
  return SAFE_KEYS.has(key);
}

/** The arguments as shown: `key=***` for every value that may not be. Switches and the subcommand stay. */
export function displayArguments(subcommand: string, args: readonly string[]): string[] {
  return args.map((argument) => {
    const equals = argument.indexOf('=');
    if (equals <= 0 || argument.startsWith('--')) return argument;
    const key = argument.slice(0, equals);
    return isShownKey(subcommand, key) ? argument : `${key}=***`;
  });
}

/** The command line as shown: `xe` and the arguments, quoted as the shell line is, values masked as above. */
export function displayLine(subcommand: string, args: readonly string[]): string {
  return ['xe', ...displayArguments(subcommand, args)].map(shellQuote).join(' ');
}

/** Commands whose output is a secret itself (`xe secret-param-get … param-name=value`): kept out of logs. */
export function outputIsSecret(subcommand: string): boolean {
  return subcommand.startsWith('secret-');
}
