import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  UnsafeXeValueError,
  XE_COMMANDS,
  type Forwarding,
  type XeCommand,
  type XeSubcommand,
  xe,
} from '../../../../src/core/xe/command';
import { MAX_VALUE_LENGTH, shellQuote, shellSafetyProblem } from '../../../../src/core/xe/shellQuote';
import {
  type HostField,
  type PoolField,
  isFieldOf,
  isHostAddress,
  isMapKey,
  isUuid,
  showValue,
} from '../../../../src/core/xe/validate';
import { seededRandom } from './recordPrinter';

const POOL_UUID = '3b8f7a3e-5c1d-4e2a-9f6b-1a2b3c4d5e6f';
const HOST_UUID = '0a1b2c3d-1111-4aaa-8bbb-000000000001';
/** Not RFC 4122 version-conforming (version nibble 2), as real xapi UUIDs sometimes are (spec B.4). */
const SR_UUID = '6c9e2f10-7d3a-2b4c-5e6f-a1b2c3d4e5f6';

interface ConstructorCase {
  readonly title: string;
  readonly build: () => XeCommand;
  readonly args: readonly string[];
  readonly shell: string;
  readonly forwarding: Forwarding;
  readonly changesState: boolean;
}

const CONSTRUCTOR_CASES: readonly ConstructorCase[] = [
  {
    title: 'hostIsInEmergencyMode()',
    build: () => xe.hostIsInEmergencyMode(),
    args: ['host-is-in-emergency-mode'],
    shell: 'xe host-is-in-emergency-mode',
    forwarding: 'local',
    changesState: false,
  },
  {
    title: 'hostIsInEmergencyMode({ minimal })',
    build: () => xe.hostIsInEmergencyMode({ minimal: true }),
    args: ['host-is-in-emergency-mode', '--minimal'],
    shell: 'xe host-is-in-emergency-mode --minimal',
    forwarding: 'local',
    changesState: false,
  },
  {
    title: 'poolEmergencyTransitionToMaster()',
    build: () => xe.poolEmergencyTransitionToMaster(),
    args: ['pool-emergency-transition-to-master'],
    shell: 'xe pool-emergency-transition-to-master',
    forwarding: 'local',
    changesState: true,
  },
  {
    title: 'poolEmergencyTransitionToMaster({ force })',
    build: () => xe.poolEmergencyTransitionToMaster({ force: true }),
    args: ['pool-emergency-transition-to-master', '--force'],
    shell: 'xe pool-emergency-transition-to-master --force',
    forwarding: 'local',
    changesState: true,
  },
  {
    title: 'poolRecoverSlaves()',
    build: () => xe.poolRecoverSlaves(),
    args: ['pool-recover-slaves'],
    shell: 'xe pool-recover-slaves',
    forwarding: 'forwarded',
    changesState: true,
  },
  {
    title: 'poolRecoverSlaves({ minimal })',
    build: () => xe.poolRecoverSlaves({ minimal: true }),
    args: ['pool-recover-slaves', '--minimal'],
    shell: 'xe pool-recover-slaves --minimal',
    forwarding: 'forwarded',
    changesState: true,
  },
  {
    title: 'poolEmergencyResetMaster() with an IPv4 address',
    build: () => xe.poolEmergencyResetMaster({ masterAddress: '192.168.10.11' }),
    args: ['pool-emergency-reset-master', 'master-address=192.168.10.11'],
    shell: 'xe pool-emergency-reset-master master-address=192.168.10.11',
    forwarding: 'local',
    changesState: true,
  },
  {
    title: 'poolEmergencyResetMaster() with an IPv6 address',
    build: () => xe.poolEmergencyResetMaster({ masterAddress: 'fd00::11' }),
    args: ['pool-emergency-reset-master', 'master-address=fd00::11'],
    shell: 'xe pool-emergency-reset-master master-address=fd00::11',
    forwarding: 'local',
    changesState: true,
  },
  {
    title: 'poolEmergencyResetMaster() with a DNS name',
    build: () => xe.poolEmergencyResetMaster({ masterAddress: 'xcp-host1.example.com' }),
    args: ['pool-emergency-reset-master', 'master-address=xcp-host1.example.com'],
    shell: 'xe pool-emergency-reset-master master-address=xcp-host1.example.com',
    forwarding: 'local',
    changesState: true,
  },
  {
    title: 'poolDesignateNewMaster()',
    build: () => xe.poolDesignateNewMaster({ hostUuid: HOST_UUID }),
    args: ['pool-designate-new-master', `host-uuid=${HOST_UUID}`],
    shell: `xe pool-designate-new-master host-uuid=${HOST_UUID}`,
    forwarding: 'forwarded',
    changesState: true,
  },
  {
    title: 'hostEmergencyHaDisable() always forces',
    build: () => xe.hostEmergencyHaDisable(),
    args: ['host-emergency-ha-disable', '--force'],
    shell: 'xe host-emergency-ha-disable --force',
    forwarding: 'local',
    changesState: true,
  },
  {
    title: 'poolList()',
    build: () => xe.poolList(),
    args: ['pool-list'],
    shell: 'xe pool-list',
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'poolList({ params, minimal })',
    build: () => xe.poolList({ params: ['master'], minimal: true }),
    args: ['pool-list', 'params=master', '--minimal'],
    shell: 'xe pool-list params=master --minimal',
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: "poolList({ params: 'all' })",
    build: () => xe.poolList({ params: 'all' }),
    args: ['pool-list', 'params=all'],
    shell: 'xe pool-list params=all',
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'poolParamList()',
    build: () => xe.poolParamList({ uuid: POOL_UUID }),
    args: ['pool-param-list', `uuid=${POOL_UUID}`],
    shell: `xe pool-param-list uuid=${POOL_UUID}`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'poolParamGet() of default-SR',
    build: () => xe.poolParamGet({ uuid: POOL_UUID, paramName: 'default-SR' }),
    args: ['pool-param-get', `uuid=${POOL_UUID}`, 'param-name=default-SR'],
    shell: `xe pool-param-get uuid=${POOL_UUID} param-name=default-SR`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'poolParamGet() of a map key',
    build: () => xe.poolParamGet({ uuid: POOL_UUID, paramName: 'other-config', paramKey: 'auto_poweron' }),
    args: ['pool-param-get', `uuid=${POOL_UUID}`, 'param-name=other-config', 'param-key=auto_poweron'],
    shell: `xe pool-param-get uuid=${POOL_UUID} param-name=other-config param-key=auto_poweron`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'poolParamSet() of default-SR',
    build: () => xe.poolParamSet({ uuid: POOL_UUID, defaultSr: SR_UUID }),
    args: ['pool-param-set', `uuid=${POOL_UUID}`, `default-SR=${SR_UUID}`],
    shell: `xe pool-param-set uuid=${POOL_UUID} default-SR=${SR_UUID}`,
    forwarding: 'forwarded',
    changesState: true,
  },
  {
    title: "poolParamSet() clearing default-SR with ''",
    build: () => xe.poolParamSet({ uuid: POOL_UUID, defaultSr: '' }),
    args: ['pool-param-set', `uuid=${POOL_UUID}`, 'default-SR='],
    shell: `xe pool-param-set uuid=${POOL_UUID} default-SR=`,
    forwarding: 'forwarded',
    changesState: true,
  },
  {
    title: 'poolSyncDatabase()',
    build: () => xe.poolSyncDatabase(),
    args: ['pool-sync-database'],
    shell: 'xe pool-sync-database',
    forwarding: 'forwarded',
    changesState: true,
  },
  {
    title: 'hostList()',
    build: () => xe.hostList(),
    args: ['host-list'],
    shell: 'xe host-list',
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'hostList({ params })',
    build: () => xe.hostList({ params: ['uuid', 'name-label', 'address'] }),
    args: ['host-list', 'params=uuid,name-label,address'],
    shell: 'xe host-list params=uuid,name-label,address',
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'hostList({ params, filters, minimal })',
    build: () => xe.hostList({ params: ['address'], filters: { enabled: 'true', 'host-metrics-live': 'true' }, minimal: true }),
    args: ['host-list', 'params=address', 'enabled=true', 'host-metrics-live=true', '--minimal'],
    shell: 'xe host-list params=address enabled=true host-metrics-live=true --minimal',
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'hostList() quotes a filter value with a quote and a space',
    build: () => xe.hostList({ filters: { 'name-label': "Bob's host", hostname: undefined } }),
    args: ['host-list', "name-label=Bob's host"],
    shell: `xe host-list 'name-label=Bob'\\''s host'`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'hostParamList()',
    build: () => xe.hostParamList({ uuid: HOST_UUID }),
    args: ['host-param-list', `uuid=${HOST_UUID}`],
    shell: `xe host-param-list uuid=${HOST_UUID}`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'hostParamGet()',
    build: () => xe.hostParamGet({ uuid: HOST_UUID, paramName: 'host-metrics-live' }),
    args: ['host-param-get', `uuid=${HOST_UUID}`, 'param-name=host-metrics-live'],
    shell: `xe host-param-get uuid=${HOST_UUID} param-name=host-metrics-live`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'srList()',
    build: () => xe.srList(),
    args: ['sr-list'],
    shell: 'xe sr-list',
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'srList({ params, filters })',
    build: () => xe.srList({ params: ['uuid', 'name-label', 'host'], filters: { 'name-label': 'Local storage' } }),
    args: ['sr-list', 'params=uuid,name-label,host', 'name-label=Local storage'],
    shell: "xe sr-list params=uuid,name-label,host 'name-label=Local storage'",
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'srParamList() accepts an upper-case UUID',
    build: () => xe.srParamList({ uuid: SR_UUID.toUpperCase() }),
    args: ['sr-param-list', `uuid=${SR_UUID.toUpperCase()}`],
    shell: `xe sr-param-list uuid=${SR_UUID.toUpperCase()}`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'srParamGet({ uuid, paramName })',
    build: () => xe.srParamGet({ uuid: SR_UUID, paramName: 'name-label' }),
    args: ['sr-param-get', `uuid=${SR_UUID}`, 'param-name=name-label'],
    shell: `xe sr-param-get uuid=${SR_UUID} param-name=name-label`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'vmParamGet({ uuid, paramName })',
    build: () => xe.vmParamGet({ uuid: SR_UUID, paramName: 'name-label' }),
    args: ['vm-param-get', `uuid=${SR_UUID}`, 'param-name=name-label'],
    shell: `xe vm-param-get uuid=${SR_UUID} param-name=name-label`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'pbdList({ params, filters, minimal })',
    build: () => xe.pbdList({ params: ['uuid', 'host-uuid', 'currently-attached'], filters: { 'sr-uuid': SR_UUID }, minimal: true }),
    args: ['pbd-list', 'params=uuid,host-uuid,currently-attached', `sr-uuid=${SR_UUID}`, '--minimal'],
    shell: `xe pbd-list params=uuid,host-uuid,currently-attached sr-uuid=${SR_UUID} --minimal`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'vmList({ params, filters })',
    build: () => xe.vmList({ params: ['uuid', 'name-label'], filters: { 'resident-on': SR_UUID, 'power-state': 'running' } }),
    args: ['vm-list', 'params=uuid,name-label', `resident-on=${SR_UUID}`, 'power-state=running'],
    shell: `xe vm-list params=uuid,name-label resident-on=${SR_UUID} power-state=running`,
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'vbdList({ params, filters })',
    build: () => xe.vbdList({ params: ['vm-uuid', 'vdi-uuid'], filters: { type: 'Disk' } }),
    args: ['vbd-list', 'params=vm-uuid,vdi-uuid', 'type=Disk'],
    shell: 'xe vbd-list params=vm-uuid,vdi-uuid type=Disk',
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'vdiList({ params })',
    build: () => xe.vdiList({ params: ['uuid', 'sr-uuid'] }),
    args: ['vdi-list', 'params=uuid,sr-uuid'],
    shell: 'xe vdi-list params=uuid,sr-uuid',
    forwarding: 'forwarded',
    changesState: false,
  },
  {
    title: 'vmResetPowerstate({ uuid }) always forces: the product confirms first',
    build: () => xe.vmResetPowerstate({ uuid: SR_UUID }),
    args: ['vm-reset-powerstate', `uuid=${SR_UUID}`, '--force'],
    shell: `xe vm-reset-powerstate uuid=${SR_UUID} --force`,
    forwarding: 'forwarded',
    changesState: true,
  },
  {
    title: 'vmStart({ uuid, onHostUuid })',
    build: () => xe.vmStart({ uuid: SR_UUID, onHostUuid: HOST_UUID }),
    args: ['vm-start', `uuid=${SR_UUID}`, `on=${HOST_UUID}`],
    shell: `xe vm-start uuid=${SR_UUID} on=${HOST_UUID}`,
    forwarding: 'forwarded',
    changesState: true,
  },
  {
    title: 'hostForget({ uuid }) always forces: xe would wait for a typed yes',
    build: () => xe.hostForget({ uuid: HOST_UUID }),
    args: ['host-forget', `uuid=${HOST_UUID}`, '--force'],
    shell: `xe host-forget uuid=${HOST_UUID} --force`,
    forwarding: 'forwarded',
    changesState: true,
  },
];

