// A host key trusted on first use can be renewed when the host is reinstalled: the CHANGED message names Forget Host
// Key, which forgets the pinned key, after which the new key's fingerprint is shown for trust (issue 12, finding 5).
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import { labControl, labs, type LabHandle } from './support/labControl';
import { activateProduct, hostNode, logText, refresh, withUi } from './support/product';
import { ScriptedUi, yes } from './support/scriptedUi';

describe('host keys: a reinstalled host can be trusted again (issue 12, finding 5)', function () {
  this.timeout(60_000);
  const lab = () => labs().keys as LabHandle;
  let api: XenPoolsApi;
  const settings = () => vscode.workspace.getConfiguration('xenPools');
  const health = (index: number) => api.registry.monitor(lab().poolUuid)?.allStatuses()[index]?.health;

  before(async () => {
    api = await activateProduct();
  });

  after(async () => {
    await settings().update('pools', undefined, vscode.ConfigurationTarget.Global);
    await labControl.heal(lab(), 2);
  });

  it('asks to trust each unknown host key once, with its fingerprint, and pins it', async () => {
    const trust = new ScriptedUi(yes, yes);
    await withUi(trust, async () => {
      const pool = { name: lab().poolName, uuid: lab().poolUuid, user: lab().user, auth: 'key', keyFile: lab().keyFile, master: lab().hosts[0]?.uuid, members: lab().hosts.map((h) => ({ address: h.address, name: h.name, uuid: h.uuid })) };
      await settings().update('pools', [pool], vscode.ConfigurationTarget.Global);
      for (let i = 0; i < 200 && !api.registry.monitor(lab().poolUuid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      await refresh(lab().poolName);
      for (let i = 0; i < 200 && api.registry.monitor(lab().poolUuid)?.refreshing; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    });
    assert.equal(trust.asked.length, 2, trust.asked.join('\n'));
    for (const question of trust.asked) assert.match(question, /Trust the SSH host key of 127\.77\.133\.\d\?[\s\S]*SHA256:/);
    assert.equal(health(0)?.kind, 'probed');
    assert.equal(health(1)?.kind, 'probed');
  });

  it('a reinstalled host (new key) is refused with a message naming Forget Host Key; forgetting it asks about the new key', async () => {
    await labControl.fault(lab(), 'hostkey', 2);
    api.registry.monitor(lab().poolUuid)?.runner.release();
    await withUi(new ScriptedUi(), () => refresh(lab().poolName));
    const refused = health(1);
    assert.ok(refused?.kind === 'invalid' || refused?.kind === 'unreachable', JSON.stringify(refused));
    assert.match(JSON.stringify(refused), /CHANGED.*Forget Host Key/);
    const forget = new ScriptedUi(yes, yes);
    await withUi(forget, () => vscode.commands.executeCommand('xenPools.forgetHostKey', hostNode(lab().poolName, lab().hosts[1]?.name ?? '')));
    assert.equal(forget.asked.length, 2, `${forget.asked.join('\n')}\n${logText().slice(-2500)}`);
    assert.match(forget.asked[0] ?? '', /Forget the trusted SSH host key of/);
    assert.match(forget.asked[1] ?? '', /Trust the SSH host key of 127\.77\.133\.2\?/);
    assert.equal(health(1)?.kind, 'probed');
    assert.equal(health(0)?.kind, 'probed', 'the other host keeps its key');
  });
});
