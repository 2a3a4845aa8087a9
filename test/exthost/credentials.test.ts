// Secrets the admin enters are kept only once a login with them worked; Forget Credentials and Remove Pool forget
// them (issue 12, finding 3). A pool declared in settings with password login, on a lab of its own.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import { labs, type LabHandle } from './support/labControl';
import { activateProduct, declarePool, poolNode, refresh, waitFor, withUi, type DeclaredLogin } from './support/product';
import { ScriptedUi, type } from './support/scriptedUi';

describe('credentials: kept only once a login with them worked (issue 12, finding 3)', function () {
  this.timeout(60_000);
  const lab = () => labs().creds as LabHandle;
  let api: XenPoolsApi;
  const settings = () => vscode.workspace.getConfiguration('xenPools');
  /** What the last probeAgain saw, for the failure message. */
  let lastProbe = '';

  const declare = (login: DeclaredLogin) => declarePool(lab(), login);

  /** Probes the pool on new connections (so each host logs in again) and says how many hosts answered. */
  async function probeAgain(scripted: ScriptedUi): Promise<number> {
    const monitor = api.registry.monitor(lab().poolUuid);
    assert.ok(monitor, 'the declared pool is not in the registry');
    monitor.runner.release();
    await withUi(scripted, () => refresh(lab().poolName));
    const statuses = monitor.allStatuses();
    const answered = statuses.filter((s) => s.health.kind === 'probed').length;
    lastProbe = `${JSON.stringify(statuses.map((s) => s.health)).slice(0, 1500)} asked: ${scripted.asked.join(' | ')}`;
    return answered;
  }

  before(async () => {
    api = await activateProduct();
  });

  after(async () => {
    await settings().update('pools', undefined, vscode.ConfigurationTarget.Global);
    await waitFor('the declared pool to go', () => api.registry.monitor(lab().poolUuid) === undefined);
  });

  it('a wrong password is not kept: the next login asks again; the right one is kept and not asked for again', async () => {
    // Nothing answers while the settings change starts the pool's first probe (which asks in the background).
    await withUi(new ScriptedUi(type('wrong-pw-1')), async () => {
      await declare({ auth: 'password' });
      await waitFor('the declared pool', () => api.registry.monitor(lab().poolUuid) !== undefined);
      await refresh(lab().poolName);
      await waitFor('its first probe', () => api.registry.monitor(lab().poolUuid)?.refreshing === false);
    });
    const right = new ScriptedUi(type(lab().password));
    assert.equal(await probeAgain(right), 2, lastProbe);
    assert.equal(right.asked.length, 1, 'the wrong password was kept: nobody asked again');
    assert.match(right.asked[0] ?? '', /Password for the hosts of pool-creds/);
    const none = new ScriptedUi();
    assert.equal(await probeAgain(none), 2);
    assert.deepEqual(none.asked, [], 'the password that worked was not kept');
  });

  it('Forget Credentials forgets the declared pool\'s password; the next login asks again', async () => {
    assert.deepEqual(await vscode.commands.executeCommand('xenPools.forgetCredentials', poolNode(lab().poolName)), ['password']);
    const again = new ScriptedUi(type(lab().password));
    assert.equal(await probeAgain(again), 2);
    assert.equal(again.asked.length, 1);
  });

  it('a wrong key passphrase is not kept either; the right one is; a changed login in settings applies at once', async () => {
    const keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'xenpools-creds-')), 'id_encrypted');
    copyFileSync(lab().keyFile, keyFile);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'pp-right-7', '-f', keyFile]);
    await withUi(new ScriptedUi(type('pp-wrong'), type('pp-wrong')), async () => {
      await declare({ auth: 'key', keyFile });
      await waitFor('the key login', () => api.registry.login(lab().poolUuid)?.auth === 'key');
      await waitFor('its first probe', () => api.registry.monitor(lab().poolUuid)?.refreshing === false);
    });
    const wrong = new ScriptedUi(type('pp-wrong'));
    assert.equal(await probeAgain(wrong), 0);
    const right = new ScriptedUi(type('pp-right-7'));
    assert.equal(await probeAgain(right), 2);
    assert.equal(right.asked.length, 1, 'the wrong passphrase was kept');
    assert.match(right.asked[0] ?? '', /Passphrase for .*id_encrypted/);
    const none = new ScriptedUi();
    assert.equal(await probeAgain(none), 2);
    assert.deepEqual(none.asked, []);
    // The password the previous test kept goes too: Forget Credentials forgets everything kept for the pool.
    assert.deepEqual(await vscode.commands.executeCommand('xenPools.forgetCredentials', poolNode(lab().poolName)), ['password', `passphrase of ${keyFile}`]);
  });
});