interface ValueSlot {
  readonly title: string;
  readonly build: (value: string) => XeCommand;
  /** The argument the value must appear in, unchanged. */
  readonly argument: (value: string) => string;
  /** Independent statement of which values this slot must accept. */
  readonly accepts: (value: string) => boolean;
}

const isSafeText = (value: string): boolean => shellSafetyProblem(value) === undefined;

const VALUE_SLOTS: readonly ValueSlot[] = [
  {
    title: 'pool-emergency-reset-master master-address',
    build: (value) => xe.poolEmergencyResetMaster({ masterAddress: value }),
    argument: (value) => `master-address=${value}`,
    accepts: isHostAddress,
  },
  {
    title: 'vm-start on',
    build: (value) => xe.vmStart({ uuid: SR_UUID, onHostUuid: value }),
    argument: (value) => `on=${value}`,
    accepts: isUuid,
  },
  {
    title: 'pool-designate-new-master host-uuid',
    build: (value) => xe.poolDesignateNewMaster({ hostUuid: value }),
    argument: (value) => `host-uuid=${value}`,
    accepts: isUuid,
  },
  uuidSlot('pool-param-list', (uuid) => xe.poolParamList({ uuid })),
  uuidSlot('pool-param-get', (uuid) => xe.poolParamGet({ uuid, paramName: 'default-SR' })),
  uuidSlot('pool-param-set', (uuid) => xe.poolParamSet({ uuid, defaultSr: '' })),
  uuidSlot('host-param-list', (uuid) => xe.hostParamList({ uuid })),
  uuidSlot('host-param-get', (uuid) => xe.hostParamGet({ uuid, paramName: 'address' })),
  uuidSlot('sr-param-list', (uuid) => xe.srParamList({ uuid })),
  uuidSlot('sr-param-get', (uuid) => xe.srParamGet({ uuid, paramName: 'name-label' })),
  uuidSlot('vm-param-get', (uuid) => xe.vmParamGet({ uuid, paramName: 'name-label' })),
  {
    title: 'pool-param-get param-name',
    build: (value) => xe.poolParamGet({ uuid: POOL_UUID, paramName: value as PoolField }),
    argument: (value) => `param-name=${value}`,
    accepts: (value) => isFieldOf('pool', value),
  },
  {
    title: 'pool-param-get param-key',
    build: (value) => xe.poolParamGet({ uuid: POOL_UUID, paramName: 'other-config', paramKey: value }),
    argument: (value) => `param-key=${value}`,
    accepts: isMapKey,
  },
  {
    title: 'pool-param-set default-SR',
    build: (value) => xe.poolParamSet({ uuid: POOL_UUID, defaultSr: value }),
    argument: (value) => `default-SR=${value}`,
    accepts: (value) => value === '' || isUuid(value),
  },
  {
    title: 'host-list params',
    build: (value) => xe.hostList({ params: [value as HostField] }),
    argument: (value) => `params=${value}`,
    accepts: (value) => isFieldOf('host', value),
  },
  filterSlot('host-list', 'name-label', (value) => xe.hostList({ filters: { 'name-label': value } })),
  filterSlot('host-list', 'address', (value) => xe.hostList({ params: ['uuid'], filters: { address: value }, minimal: true })),
  filterSlot('sr-list', 'name-label', (value) => xe.srList({ filters: { 'name-label': value } })),
  filterSlot('sr-list', 'name-description', (value) => xe.srList({ filters: { 'name-description': value } })),
  filterSlot('pbd-list', 'sr-uuid', (value) => xe.pbdList({ filters: { 'sr-uuid': value } })),
];

