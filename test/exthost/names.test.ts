// Names come from the hosts and from settings; anyone who may rename a VM or edit the settings chooses them. In the
// tree, notifications and the log they are text: controls that reorder it are shown, a newline cannot start a line
// that reads as the product's own (issue 12, finding 7).
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import { labs, type LabHandle } from './support/labControl';
import { activateProduct, hostNodes, logText, refresh, waitFor, withUi } from './support/product';
import { notificationsShown, ScriptedUi, yes } from './support/scriptedUi';

const HOSTILE = 'xcp\u202Eevil\n[info] [pool] added pool-fake';
const SHOWN = 'xcp<U+202E>evil [info] [pool] added pool-fake';

describe('hostile names shown as text (issue 12, finding 7)', function () {
  this.timeout(60_000);
  const lab = () => labs().creds as LabHandle;
  const settings = () => vscode.workspace.getConfiguration('xenPools');
  let api: XenPoolsApi;

  before(async () => {
    api = await activateProduct();
    const pool = { name: lab().poolName, uuid: lab().poolUuid, user: lab().user, auth: 'key', keyFile: lab().keyFile, members: lab().hosts.map((h, i) => ({ address: h.address, name: i === 1 ? HOSTILE : h.name, uuid: h.uuid })) };
    await settings().update('pools', [pool], vscode.ConfigurationTarget.Global);
    await waitFor('the declared pool', () => api.registry.monitor(lab().poolUuid) !== undefined);
    await refresh(lab().poolName);
  });

  after(async () => {
    await settings().update('pools', undefined, vscode.ConfigurationTarget.Global);
    await waitFor('the declared pool to go', () => api.registry.monitor(lab().poolUuid) === undefined);
  });

  it('the tree row, the notification and the log entry show the controls and keep to their own line', async () => {
    const row = hostNodes(lab().poolName).find((node) => String(node.label).startsWith('xcp<U+202E>'));
    assert.ok(row, `no host row with the name made visible: ${hostNodes(lab().poolName).map((n) => JSON.stringify(n.label)).join(', ')}`);
    assert.equal(row.label, SHOWN);
    const shownBefore = notificationsShown.length;
    // The lab's keys are in known_hosts, which the product does not edit: the command ends with an error naming the host.
    await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.forgetHostKey', row));
    const shown = notificationsShown.slice(shownBefore).join('\n');
    assert.ok(shown.includes(`${SHOWN}'s host key is also in`), shown);
    assert.ok(!shown.includes('\u202E') && !shown.includes('evil\n'), shown);
    const entry = logText().split('\n').find((line) => line.includes('[ssh] xcp<U+202E>evil'));
    assert.ok(entry, 'no log entry for the host');
    assert.ok(logText().includes('[ssh] xcp<U+202E>evil\n    [info] [pool] added pool-fake: forgot 0 pinned host key(s)'), 'the name\'s second line is not indented under its entry');
  });
});
