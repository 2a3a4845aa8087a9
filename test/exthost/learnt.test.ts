// A pool declared in settings without UUIDs: what its first probes teach (each member's host UUID, HA's state) is
// kept in globalState, and a monitor started again (a restart, a changed setting) starts from it, so the identity
// check holds each member to its host from the first probe on (issue 12, finding 6).
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import { labs, type LabHandle } from './support/labControl';
import { activateProduct, refresh, waitFor } from './support/product';

describe('a declared pool keeps what it learnt (issue 12, finding 6)', function () {
  this.timeout(60_000);
  const lab = () => labs().creds as LabHandle;
  const settings = () => vscode.workspace.getConfiguration('xenPools');
  let api: XenPoolsApi;
  const monitor = () => api.registry.pools().find((m) => m.inventory.poolName === 'pool-learnt');

  function declare(memberNames: (n: number) => string): Thenable<void> {
    const pool = { name: 'pool-learnt', user: lab().user, auth: 'key', keyFile: lab().keyFile, members: lab().hosts.map((h, i) => ({ address: h.address, name: memberNames(i) })) };
    return settings().update('pools', [pool], vscode.ConfigurationTarget.Global);
  }

  before(async () => {
    api = await activateProduct();
  });
  after(async () => {
    await settings().update('pools', undefined, vscode.ConfigurationTarget.Global);
    await waitFor('the declared pool to go', () => monitor() === undefined);
    assert.ok(!api.storedStateText().includes(lab().hosts[0]?.uuid ?? '-'), 'what the removed pool learnt is still kept');
  });

  it('learns the UUIDs and HA from the first probe, keeps them, and a restarted monitor starts from them', async () => {
    await declare((i) => `h${i + 1}`);
    await waitFor('the declared pool', () => monitor() !== undefined);
    await refresh('pool-learnt');
    const uuids = lab().hosts.map((h) => h.uuid);
    await waitFor('the UUIDs to be learnt', () => monitor()?.inventory.members.every((m) => !m.provisionalUuid) === true);
    assert.deepEqual(monitor()?.inventory.members.map((m) => m.uuid), uuids);
    assert.equal(monitor()?.inventory.haUnknown, undefined);
    assert.equal(monitor()?.inventory.haEnabled, false);
    await waitFor('globalState to hold them', () => uuids.every((uuid) => api.storedStateText().includes(uuid)));
    // A changed member name restarts the monitor from the settings, as a restart of VS Code does.
    const before = monitor();
    await declare((i) => `host-${i + 1}`);
    await waitFor('the restarted monitor', () => monitor() !== before && monitor() !== undefined);
    assert.deepEqual(monitor()?.inventory.members.map((m) => [m.name, m.uuid, m.provisionalUuid]), uuids.map((uuid, i) => [`host-${i + 1}`, uuid, undefined]));
    assert.equal(monitor()?.inventory.haUnknown, undefined);
  });
});
