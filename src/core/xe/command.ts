/**
 * Typed, validated `xe` commands. Every value is checked before it reaches a command line, and the
 * command line is built from quoted arguments, so a command can be sent over SSH to a remote shell as is.
 */
import { displayLine } from './secretMask';
import { shellQuote } from './shellQuote';
import {
  type FieldOf,
  type HostField,
  type PbdField,
  type PoolField,
  type SrField,
  type VbdField,
  type VdiField,
  type VmField,
  type XeClass,
  UnsafeXeValueError,
  requireFieldName,
  requireHostAddress,
  requireMapKey,
  requireSafeValue,
  requireUuid,
} from './validate';

export { UnsafeXeValueError };

/**
 * Where xapi runs a command issued on a pool member (spec C.1):
 * `local` commands (xapi's Neverforward flag) run on that host even when its master is dead;
 * `forwarded` commands go to the master, and hang on a slave whose master is dead and which is not in emergency mode.
 */
export type Forwarding = 'local' | 'forwarded';

export interface XeCommandFacts {
  readonly forwarding: Forwarding;
  /** True when running the command changes the pool, a host's role, or stored data; callers confirm before and never retry blindly. */
  readonly changesState: boolean;
}

function facts(forwarding: Forwarding, changesState: boolean): XeCommandFacts {
  return Object.freeze({ forwarding, changesState });
}

/** The one place that says how xapi treats each command this extension runs. */
export const XE_COMMANDS = Object.freeze({
  'host-is-in-emergency-mode': facts('local', false),
  'pool-emergency-transition-to-master': facts('local', true),
  'pool-emergency-reset-master': facts('local', true),
  'host-emergency-ha-disable': facts('local', true),
  'pool-recover-slaves': facts('forwarded', true),
  'pool-designate-new-master': facts('forwarded', true),
  'pool-list': facts('forwarded', false),
  'pool-param-list': facts('forwarded', false),
  'pool-param-get': facts('forwarded', false),
  'pool-param-set': facts('forwarded', true),
  // Overwrites every member's database backup, which is what an emergency master would start from (spec D.1).
  'pool-sync-database': facts('forwarded', true),
  'host-list': facts('forwarded', false),
  'host-param-list': facts('forwarded', false),
  'host-param-get': facts('forwarded', false),
  'sr-list': facts('forwarded', false),
  'sr-param-list': facts('forwarded', false),
  'sr-param-get': facts('forwarded', false),
  'pbd-list': facts('forwarded', false),
  'vm-list': facts('forwarded', false),
  'vm-param-get': facts('forwarded', false),
  'vbd-list': facts('forwarded', false),
  'vdi-list': facts('forwarded', false),
  // After a host died: marks its VMs halted in the database, whether or not they still run there (spec D.2).
  'vm-reset-powerstate': facts('forwarded', true),
  'vm-start': facts('forwarded', true),
  // Removes a dead member from the pool database; it must be reinstalled before it may rejoin.
  'host-forget': facts('forwarded', true),
});

export type XeSubcommand = keyof typeof XE_COMMANDS;

/** An immutable, already validated `xe` invocation. */
export interface XeCommand extends XeCommandFacts {
  readonly subcommand: XeSubcommand;
  /** argv after `xe`, e.g. `['pool-param-get', 'uuid=…', 'param-name=default-SR']`. */
  readonly args: readonly string[];
  /** The command line for logs, errors and the audit trail: values masked unless their key is known to be safe (secretMask.ts). */
  readonly display: string;
  /** The full shell line, `xe arg1 arg2…`, each argument quoted only when it needs to be. */
  toShell(): string;
}

function command(subcommand: XeSubcommand, parameters: readonly string[]): XeCommand {
  const args = Object.freeze([subcommand, ...parameters]);
  const line = ['xe', ...args].map(shellQuote).join(' ');
  const { forwarding, changesState } = XE_COMMANDS[subcommand];
  return Object.freeze({ subcommand, args, forwarding, changesState, display: displayLine(subcommand, args), toShell: () => line });
}

export interface MinimalOption {
  /** `--minimal`: comma-separated first fields instead of records (spec B.3). */
  readonly minimal?: boolean;
}

export interface ListOptions<F extends string> extends MinimalOption {
  /** Fields to print (xe prints them in record order regardless), or `'all'`. */
  readonly params?: readonly F[] | 'all';
  /** Exact-match filters, `field=value`; a field left `undefined` is not filtered on. */
  readonly filters?: Readonly<Partial<Record<F, string>>>;
}

function minimalSwitch(options: MinimalOption): string[] {
  return options.minimal === true ? ['--minimal'] : [];
}

function paramsArguments(xeClass: XeClass, params: readonly string[] | 'all' | undefined): string[] {
  if (params === undefined) return [];
  if (params === 'all') return ['params=all'];
  if (params.length === 0) throw new UnsafeXeValueError('params', '', 'must name at least one field');
  const fields = params.map((field) => requireFieldName(xeClass, 'params', field));
  return [`params=${fields.join(',')}`];
}

function filterArguments(xeClass: XeClass, filters: Readonly<Record<string, string | undefined>> | undefined): string[] {
  return Object.entries(filters ?? {}).flatMap(([field, value]) => {
    if (value === undefined) return [];
    requireFieldName(xeClass, 'filter', field);
    return [`${field}=${requireSafeValue(field, value)}`];
  });
}

function listCommand<C extends XeClass>(subcommand: XeSubcommand, xeClass: C, options: ListOptions<FieldOf<C>>): XeCommand {
  return command(subcommand, [
    ...paramsArguments(xeClass, options.params),
    ...filterArguments(xeClass, options.filters),
    ...minimalSwitch(options),
  ]);
}

