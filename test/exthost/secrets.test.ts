// Canary secrets through the product as a user drives it (issue 12, finding 1): passwords and passphrases typed
// into its questions, secret values in Run xe Command lines that end answered, refused by xe, timed out and cut off.
// None may reach the log channel, the audit trail, a notification, an opened document or globalState; SecretStorage
// is the one place a secret may be kept. This file runs last (the harness runs test files in sorted order), so it
// also reads what the earlier files left: their wrong and right passwords and passphrases are canaries too.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import { labControl, labs, type LabHandle } from './support/labControl';
import { activateProduct, declarePool, hostNode, logText, refresh, waitFor, withUi } from './support/product';
import { notificationsShown, ScriptedUi, type, yes } from './support/scriptedUi';

const EARLIER_SECRETS = ['not-the-lab-password', 'wrong-pw-1', 'wrong-pw-3', 'pp-wrong', 'pp-right-7'];
const [chap, value, pluginArgument, filterToken, timedOutToken, cutOffToken] = ['Canary-chap-71a2', 'Canary-value-72b3', 'Canary-args-73c4', 'Canary-token-74d5', 'Canary-token-75e6', 'Canary-token-76f7'];

describe('no secret outside SecretStorage, after every error path (issue 12, finding 1)', function () {
  this.timeout(120_000);
  const lab = () => labs().creds as LabHandle;
  const settings = () => vscode.workspace.getConfiguration('xenPools');
  let api: XenPoolsApi;

  function canaries(): string[] {
    return [...EARLIER_SECRETS, ...Object.values(labs()).map((l) => l.password), chap, value, pluginArgument, filterToken, timedOutToken, cutOffToken];
  }

  /** Runs one typed line on the lab's second host; a state-changing one is confirmed. Its failure is the product's to show. */
  async function runXe(line: string): Promise<void> {
    const host = lab().hosts[1];
    assert.ok(host);
    await withUi(new ScriptedUi(type(line), yes), () => vscode.commands.executeCommand('xenPools.runXeCommand', hostNode(lab().poolName, host.name)));
  }

  before(async () => {
    api = await activateProduct();
    await withUi(new ScriptedUi(type(lab().password)), async () => {
      await declarePool(lab(), { auth: 'password' });
      await waitFor('the declared pool', () => api.registry.monitor(lab().poolUuid) !== undefined);
      await refresh(lab().poolName);
    });
  });

  after(async () => {
    await labControl.heal(lab(), 2);
    await settings().update('commandTimeoutSeconds', undefined, vscode.ConfigurationTarget.Global);
    await settings().update('pools', undefined, vscode.ConfigurationTarget.Global);
  });

  it('commands that xe answers or refuses (state-changing ones confirmed, locked and audited)', async () => {
    const host = lab().hosts[0]?.uuid ?? '';
    await runXe(`xe secret-create value=${value}`);
    await runXe(`xe pbd-create host-uuid=${host} sr-uuid=${host} device-config:chappassword=${chap}`);
    await runXe(`xe host-call-plugin host-uuid=${host} plugin=p fn=f args:key=${pluginArgument}`);
    await runXe(`xe vm-list other-config:api_token=${filterToken} params=uuid`);
    assert.ok(readFileSync(api.recorder.auditFile, 'utf8').includes('secret-create'), 'the state-changing calls are not in the audit trail');
  });

  it('a command that times out', async () => {
    await settings().update('commandTimeoutSeconds', 2, vscode.ConfigurationTarget.Global);
    await labControl.fault(lab(), 'slow-xapi', 2, '4000');
    await runXe(`xe vm-list other-config:api_token=${timedOutToken} params=uuid`);
    await labControl.heal(lab(), 2);
  });

  it('a command whose host powers off while it runs', async () => {
    await settings().update('commandTimeoutSeconds', 20, vscode.ConfigurationTarget.Global);
    await labControl.fault(lab(), 'slow-xapi', 2, '3000');
    const running = runXe(`xe vm-list other-config:api_token=${cutOffToken} params=uuid`);
    // The pre-run probe takes one slow call, the command another: power off while the command runs.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    await labControl.fault(lab(), 'poweroff', 2);
    await running;
    await labControl.heal(lab(), 2);
  });

  it('none of the secrets is in the log, the audit trail, a notification, a document or globalState', async () => {
    const places: Record<string, string> = {
      log: logText(),
      'audit trail': readFileSync(api.recorder.auditFile, 'utf8'),
      notifications: notificationsShown.join('\n'),
      documents: vscode.workspace.textDocuments.map((d) => d.getText()).join('\n'),
      globalState: api.storedStateText(),
    };
    const leaks = Object.entries(places).flatMap(([place, text]) => canaries().filter((canary) => text.includes(canary)).map((canary) => `${canary} in ${place}`));
    assert.deepEqual(leaks, []);
    // The paths above really ran: their errors were shown, masked.
    assert.match(places.notifications ?? '', /api_token=\*\*\*' params=uuid on \S+ did not finish within 2 s/, places.notifications);
    assert.match(places.notifications ?? '', /connection to \S+ was lost while running xe vm-list 'other-config:api_token=\*\*\*'/, places.notifications);
    assert.match(places.log ?? '', /secret-create 'value=\*\*\*'|secret-create value=\*\*\*/, 'the masked command is not in the log');
  });
});
