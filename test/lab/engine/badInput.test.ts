/*
 * The bad-input table (issue 12, "What to build" 8): every kind of bad input an admin, a setting or a host can give,
 * each run against the product's own code (the Add Pool checks, the settings parser, discovery over real SSH to a lab
 * pool) with the message it gets. docs/bad-input.md publishes the same table; the last test holds the two together.
 * Nothing here changes the pool: each row that spoils a host puts it back.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { discoverPool } from '../../../src/core/pool/discovery';
import { HostRunner } from '../../../src/core/pool/hostAccess';
import { hostAddressProblem } from '../../../src/core/xe/validate';
import { parseDeclaredPools } from '../../../src/declaredPools';
import { bounded, SETTING_BOUNDS } from '../../../src/settingBounds';
import { Lab } from '../lab';
import { address, engineFor, type EngineOptions } from './harness';

export interface BadInputRow {
  readonly area: string;
  readonly kind: string;
  /** What the product says (or does), as the table in docs/bad-input.md shows it. */
  readonly message: RegExp;
  /** Runs the bad input through the product and returns what it said. */
  readonly outcome: () => Promise<string>;
}

const REPO = path.resolve(__dirname, '..', '..', '..', '..');
const TABLE = path.join(REPO, 'docs', 'bad-input.md');

/** What a call ended with, as the admin reads it: its error's message, or "accepted: …". */
async function said(work: () => Promise<unknown>): Promise<string> {
  try {
    return `accepted: ${JSON.stringify(await work())}`;
  } catch (error) {
    return (error as Error).message;
  }
}

const addressSaid = async (text: string) => hostAddressProblem(text) ?? 'accepted';

function settingsSaid(pools: unknown): Promise<string> {
  const { pools: loaded, problems } = parseDeclaredPools(pools);
  return Promise.resolve(problems.length ? problems.join(' | ') : `loaded ${loaded.length} pool(s)`);
}

const GOOD_MEMBER = { address: '10.0.0.1', uuid: '0a1b2c3d-0001-4aaa-8bbb-000000000001' };

/** A resolver that knows no name, as DNS answers NXDOMAIN: the row sends no query off this machine. */
const nxdomain: LookupFunction = (hostname, _options, callback) => {
  const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
  process.nextTick(() => callback(error, '', 4));
};