function uuidArgument(uuid: string): string {
  return `uuid=${requireUuid('uuid', uuid)}`;
}

/** One typed constructor per command; each throws UnsafeXeValueError for any invalid value. */
export const xe = Object.freeze({
  /** Works on a slave with a dead master. Note: with `--minimal` xe prints an empty line instead of true/false (spec A.1). */
  hostIsInEmergencyMode(options: MinimalOption = {}): XeCommand {
    return command('host-is-in-emergency-mode', minimalSwitch(options));
  },

  /** `force` is needed only to re-run it on a host that is already master (spec A.2). */
  poolEmergencyTransitionToMaster(options: { readonly force?: boolean } = {}): XeCommand {
    return command('pool-emergency-transition-to-master', options.force === true ? ['--force'] : []);
  },

  poolRecoverSlaves(options: MinimalOption = {}): XeCommand {
    return command('pool-recover-slaves', minimalSwitch(options));
  },

  poolEmergencyResetMaster(options: { readonly masterAddress: string }): XeCommand {
    const address = requireHostAddress('master-address', options.masterAddress);
    return command('pool-emergency-reset-master', [`master-address=${address}`]);
  },

  poolDesignateNewMaster(options: { readonly hostUuid: string }): XeCommand {
    return command('pool-designate-new-master', [`host-uuid=${requireUuid('host-uuid', options.hostUuid)}`]);
  },

  /** Always `--force`: without it xapi refuses with "This operation is dangerous…" (spec D.5). */
  hostEmergencyHaDisable(): XeCommand {
    return command('host-emergency-ha-disable', ['--force']);
  },

  poolList(options: Omit<ListOptions<PoolField>, 'filters'> = {}): XeCommand {
    return listCommand('pool-list', 'pool', options);
  },

  poolParamList(options: { readonly uuid: string }): XeCommand {
    return command('pool-param-list', [uuidArgument(options.uuid)]);
  },

  /** `paramKey` selects one key of a map field, e.g. `other-config` / `auto_poweron`. */
  poolParamGet(options: { readonly uuid: string; readonly paramName: PoolField; readonly paramKey?: string }): XeCommand {
    const key = options.paramKey === undefined ? [] : [`param-key=${requireMapKey('param-key', options.paramKey)}`];
    return command('pool-param-get', [
      uuidArgument(options.uuid),
      `param-name=${requireFieldName('pool', 'param-name', options.paramName)}`,
      ...key,
    ]);
  },

  /** Sets the pool's default SR; `defaultSr: ''` clears it (spec A.6). */
  poolParamSet(options: { readonly uuid: string; readonly defaultSr: string }): XeCommand {
    const defaultSr = options.defaultSr === '' ? '' : requireUuid('default-SR', options.defaultSr);
    return command('pool-param-set', [uuidArgument(options.uuid), `default-SR=${defaultSr}`]);
  },

  poolSyncDatabase(): XeCommand {
    return command('pool-sync-database', []);
  },

  hostList(options: ListOptions<HostField> = {}): XeCommand {
    return listCommand('host-list', 'host', options);
  },

  hostParamList(options: { readonly uuid: string }): XeCommand {
    return command('host-param-list', [uuidArgument(options.uuid)]);
  },

  hostParamGet(options: { readonly uuid: string; readonly paramName: HostField }): XeCommand {
    return command('host-param-get', [
      uuidArgument(options.uuid),
      `param-name=${requireFieldName('host', 'param-name', options.paramName)}`,
    ]);
  },

  srList(options: ListOptions<SrField> = {}): XeCommand {
    return listCommand('sr-list', 'SR', options);
  },

  srParamList(options: { readonly uuid: string }): XeCommand {
    return command('sr-param-list', [uuidArgument(options.uuid)]);
  },

  srParamGet(options: { readonly uuid: string; readonly paramName: SrField }): XeCommand {
    return command('sr-param-get', [uuidArgument(options.uuid), `param-name=${requireFieldName('SR', 'param-name', options.paramName)}`]);
  },

  pbdList(options: ListOptions<PbdField> = {}): XeCommand {
    return listCommand('pbd-list', 'PBD', options);
  },

  vmList(options: ListOptions<VmField> = {}): XeCommand {
    return listCommand('vm-list', 'VM', options);
  },

  vmParamGet(options: { readonly uuid: string; readonly paramName: VmField }): XeCommand {
    return command('vm-param-get', [uuidArgument(options.uuid), `param-name=${requireFieldName('VM', 'param-name', options.paramName)}`]);
  },

  vbdList(options: ListOptions<VbdField> = {}): XeCommand {
    return listCommand('vbd-list', 'VBD', options);
  },

  vdiList(options: ListOptions<VdiField> = {}): XeCommand {
    return listCommand('vdi-list', 'VDI', options);
  },

  /** Always `--force`: xe refuses without it, and the product asks its own confirmation first. */
  vmResetPowerstate(options: { readonly uuid: string }): XeCommand {
    return command('vm-reset-powerstate', [uuidArgument(options.uuid), '--force']);
  },

  vmStart(options: { readonly uuid: string; readonly onHostUuid: string }): XeCommand {
    return command('vm-start', [uuidArgument(options.uuid), `on=${requireUuid('on', options.onHostUuid)}`]);
  },

  /** Always `--force`: without it xe waits for a typed "yes" that no SSH command gives; the product confirms first. */
  hostForget(options: { readonly uuid: string }): XeCommand {
    return command('host-forget', [uuidArgument(options.uuid), '--force']);
  },
});
