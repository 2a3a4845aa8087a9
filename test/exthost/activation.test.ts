// Settings cannot stop the extension: code-server starts with four malformed xenPools.pools entries (see
// runInCodeServer.ts). The extension activates, names each skipped entry once, and loads the valid ones (issue 12,
// finding 6).
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import { labs, type LabHandle } from './support/labControl';
import { activateProduct, logText } from './support/product';

function logTextIfAny(): string {
  try {
    return logText();
  } catch {
    return ''; // the log file is not there yet
  }
}

describe('settings that cannot stop the extension (issue 12, finding 6)', function () {
  this.timeout(30_000);
  let api: XenPoolsApi;
  const settings = () => vscode.workspace.getConfiguration('xenPools');

  before(async () => {
    api = await activateProduct();
  });

  after(async () => {
    await settings().update('pools', undefined, vscode.ConfigurationTarget.Global);
  });

  /** The log channel reaches its file a moment after a line is written. */
  async function logShows(pattern: RegExp): Promise<void> {
    for (let i = 0; i < 100 && !pattern.test(logTextIfAny()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.match(logTextIfAny(), pattern);
  }

  it('activates with malformed xenPools.pools entries and names each skipped one in the log', async () => {
    await logShows(/activated with 0 pool\(s\)/);
    await logShows(/\[settings\] xenPools\.pools\[0\] \("broken"\): members: must be a list/);
    await logShows(/\[settings\] xenPools\.pools\[1\] \("nulls"\): members\[0\]: must be an object/);
    await logShows(/\[settings\] xenPools\.pools\[2\] \("string"\): members: must be a list/);
    await logShows(/\[settings\] xenPools\.pools\[3\]: name: must be a non-empty string/);
  });

  it('loads the valid entries next to malformed ones, and forgets them when the setting goes', async () => {
    const lab = labs().code as LabHandle;
    const valid = { name: 'declared-next-to-bad', user: lab.user, auth: 'key', keyFile: lab.keyFile, members: lab.hosts.map((h) => ({ address: h.address, uuid: h.uuid, name: h.name })) };
    await settings().update('pools', [{ name: 'broken' }, valid, { name: 'bad-port', port: 0, members: [{ address: '10.0.0.1' }] }], vscode.ConfigurationTarget.Global);
    for (let i = 0; i < 100 && !api.registry.pools().some((m) => m.inventory.poolName === 'declared-next-to-bad'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(api.registry.pools().map((m) => m.inventory.poolName), ['declared-next-to-bad']);
    await logShows(/xenPools\.pools\[2\] \("bad-port"\): port: must be an integer from 1 to 65535; this pool is skipped/);
    await settings().update('pools', undefined, vscode.ConfigurationTarget.Global);
    for (let i = 0; i < 100 && api.registry.pools().length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(api.registry.pools(), []);
  });
});
