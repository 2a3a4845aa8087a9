// A host that refuses the pool's login is "login failed", not "unreachable" like a powered-off one, and Update
// Credentials… takes a new password that is kept only once it worked (issue 13, part 2).
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import { labs, type LabHandle } from './support/labControl';
import { activateProduct, declarePool, hostNodes, poolNode, refresh, waitFor, withUi } from './support/product';
import { notificationsShown, ScriptedUi, type } from './support/scriptedUi';

describe('login failed, and Update Credentials… (issue 13, part 2)', function () {
  this.timeout(60_000);
  const lab = () => labs().creds as LabHandle;
  let api: XenPoolsApi;
  const monitor = () => api.registry.monitor(lab().poolUuid);

  before(async () => {
    api = await activateProduct();
  });
  after(async () => {
    await vscode.workspace.getConfiguration('xenPools').update('pools', undefined, vscode.ConfigurationTarget.Global);
    await waitFor('the declared pool to go', () => monitor() === undefined);
  });

  it('a wrong password: every host reads "login failed" with its own icon and Update Credentials… inline', async () => {
    await declarePool(lab(), { auth: 'password' });
    await waitFor('the declared pool', () => monitor() !== undefined);
    await waitFor('its first probe', () => monitor()?.refreshing === false);
    // A password kept by the earlier files would log in: start from none.
    await vscode.commands.executeCommand('xenPools.forgetCredentials', poolNode(lab().poolName));
    await withUi(new ScriptedUi(type('wrong-pw-3')), () => refresh(lab().poolName));
    const rows = hostNodes(lab().poolName);
    assert.deepEqual(rows.map((n) => String(n.contextValue).split(':')[2]), ['login-failed', 'login-failed']);
    assert.ok(rows.every((n) => /login failed/.test(String(n.description))), rows.map((n) => n.description).join(' | '));
    assert.ok(rows.every((n) => n.iconPath instanceof vscode.ThemeIcon && n.iconPath.id === 'key'));
  });

  it('Update Credentials… with the right password: the hosts answer, and the password is kept (not asked again)', async () => {
    const scripted = new ScriptedUi(type(lab().password));
    await withUi(scripted, () => vscode.commands.executeCommand('xenPools.updateCredentials', poolNode(lab().poolName)));
    assert.match(scripted.asked.join('\n'), /New password of root on the hosts of pool-creds/);
    assert.deepEqual(monitor()?.allStatuses().map((s) => s.health.kind), ['probed', 'probed']);
    monitor()?.runner.release();
    const none = new ScriptedUi();
    await withUi(none, () => refresh(lab().poolName));
    assert.deepEqual(none.asked, []);
    assert.deepEqual(monitor()?.allStatuses().map((s) => s.health.kind), ['probed', 'probed']);
  });

  it('Update Credentials… with a wrong password: it is tried, refused and dropped; the stored one stays and works', async () => {
    const shownBefore = notificationsShown.length;
    await withUi(new ScriptedUi(type('wrong-pw-3')), () => vscode.commands.executeCommand('xenPools.updateCredentials', poolNode(lab().poolName)));
    const shown = notificationsShown.slice(shownBefore).join('\n');
    // The hosts try it at once; one that asks after another refused it is given the stored password again.
    assert.match(shown, /The new password was refused by xcp-host\d(, xcp-host\d)?; the one stored before stays/);
    // A master that refuses a login is not a lost master: no "no running master" warning for it.
    assert.ok(!shown.includes('no running master'), shown);
    monitor()?.runner.release();
    const none = new ScriptedUi();
    await withUi(none, () => refresh(lab().poolName));
    assert.deepEqual(none.asked, []);
    assert.deepEqual(monitor()?.allStatuses().map((s) => s.health.kind), ['probed', 'probed']);
  });
});