function uuidSlot(subcommand: XeSubcommand, build: (uuid: string) => XeCommand): ValueSlot {
  return { title: `${subcommand} uuid`, build, argument: (value) => `uuid=${value}`, accepts: isUuid };
}

function filterSlot(subcommand: XeSubcommand, field: string, build: (value: string) => XeCommand): ValueSlot {
  return { title: `${subcommand} ${field} filter`, build, argument: (value) => `${field}=${value}`, accepts: isSafeText };
}

interface SlotOutcome {
  readonly accepted: readonly { readonly value: string; readonly command: XeCommand }[];
  readonly refused: readonly string[];
}

/** Builds one command per value; anything thrown other than UnsafeXeValueError fails the test run. */
function buildAll(slot: ValueSlot, values: readonly string[]): SlotOutcome {
  const accepted: { value: string; command: XeCommand }[] = [];
  const refused: string[] = [];
  for (const value of values) {
    try {
      accepted.push({ value, command: slot.build(value) });
    } catch (error) {
      if (!(error instanceof UnsafeXeValueError)) throw error;
      refused.push(value);
    }
  }
  return { accepted, refused };
}


// Payloads only print or read: if quoting were broken, the test shell would run them.
const HOSTILE_FRAGMENTS: readonly string[] = [
  "'", '"', ' ', '  ', '$(echo pwned)', '`echo pwned`', '${IFS}', '$HOME', '$1', '$@', ';', ';echo x', '|', '|cat', '&',
  '&&', '>', '>out', '<', '<in', '*', '?', '[a]', '{a,b}', '~', '~root', '#', '\\', '\\n', '!', '!!', '=', ',', '%', '^',
  '\n', '\t', '\r', '\0', '\x1b[31m', '\x7f', '\u0085', '\u2028', '\u202e', '\ud800', 'é', '日本', '😀', '\u200f', '-',
  '--force', '-oProxyCommand=id', 'name', 'Local storage', '42', "'\\''", POOL_UUID, SR_UUID.toUpperCase(),
  '192.168.10.11', 'fd00::11', 'xcp-host1.example.com', 'other-config', 'address',
];

