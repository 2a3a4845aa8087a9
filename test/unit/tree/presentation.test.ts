import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { HostStatus, PoolInventory } from '../../../src/core/pool/model';
import type { HostProbeFacts } from '../../../src/core/pool/probe';
import { hostFacts, hostLook, hostRole, hostState, poolLook, type HostRole, type HostState } from '../../../src/tree/presentation';

const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { menus: Record<string, { command: string; when: string }[]>; commands: { command: string }[] };
};

/** The viewItem regexes package.json uses for a command's context-menu entry. */
function menuRegexes(command: string): RegExp[] {
  return manifest.contributes.menus['view/item/context']!
    .filter((m) => m.command === command && m.when.includes('view == xenPools.pools'))
    .map((m) => {
      const match = /viewItem =~ \/(.*)\/$/.exec(m.when);
      assert.ok(match?.[1], `menu for ${command} has no viewItem regex: ${m.when}`);
      return new RegExp(match[1]);
    });
}

const shows = (command: string, contextValue: string) => menuRegexes(command).some((r) => r.test(contextValue));

const member = { uuid: '0a1b2c3d-0001-4aaa-8bbb-000000000001', name: 'xcp-host1', address: '127.77.0.1' };
const inventory: PoolInventory = { poolUuid: 'p', poolName: 'pool', members: [member], masterUuid: member.uuid, defaultSrUuid: undefined, haEnabled: false, discoveredAt: '', discoveredFrom: '' };
const probed = (facts: Partial<HostProbeFacts>): HostStatus => ({ member, health: { kind: 'probed', facts: { role: { role: 'slave', masterAddress: '127.77.0.9' }, xapi: 'running', emergency: false, masterPortOpen: true, ...facts } } });