describe('the bad-input table: each kind of bad input and the message it gets (issue 12)', function () {
  this.timeout(120_000);
  let lab: Lab;
  const scratch = mkdtempSync(path.join(tmpdir(), 'xenpools-badinput-'));
  const seen = new Map<string, string>();

  before(async () => {
    lab = await Lab.start({ name: 'badinput', baseAddress: '127.77.160', hosts: 2, timeScale: 0.05, vmsPerHost: 1 });
  });
  after(async () => {
    await lab?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Discovery from host 1 with an engine of its own (a login, host keys, a resolver), as Add Pool runs it. */
  async function discovery(options: EngineOptions & { user?: string; lookup?: LookupFunction; from?: string } = {}): Promise<string> {
    const engine = engineFor(lab, options);
    try {
      const runner = options.user ? new HostRunner(engine.transport, { user: options.user }) : engine.runner;
      return await said(async () => {
        const inventory = await discoverPool(runner, options.from ?? address(lab, 1));
        return inventory.members.map((m) => m.name);
      });
    } finally {
      engine.dispose();
    }
  }

  /** Discovery while host 1's `xe` is replaced by `script` (undefined: no xe at all), put back afterwards. */
  async function withXe(script: string | undefined, work: () => Promise<string>): Promise<string> {
    const xePath = path.join(lab.hostByArg(1).info.dir, 'bin', 'xe');
    renameSync(xePath, `${xePath}.lab`);
    try {
      if (script !== undefined) writeFileSync(xePath, `#!/bin/bash\n${script}\n`, { mode: 0o755 });
      return await work();
    } finally {
      rmSync(xePath, { force: true });
      renameSync(`${xePath}.lab`, xePath);
    }
  }

  async function withFault(kind: 'garbage' | 'truncate', work: () => Promise<string>): Promise<string> {
    await lab.fault(kind, 1);
    try {
      return await work();
    } finally {
      await lab.heal(1);
    }
  }

  async function renamed(name: string, work: () => Promise<string>): Promise<string> {
    const host = lab.sim.host(1).db.hosts[1];
    assert.ok(host);
    const before = host.nameLabel;
    assert.equal((await lab.sim.exec(1, ['host-param-set', `uuid=${host.uuid}`, `name-label=${name}`]))?.code, 0);
    try {
      return await work();
    } finally {
      await lab.sim.exec(1, ['host-param-set', `uuid=${host.uuid}`, `name-label=${before}`]);
    }
  }

  function knownHostsWith(line: string): string {
    const file = path.join(scratch, `known_hosts-${seen.size}`);
    writeFileSync(file, `${line}\n`);
    return file;
  }

  function otherHostKeyLine(): string {
    const keyFile = path.join(scratch, `other-${seen.size}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
    return `${address(lab, 1)} ${readFileSync(`${keyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ')}`;
  }

  function labHostKeyLine(): string {
    const line = readFileSync(lab.knownHostsFile, 'utf8').split('\n').find((l) => l.startsWith(`${address(lab, 1)} `));
    assert.ok(line);
    return line;
  }

  function encryptedKey(): string {
    const keyFile = path.join(scratch, 'id_encrypted');
    if (!existsSync(keyFile)) {
      writeFileSync(keyFile, readFileSync(lab.keyFile), { mode: 0o600 });
      execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'right-passphrase', '-f', keyFile]);
    }
    return keyFile;
  }

  const password = (value: string): EngineOptions => ({ authMethods: [{ kind: 'password' }], secrets: { password: async () => value } });
  const key = (file: string, passphrase?: string): EngineOptions => ({ authMethods: [{ kind: 'key', file }], secrets: { passphrase: async () => passphrase } });

  const ROWS: readonly BadInputRow[] = [
    // Addresses, as typed into Add Pool or xenPools.pools[].members[].address.
    { area: 'address', kind: 'empty', message: /^the address is empty: give an IPv4 or IPv6 address or a DNS name$/, outcome: () => addressSaid('') },
    { area: 'address', kind: 'blank', message: /^the address is empty/, outcome: () => addressSaid('   ') },
    { area: 'address', kind: 'garbage', message: /^"not an address!" is not an IPv4 or IPv6 address or a DNS name$/, outcome: () => addressSaid('not an address!') },
    { area: 'address', kind: 'unknown name', message: /no-such-host\.example: no such host name \(the resolver does not know it/, outcome: () => discovery({ lookup: nxdomain, from: 'no-such-host.example' }) },
    { area: 'address', kind: 'IPv6 with brackets', message: /^accepted$/, outcome: () => addressSaid('[fd00::11]') },
    { area: 'address', kind: 'IPv6 without brackets', message: /^accepted$/, outcome: () => addressSaid('fd00::11') },
    { area: 'address', kind: 'host:port', message: /^"10\.0\.0\.1:2222" has a port \(:2222\): give the address alone \(another SSH port/, outcome: () => addressSaid('10.0.0.1:2222') },
    { area: 'address', kind: '[IPv6]:port', message: /^"\[fd00::11\]:22" has a port \(:22\): give the address alone/, outcome: () => addressSaid('[fd00::11]:22') },
    // Ports, as xenPools.pools[].port.
    ...[0, 70000, -1, 1.5].map((port) => ({ area: 'port', kind: `port ${port}`, message: /port: must be an integer from 1 to 65535; this pool is skipped/, outcome: () => settingsSaid([{ name: 'p', port, members: [GOOD_MEMBER] }]) })),
    // Logins.
    { area: 'auth', kind: 'wrong user', message: /nobody-here@127\.77\.160\.1: authentication failed \(key .*: rejected\)/, outcome: () => discovery({ user: 'nobody-here' }) },
    { area: 'auth', kind: 'wrong password', message: /root@127\.77\.160\.1: authentication failed \(password: rejected\)/, outcome: () => discovery(password('not-the-password')) },
    { area: 'auth', kind: 'missing key file', message: /authentication failed \(key .*no-such-key: .*(not found|no such file)/i, outcome: () => discovery(key(path.join(scratch, 'no-such-key'))) },
    { area: 'auth', kind: 'key file is a directory', message: /authentication failed \(key .*: is a directory, not a key file\)/, outcome: () => discovery(key(scratch)) },
    { area: 'auth', kind: 'key file is a public key', message: /authentication failed \(key .*\.pub: is a public key: give the private key file/, outcome: () => discovery(key(`${lab.keyFile}.pub`)) },
    { area: 'auth', kind: 'encrypted key, no passphrase given', message: /authentication failed \(key .*id_encrypted: .*passphrase/i, outcome: () => discovery(key(encryptedKey())) },
    { area: 'auth', kind: 'encrypted key, wrong passphrase', message: /authentication failed \(key .*id_encrypted: .*passphrase/i, outcome: () => discovery(key(encryptedKey(), 'wrong-passphrase')) },
    { area: 'auth', kind: 'agent socket missing (SSH_AUTH_SOCK unset)', message: /authentication failed \(.*no agent socket \(SSH_AUTH_SOCK unset\)/, outcome: () => discovery({ authMethods: [{ kind: 'agent' }] }) },
    { area: 'auth', kind: 'agent socket bogus', message: /authentication failed \(agent: no ssh-agent listens at .*no-agent\.sock \(SSH_AUTH_SOCK points to nothing\)\)/, outcome: () => discovery({ authMethods: [{ kind: 'agent', socket: path.join(scratch, 'no-agent.sock') }] }) },
    // Host keys.
    { area: 'host key', kind: 'unknown, not trusted', message: /127\.77\.160\.1: .*host key .*not trusted/i, outcome: () => discovery({ knownHosts: [knownHostsWith('')] }) },
    { area: 'host key', kind: 'changed', message: /HOST KEY .*CHANGED|host key .*changed/i, outcome: () => discovery({ knownHosts: [knownHostsWith(otherHostKeyLine())] }) },
    { area: 'host key', kind: 'revoked', message: /revoked/i, outcome: () => discovery({ knownHosts: [knownHostsWith(`@revoked ${labHostKeyLine()}`)] }) },
    // What a host prints.
    { area: 'host output', kind: 'no xe', message: /Cannot discover the pool from 127\.77\.160\.1: xe is not found there \(not a XenServer \/ XCP-ng host, or xe is not on its PATH\)/, outcome: () => withXe(undefined, () => discovery()) },
    { area: 'host output', kind: 'xe prints nothing', message: /Cannot discover the pool from 127\.77\.160\.1: .*(empty|nothing)/i, outcome: () => withXe('exit 0', () => discovery()) },
    { area: 'host output', kind: 'garbage', message: /Cannot discover the pool from 127\.77\.160\.1: /, outcome: () => withFault('garbage', () => discovery()) },
    { area: 'host output', kind: 'truncated', message: /Cannot discover the pool from 127\.77\.160\.1: /, outcome: () => withFault('truncate', () => discovery()) },
    { area: 'host output', kind: 'not UTF-8', message: /Cannot discover the pool from 127\.77\.160\.1: /, outcome: () => withXe(String.raw`printf '\377\376\375\n'`, () => discovery()) },
    { area: 'host output', kind: '10 MB of output', message: /output over 8 MB/, outcome: () => withXe('head -c 10485760 /dev/zero | tr "\\0" x', () => discovery()) },
    { area: 'host output', kind: 'a host name with newlines', message: /^accepted: .*"rack 2\\nxcp-host2"/, outcome: () => renamed('rack 2\nxcp-host2', () => discovery()) },
    {
      area: 'host output',
      kind: 'a host name with shell metacharacters',
      message: /^accepted: .*"\$\(touch \/tmp\/xenpools-pwned\); `id` \| x"/,
      outcome: async () => {
        const result = await renamed('$(touch /tmp/xenpools-pwned); `id` | x', () => discovery());
        return existsSync('/tmp/xenpools-pwned') ? `EXECUTED: ${result}` : result;
      },
    },
    // xenPools.pools entries.
    { area: 'settings', kind: "[{ name: 'p' }]", message: /xenPools\.pools\[0\] \("p"\): members: must be a list of \{address, name\?, uuid\?\}; this pool is skipped/, outcome: () => settingsSaid([{ name: 'p' }]) },
    { area: 'settings', kind: 'members: [null]', message: /members\[0\]: must be an object with an address; this pool is skipped/, outcome: () => settingsSaid([{ name: 'p', members: [null] }]) },
    { area: 'settings', kind: "members: '10.0.0.1'", message: /members: must be a list of \{address, name\?, uuid\?\}; this pool is skipped/, outcome: () => settingsSaid([{ name: 'p', members: '10.0.0.1' }]) },
    { area: 'settings', kind: '{}', message: /xenPools\.pools\[0\]: name: must be a non-empty string; this pool is skipped/, outcome: () => settingsSaid([{}]) },
    { area: 'settings', kind: "members: [{ address: '' }]", message: /members\[0\]\.address: the address is empty/, outcome: () => settingsSaid([{ name: 'p', members: [{ address: '' }] }]) },
    { area: 'settings', kind: 'commandTimeoutSeconds: 0', message: /^uses 2 s/, outcome: async () => `uses ${bounded(0, SETTING_BOUNDS.commandTimeoutSeconds)} s` },
    { area: 'settings', kind: 'autoRefreshSeconds: 0.001', message: /^uses 5 s/, outcome: async () => `uses ${bounded(0.001, SETTING_BOUNDS.autoRefreshSeconds)} s` },
  ];

  for (const row of ROWS) {
    it(`${row.area}: ${row.kind}`, async () => {
      const message = await row.outcome();
      seen.set(`${row.area}: ${row.kind}`, message);
      assert.match(message, row.message);
      assert.ok(!message.includes('right-passphrase') && !message.includes('not-the-password') && !message.includes(lab.password), `a secret in: ${message}`);
    });
  }

  /** The message as docs/bad-input.md shows it: the lab's address and directories as an admin's, fingerprints cut. */
  function asDocumented(message: string): string {
    return message
      .split(scratch).join('/home/admin/keys')
      .split(lab.dir).join('/home/admin/.ssh')
      .replace(/127\.77\.160\.1\b/g, '192.0.2.11')
      .replace(/SHA256:[A-Za-z0-9+/]+/g, 'SHA256:…')
      .replace(/known_hosts-\d+/g, 'known_hosts')
      .replace(/\(line 1: ".*"\)$/, '(line 1: …)')
      .replace(/\|/g, '\\|');
  }

  it('every row is in docs/bad-input.md with the message it gets', () => {
    // A pool removed while a recovery runs is a row of its own there, tested in test/exthost/pools.test.ts.
    const table = readFileSync(TABLE, 'utf8');
    const expected = ROWS.map((row) => `| ${row.area} | ${row.kind.replace(/\|/g, '\\|')} | ${asDocumented(seen.get(`${row.area}: ${row.kind}`) ?? '(row did not run)')} |`);
    assert.deepEqual(expected.filter((line) => !table.includes(line)), []);
    assert.ok(ROWS.length + 1 >= 30, `${ROWS.length + 1} kinds`);
  });
});