const FIXED_HOSTILE_VALUES: readonly string[] = [
  '', ' ', '-', '--minimal', 'x'.repeat(10_000), 'é'.repeat(MAX_VALUE_LENGTH), 'a'.repeat(MAX_VALUE_LENGTH + 1),
  POOL_UUID, SR_UUID.toUpperCase(), `${POOL_UUID}\n`, `${POOL_UUID}'`, `${POOL_UUID} ${HOST_UUID}`, '192.168.10.11',
  '192.168.10.11;echo x', 'fd00::11', 'xcp-host1.example.com', 'host-metrics-live', 'default-SR', 'auto_poweron',
  "'", '"', "'\\''", '\\', '*', '~', '#x', 'a b', '\u200f', '😀', '日本', 'é',
];

function generateHostileValues(count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const pick = (): string => HOSTILE_FRAGMENTS[Math.floor(random() * HOSTILE_FRAGMENTS.length)] ?? '';
  const values = [...FIXED_HOSTILE_VALUES];
  while (values.length < count) {
    values.push(Array.from({ length: 1 + Math.floor(random() * 6) }, pick).join(''));
  }
  return values;
}

/** Replaces `xe` by a shell function that prints its argument count and arguments, each ended by NUL. */
const PRINT_ARGS = `printargs() { printf '%s\\0' "$#" "$@"; }`;