describe('tree presentation', () => {
  it('derives state from the probe: online, emergency, xapi down, unreachable, probing, unknown', () => {
    assert.equal(hostState(probed({})), 'online');
    assert.equal(hostState(probed({ emergency: true })), 'emergency');
    assert.equal(hostState(probed({ xapi: 'down', emergency: undefined })), 'xapi-down');
    assert.equal(hostState({ member, health: { kind: 'unreachable', failure: 'timeout', message: 'x' } }), 'unreachable');
    assert.equal(hostState({ member, health: { kind: 'probing' } }), 'probing');
    assert.equal(hostState({ member, health: { kind: 'invalid', message: 'garbage' } }), 'unknown');
    // told to become master with an unknown outcome: that wins over whatever the last probe said (issue 11)
    assert.equal(hostState(probed({}), true), 'transition-pending');
    assert.equal(hostLook('slave', 'transition-pending').description, 'transition pending · slave');
  });

  it('keeps showing a dead master as the master (last known role, else the inventory)', () => {
    const dead: HostStatus = { member, health: { kind: 'unreachable', failure: 'refused', message: 'x' } };
    assert.equal(hostRole(dead, inventory), 'master');
    assert.equal(hostRole(dead, { ...inventory, masterUuid: 'other' }, probed({ role: { role: 'master' } })), 'master');
    // once another host is the working master, the dead one is its former master (issue 13)
    assert.equal(hostRole(dead, inventory, probed({ role: { role: 'master' } }), 'new-master-uuid'), 'former-master');
    assert.equal(hostLook('unknown', 'unreachable').description, 'unreachable');
  });

  it('gives each state a distinct codicon and a theme colour, never a hex colour', () => {
    const states: HostState[] = ['online', 'emergency', 'unreachable', 'xapi-down', 'probing', 'transition-pending', 'unknown'];
    const icons = states.map((s) => hostLook('slave', s).icon);
    assert.equal(new Set(icons).size, states.length, icons.join(','));
    assert.notEqual(hostLook('master', 'online').icon, hostLook('slave', 'online').icon);
    for (const s of states) assert.doesNotMatch(hostLook('slave', s).color ?? '', /^#/);
  });

  it('describes role, state and address', () => {
    assert.equal(hostLook('slave', 'emergency').description, 'emergency · slave');
    assert.equal(hostLook('master', 'unreachable').description, 'unreachable · master');
    assert.equal(poolLook({ kind: 'emergency', masterAddress: undefined, model: 'code', evidence: [] }).description, 'emergency, no master');
    assert.equal(poolLook(undefined).description, 'probing…');
    assert.equal(poolLook({ kind: 'recovered', masterUuid: 'm', stragglerUuids: ['s'], evidence: [] }).description, 'recovered, stragglers');
  });

  it('lists the tooltip facts: UUID, address, role, master pointed to, emergency flag, last error', () => {
    const facts = Object.fromEntries(hostFacts({ ...probed({ emergency: true }), probedAt: new Date(0).toISOString(), durationMs: 12 }, 'slave'));
    assert.equal(facts.UUID, member.uuid);
    assert.equal(facts['Master it points to'], '127.77.0.9');
    assert.equal(facts['Emergency mode'], 'yes');
    assert.ok(facts['Last probe']?.includes('12 ms'));
  });

  describe('context menus follow the context values (package.json and code stay in step)', () => {
    const roles: HostRole[] = ['master', 'slave', 'broken', 'unknown'];
    const states: HostState[] = ['online', 'emergency', 'unreachable', 'xapi-down', 'probing', 'unknown'];
    const all = roles.flatMap((r) => states.map((s) => hostLook(r, s).contextValue));

    it('offers Promote to Master only on reachable slaves (online or in emergency mode)', () => {
      assert.deepEqual(all.filter((v) => shows('xenPools.promoteToMaster', v)), ['host:slave:online', 'host:slave:emergency']);
    });

    it('offers Recover Slaves only on a master that is online', () => {
      assert.deepEqual(all.filter((v) => shows('xenPools.recoverSlaves', v)), ['host:master:online']);
    });

    it('offers Check Emergency Mode and Restart Toolstack wherever SSH works', () => {
      for (const command of ['xenPools.checkEmergencyMode', 'xenPools.restartToolstack']) {
        assert.ok(all.filter((v) => shows(command, v)).every((v) => /:(online|emergency|xapi-down)$/.test(v)));
        assert.ok(!shows(command, 'host:master:unreachable'));
      }
    });

    it('offers Guided Recovery on every pool state except healthy', () => {
      const poolStates = ['healthy', 'master-unreachable', 'emergency', 'split-brain', 'ha', 'unknown', 'probing'];
      assert.deepEqual(poolStates.filter((s) => shows('xenPools.guidedRecovery', `pool:${s}`)), poolStates.filter((s) => s !== 'healthy'));
    });

    it('scopes every item menu to this view, and hides node-only commands from the palette', () => {
      for (const entry of manifest.contributes.menus['view/item/context']!) assert.match(entry.when, /^view == xenPools\.pools && /);
      const hidden = manifest.contributes.menus.commandPalette!.map((m) => m.command);
      for (const command of ['xenPools.removePool', 'xenPools.refreshPool', 'xenPools.refreshHost']) assert.ok(hidden.includes(command), command);
    });
  });
});

describe('tree presentation: truthful states after a recovery (issue 13, part 2)', () => {
  const gone: HostStatus = { member, health: { kind: 'unreachable', failure: 'refused', message: 'connection refused' } };
  const wasMaster = probed({ role: { role: 'master' } });

  it('the dead old master is the "former master" once another host runs the pool', () => {
    assert.equal(hostRole(gone, inventory, wasMaster, '0a1b2c3d-0002-4aaa-8bbb-000000000002'), 'former-master');
    assert.equal(hostLook('former-master', 'unreachable').description, 'unreachable · former master');
    assert.equal(hostRole(gone, inventory, wasMaster), 'master', 'still the master while nobody else runs the pool');
  });

  it('a pool whose new master runs with the old one down reads "old master down", and offers no recovery', () => {
    const look = poolLook({ kind: 'hosts-down', masterUuid: 'n', downUuids: [member.uuid], formerMasterUuid: member.uuid, evidence: [] });
    assert.equal(look.description, 'old master down');
    assert.equal(look.contextValue, 'pool:hosts-down');
    assert.ok(!shows('xenPools.guidedRecovery', look.contextValue));
    assert.equal(poolLook({ kind: 'hosts-down', masterUuid: 'n', downUuids: ['a', 'b'], evidence: [] }).description, '2 hosts down');
  });
});

describe('tree presentation: a refused login is its own state (issue 13, part 2)', () => {
  const refused: HostStatus = { member, health: { kind: 'unreachable', failure: 'auth', message: 'root@127.77.0.1: authentication failed (password: rejected)' } };

  it('reads "login failed" with its own icon, not like a powered-off host, and offers Update Credentials…', () => {
    assert.equal(hostState(refused), 'login-failed');
    const look = hostLook('slave', 'login-failed');
    assert.equal(look.description, 'login failed · slave');
    assert.notEqual(look.icon, hostLook('slave', 'unreachable').icon);
    assert.ok(shows('xenPools.updateCredentials', look.contextValue));
    assert.ok(!shows('xenPools.updateCredentials', hostLook('slave', 'unreachable').contextValue));
    assert.ok(shows('xenPools.updateCredentials', hostLook('former-master', 'login-failed').contextValue));
  });
});

describe('tree presentation: short descriptions, state word first (issue 13, part 2)', () => {
  it('keeps host descriptions within 28 characters and pool ones within 24, the state first; the address is in the tooltip', () => {
    const roles: HostRole[] = ['master', 'slave', 'former-master', 'broken', 'unknown'];
    const states: HostState[] = ['online', 'emergency', 'unreachable', 'login-failed', 'xapi-down', 'probing', 'transition-pending', 'unknown'];
    // A former master is one that does not answer: only those states are its own.
    const possible = (role: HostRole, state: HostState) => role !== 'former-master' || state === 'unreachable' || state === 'login-failed';
    for (const role of roles) for (const state of states.filter((st) => possible(role, st))) assert.ok(hostLook(role, state).description.length <= 28, `${role}/${state}: ${hostLook(role, state).description}`);
    assert.equal(hostLook('master', 'online').description, 'master');
    assert.ok(hostFacts(probed({}), 'slave').some(([label, value]) => label === 'Address' && value === member.address));
    for (const kind of ['healthy', 'master-unreachable', 'emergency', 'recovered', 'split-brain', 'ha', 'unknown'] as const) {
      const description = poolLook({ kind, masterUuid: 'm', masterAddress: undefined, model: 'code', stragglerUuids: [], masterUuids: [], evidence: [] } as never).description;
      assert.ok(description.length <= 24, `${kind}: ${description}`);
    }
  });
});