/** A single `sh -c` argument must stay under Linux's 128 KiB MAX_ARG_STRLEN. */
const MAX_SCRIPT_BYTES = 100_000;

function runThroughShell(shell: string, commands: readonly XeCommand[], cwd: string): string[][] {
  return scriptBatches(commands).flatMap((lines) => {
    const script = [PRINT_ARGS, ...lines].join('\n');
    const result = spawnSync(shell, ['-c', script], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(result.status, 0, result.stderr);
    return parseArgvRecords(result.stdout);
  });
}

function scriptBatches(commands: readonly XeCommand[]): string[][] {
  const batches: string[][] = [[]];
  let batchBytes = 0;
  for (const command of commands) {
    const line = command.toShell();
    assert.ok(line.startsWith('xe '), line);
    const printerLine = `printargs ${line.slice('xe '.length)}`;
    const lineBytes = Buffer.byteLength(printerLine) + 1;
    if (batchBytes + lineBytes > MAX_SCRIPT_BYTES) {
      batches.push([]);
      batchBytes = 0;
    }
    batches.at(-1)?.push(printerLine);
    batchBytes += lineBytes;
  }
  return batches;
}

function parseArgvRecords(output: string): string[][] {
  const fields = output.split('\0');
  const records: string[][] = [];
  let index = 0;
  while (index < fields.length - 1) {
    const count = Number(fields[index]);
    records.push(fields.slice(index + 1, index + 1 + count));
    index += 1 + count;
  }
  return records;
}

function sameArgs(received: readonly string[] | undefined, expected: readonly string[]): boolean {
  return received !== undefined && received.length === expected.length && received.every((arg, index) => arg === expected[index]);
}

describe('xe command builder', () => {
  describe('constructors', () => {
    for (const testCase of CONSTRUCTOR_CASES) {
      it(`${testCase.title} → ${testCase.shell}`, () => {
        const command = testCase.build();
        assert.deepEqual(command.args, testCase.args);
        assert.equal(command.subcommand, testCase.args[0]);
        assert.equal(command.toShell(), testCase.shell);
        assert.equal(command.display, testCase.shell);
        assert.equal(command.forwarding, testCase.forwarding);
        assert.equal(command.changesState, testCase.changesState);
      });
    }

    it('covers every subcommand in XE_COMMANDS', () => {
      const built = new Set(CONSTRUCTOR_CASES.map((testCase) => testCase.build().subcommand));
      assert.deepEqual([...built].sort(), Object.keys(XE_COMMANDS).sort());
    });

    it('builds immutable commands', () => {
      const command = xe.hostList({ params: ['address'] });
      assert.ok(Object.isFrozen(command));
      assert.throws(() => (command.args as string[]).push('--force'), TypeError);
      assert.deepEqual(command.args, ['host-list', 'params=address']);
    });
  });

  describe('XE_COMMANDS', () => {
    it('marks exactly the Neverforward commands as local (spec C.1)', () => {
      const local = Object.entries(XE_COMMANDS)
        .filter(([, facts]) => facts.forwarding === 'local')
        .map(([subcommand]) => subcommand)
        .sort();
      assert.deepEqual(local, [
        'host-emergency-ha-disable',
        'host-is-in-emergency-mode',
        'pool-emergency-reset-master',
        'pool-emergency-transition-to-master',
      ]);
    });

    it('marks only the read commands as not changing state', () => {
      const readOnly = Object.entries(XE_COMMANDS)
        .filter(([, facts]) => !facts.changesState)
        .map(([subcommand]) => subcommand)
        .sort();
      assert.deepEqual(readOnly, [
        'host-is-in-emergency-mode',
        'host-list',
        'host-param-get',
        'host-param-list',
        'pbd-list',
        'pool-list',
        'pool-param-get',
        'pool-param-list',
        'sr-list',
        'sr-param-get',
        'sr-param-list',
        'vbd-list',
        'vdi-list',
        'vm-list',
        'vm-param-get',
      ]);
    });

    it('cannot be changed at run time', () => {
      assert.ok(Object.isFrozen(XE_COMMANDS));
      assert.ok(Object.values(XE_COMMANDS).every((facts) => Object.isFrozen(facts)));
    });
  });

  describe('refusals', () => {
    interface Refusal {
      readonly title: string;
      readonly build: () => XeCommand;
      readonly parameter: string;
      readonly reason: string;
    }

    const NOT_AN_ADDRESS = 'is not a valid host address (IPv4, IPv6 or DNS name)';
    const NOT_A_UUID = 'is not a UUID (8-4-4-4-12 hexadecimal digits)';
    const resetMaster = (masterAddress: string) => () => xe.poolEmergencyResetMaster({ masterAddress });
    const hostNameFilter = (value: string) => () => xe.hostList({ filters: { 'name-label': value } });

    const REFUSALS: readonly Refusal[] = [
      { title: 'an address with a shell command', build: resetMaster('10.0.0.1; rm -rf /'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'an IPv4 octet above 255', build: resetMaster('10.0.0.256'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'an IPv4 octet with a leading zero (octal to inet_aton)', build: resetMaster('010.0.0.1'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'a three-part dotted number', build: resetMaster('10.0.1'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'an all-numeric name', build: resetMaster('1234'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'an empty address', build: resetMaster(''), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'an address that looks like an option', build: resetMaster('-oProxyCommand=id'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'a name with an underscore', build: resetMaster('xcp_host.example'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'a name with an empty label', build: resetMaster('xcp..example'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'a label ending in a hyphen', build: resetMaster('xcp-.example'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'a label of 64 characters', build: resetMaster(`${'a'.repeat(64)}.example`), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'a name of 255 characters', build: resetMaster(`${'a'.repeat(63)}.`.repeat(4) + 'abc'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'an IPv6 address with a zone id', build: resetMaster('fe80::1%eth0'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'a bracketed IPv6 address', build: resetMaster('[fd00::11]'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'a non-ASCII name', build: resetMaster('xcp-hôte.example'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'an address with a trailing newline', build: resetMaster('10.0.0.1\n'), parameter: 'master-address', reason: NOT_AN_ADDRESS },
      { title: 'a malformed host UUID', build: () => xe.poolDesignateNewMaster({ hostUuid: `${HOST_UUID.slice(0, -1)}g` }), parameter: 'host-uuid', reason: NOT_A_UUID },
      { title: 'a UUID with a command appended', build: () => xe.poolParamList({ uuid: `${POOL_UUID};reboot` }), parameter: 'uuid', reason: NOT_A_UUID },
      { title: 'a UUID in braces', build: () => xe.hostParamList({ uuid: `{${HOST_UUID}}` }), parameter: 'uuid', reason: NOT_A_UUID },
      { title: 'a UUID missing a digit', build: () => xe.srParamList({ uuid: SR_UUID.slice(1) }), parameter: 'uuid', reason: NOT_A_UUID },
      { title: 'an empty UUID', build: () => xe.hostParamGet({ uuid: '', paramName: 'address' }), parameter: 'uuid', reason: NOT_A_UUID },
      { title: 'a pool-param-get UUID', build: () => xe.poolParamGet({ uuid: 'pool', paramName: 'master' }), parameter: 'uuid', reason: NOT_A_UUID },
      { title: 'a default-SR that is not a UUID', build: () => xe.poolParamSet({ uuid: POOL_UUID, defaultSr: 'Local storage' }), parameter: 'default-SR', reason: NOT_A_UUID },
      { title: 'a pool-param-set UUID', build: () => xe.poolParamSet({ uuid: 'x', defaultSr: SR_UUID }), parameter: 'uuid', reason: NOT_A_UUID },
      {
        title: 'a pool field name in the wrong case',
        build: () => xe.poolParamGet({ uuid: POOL_UUID, paramName: 'default-sr' as PoolField }),
        parameter: 'param-name',
        reason: 'is not a known pool field',
      },
      {
        title: 'an unknown host field name',
        build: () => xe.hostParamGet({ uuid: HOST_UUID, paramName: 'address;id' as HostField }),
        parameter: 'param-name',
        reason: 'is not a known host field',
      },
      {
        title: 'a map key with a space',
        build: () => xe.poolParamGet({ uuid: POOL_UUID, paramName: 'other-config', paramKey: 'auto poweron' }),
        parameter: 'param-key',
        reason: 'is not a valid map key (letters, digits, _ . -)',
      },
      {
        title: 'an empty map key',
        build: () => xe.poolParamGet({ uuid: POOL_UUID, paramName: 'other-config', paramKey: '' }),
        parameter: 'param-key',
        reason: 'is not a valid map key (letters, digits, _ . -)',
      },
      {
        title: 'an unknown field in params',
        build: () => xe.hostList({ params: ['uuid', 'uuid,password' as HostField] }),
        parameter: 'params',
        reason: 'is not a known host field',
      },
      {
        title: 'a field of another class in params',
        build: () => xe.srList({ params: ['master' as 'host'] }),
        parameter: 'params',
        reason: 'is not a known SR field',
      },
      { title: 'an empty params list', build: () => xe.pbdList({ params: [] }), parameter: 'params', reason: 'must name at least one field' },
      {
        title: 'an unknown filter field',
        build: () => xe.hostList({ filters: { 'password': 'x' } as Record<string, string> }),
        parameter: 'filter',
        reason: 'is not a known host field',
      },
      {
        title: 'a filter field of another class',
        build: () => xe.pbdList({ filters: { 'name-label': 'x' } as Record<string, string> }),
        parameter: 'filter',
        reason: 'is not a known PBD field',
      },
      { title: 'a filter value with a newline', build: hostNameFilter('a\nb'), parameter: 'name-label', reason: 'contains a control character (U+000A)' },
      { title: 'a filter value with a carriage return', build: hostNameFilter('a\rb'), parameter: 'name-label', reason: 'contains a control character (U+000D)' },
      { title: 'a filter value with a tab', build: hostNameFilter('a\tb'), parameter: 'name-label', reason: 'contains a control character (U+0009)' },
      { title: 'a filter value with NUL', build: hostNameFilter('a\0b'), parameter: 'name-label', reason: 'contains a control character (U+0000)' },
      { title: 'a filter value with ESC', build: hostNameFilter('\x1b[2J'), parameter: 'name-label', reason: 'contains a control character (U+001B)' },
      { title: 'a filter value with DEL', build: hostNameFilter('a\x7f'), parameter: 'name-label', reason: 'contains a control character (U+007F)' },
      { title: 'a filter value with a C1 control', build: hostNameFilter('a\u0085'), parameter: 'name-label', reason: 'contains a control character (U+0085)' },
      {
        title: 'a filter value with an unpaired surrogate',
        build: () => xe.srList({ filters: { 'name-description': 'a\ud800' } }),
        parameter: 'name-description',
        reason: 'contains an unpaired UTF-16 surrogate (U+D800)',
      },
      { title: 'a filter value with a line separator', build: hostNameFilter('a\u2028b'), parameter: 'name-label', reason: 'contains a line or paragraph separator (U+2028)' },
      {
        title: 'a filter value with a right-to-left override',
        build: hostNameFilter('a\u202eb'),
        parameter: 'name-label',
        reason: 'contains a bidirectional override character (U+202E)',
      },
      {
        title: 'a filter value longer than the bound',
        build: hostNameFilter('x'.repeat(MAX_VALUE_LENGTH + 1)),
        parameter: 'name-label',
        reason: `is longer than ${MAX_VALUE_LENGTH} characters`,
      },
    ];

    for (const refusal of REFUSALS) {
      it(`refuses ${refusal.title}`, () => {
        assert.throws(refusal.build, (error: unknown) => {
          assert.ok(error instanceof UnsafeXeValueError);
          assert.equal(error.parameter, refusal.parameter);
          assert.equal(error.reason, refusal.reason);
          assert.equal(error.message, `${error.parameter}: "${error.value}" ${error.reason}`);
          return true;
        });
      });
    }

    it('words the message as parameter, quoted value, reason', () => {
      assert.throws(resetMaster('10.0.0.1; rm -rf /'), {
        name: 'UnsafeXeValueError',
        message: 'master-address: "10.0.0.1; rm -rf /" is not a valid host address (IPv4, IPv6 or DNS name)',
      });
    });

    it('shows control characters escaped and cuts the value at 80 characters', () => {
      assert.equal(showValue('a\nb\tc\rd\0e\x1bf\\g'), 'a\\nb\\tc\\rd\\0e\\u001bf\\\\g');
      assert.equal(showValue('é'.repeat(80)), 'é'.repeat(80));
      assert.equal(showValue('😀'.repeat(81)), `${'😀'.repeat(80)}…`);
      assert.throws(hostNameFilter(`${'x'.repeat(79)}\n${'y'.repeat(10_000)}`), (error: unknown) => {
        assert.ok(error instanceof UnsafeXeValueError);
        assert.equal(error.value, `${'x'.repeat(79)}\\n…`);
        return true;
      });
    });

    it('accepts the boundary cases next to the refusals', () => {
      const maxLengthName = `${'a'.repeat(63)}.`.repeat(3) + 'a'.repeat(61);
      for (const masterAddress of ['0.0.0.0', '255.255.255.255', '::1', '::ffff:10.0.0.1', 'XCP-Host1', '3com.example', maxLengthName]) {
        assert.deepEqual(xe.poolEmergencyResetMaster({ masterAddress }).args[1], `master-address=${masterAddress}`);
      }
      for (const name of ['', 'x'.repeat(MAX_VALUE_LENGTH), 'é', '日本', '😀', 'a\u200fb', '-rf', "'$(id)'"]) {
        assert.deepEqual(xe.hostList({ filters: { 'name-label': name } }).args[1], `name-label=${name}`);
      }
    });
  });

  describe('shellQuote', () => {
    it('leaves plain arguments bare so logs read naturally', () => {
      assert.equal(shellQuote('uuid=3b8f7a3e-5c1d'), 'uuid=3b8f7a3e-5c1d');
      assert.equal(shellQuote('Az09_./:=,@%+-'), 'Az09_./:=,@%+-');
    });

    it('single-quotes everything else, with a quote written as \'\\\'\'', () => {
      assert.equal(shellQuote(''), "''");
      assert.equal(shellQuote('a b'), "'a b'");
      assert.equal(shellQuote("it's"), `'it'\\''s'`);
      assert.equal(shellQuote('~root'), "'~root'");
      assert.equal(shellQuote('$(id)`id`'), "'$(id)`id`'");
      assert.equal(shellQuote('é'), "'é'");
    });

    it('refuses to quote control characters', () => {
      assert.throws(() => shellQuote('a\nb'), RangeError);
    });

    it('explains why a value cannot be made safe', () => {
      assert.equal(shellSafetyProblem("it's $(id) 日本"), undefined);
      assert.equal(shellSafetyProblem('a\x00'), 'contains a control character (U+0000)');
      assert.equal(shellSafetyProblem('x'.repeat(MAX_VALUE_LENGTH + 1)), `is longer than ${MAX_VALUE_LENGTH} characters`);
    });
  });

  describe('hostile values through a real shell', () => {
    const hostileValues = generateHostileValues(400, 0x5eed);
    const outcomes = VALUE_SLOTS.map((slot) => buildAll(slot, hostileValues));
    let workDirectory = '';

    before(() => {
      // If quoting were broken, stray `>` in the values would create files: keep them out of the repo.
      workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'xe-quote-'));
    });

    after(() => {
      fs.rmSync(workDirectory, { recursive: true, force: true });
    });

    for (const [index, slot] of VALUE_SLOTS.entries()) {
      it(`${slot.title}: refuses exactly the invalid values, keeps the others whole`, () => {
        const outcome = outcomes[index];
        assert.ok(outcome);
        for (const value of outcome.refused) assert.equal(slot.accepts(value), false, `refused ${JSON.stringify(value)}`);
        for (const { value, command } of outcome.accepted) {
          assert.equal(slot.accepts(value), true, `accepted ${JSON.stringify(value)}`);
          assert.ok(command.args.includes(slot.argument(value)), `${JSON.stringify(value)} changed in ${command.display}`);
        }
      });
    }

    it('exercises both refusals and acceptances of free text', () => {
      const nameFilter = outcomes[VALUE_SLOTS.findIndex((slot) => slot.title === 'host-list name-label filter')];
      assert.ok(nameFilter);
      assert.ok(nameFilter.accepted.length > 150, `only ${nameFilter.accepted.length} accepted`);
      assert.ok(nameFilter.refused.length > 50, `only ${nameFilter.refused.length} refused`);
    });

    for (const shell of ['/bin/sh', '/bin/bash'].filter((candidate) => fs.existsSync(candidate))) {
      it(`every accepted command reaches ${shell} as exactly its args`, () => {
        const commands = outcomes.flatMap((outcome) => outcome.accepted.map(({ command }) => command));
        const received = runThroughShell(shell, commands, workDirectory);
        assert.equal(received.length, commands.length);
        const mismatches = commands.filter((command, index) => !sameArgs(received[index], command.args));
        assert.deepEqual(mismatches.slice(0, 5).map((command) => command.display), []);
        assert.deepEqual(fs.readdirSync(workDirectory), []);
      });
    }
  });
});
