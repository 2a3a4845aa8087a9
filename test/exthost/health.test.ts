// Live health with the view closed (issue 13, part 1): the background watch sees a lab master die, the status bar
// says so as an error, the view's badge counts the pool, one warning offers Guided Recovery (once, not again at the
// next probes), and the log has the host's change.
import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import { labControl, labs, type LabHandle } from './support/labControl';
import { activateProduct, hostNode, logText, poolNode, waitFor, withUi } from './support/product';
import { notificationsShown, pickWhere, ScriptedUi, yes } from './support/scriptedUi';

describe('live health: the watch, the status bar, the badge and the one warning (issue 13, part 1)', function () {
  this.timeout(120_000);
  const lab = () => labs().health as LabHandle;
  const settings = () => vscode.workspace.getConfiguration('xenPools');
  let api: XenPoolsApi;
  const lost = () => notificationsShown.filter((n) => n.startsWith('warning: pool-health has no running master'));

  before(async () => {
    api = await activateProduct();
    await vscode.commands.executeCommand('xenPools.addPoolWithLogin', { address: lab().hosts[1]?.address, user: lab().user, auth: 'key', keyFile: lab().keyFile });
    await waitFor('pool-health healthy', () => api.registry.pools().find((m) => m.inventory.poolName === 'pool-health')?.verdict?.kind === 'healthy', 20_000);
  });

  after(async () => {
    await settings().update('autoRefreshSeconds', 0, vscode.ConfigurationTarget.Global);
    await labControl.heal(lab(), 1);
    await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.removePool', poolNode('pool-health')));
  });

  it('a healthy pool is counted healthy in the status bar', () => {
    assert.ok(!api.health.summary.tooltip.includes('pool-health'), api.health.summary.tooltip);
    assert.match(api.health.summary.text, /^\$\((server|warning|error)\) XenServer: /);
  });

  it("a probe that finds what the rows show redraws nothing; a host's new state redraws its own row, not its pool's nor the tree (issue 13, performance)", async () => {
    const redrawn: (readonly string[] | undefined)[] = [];
    const subscription = api.tree.onDidChangeTreeData((change) => redrawn.push(change === undefined ? undefined : (Array.isArray(change) ? change : [change]).map((node) => String(node?.label))));
    const refreshHost2 = () => vscode.commands.executeCommand('xenPools.refreshHost', hostNode('pool-health', 'xcp-host2'));
    try {
      // The pool was just added: the whole list may still be due once.
      await refreshHost2();
      await new Promise((resolve) => setTimeout(resolve, 300));
      redrawn.length = 0;
      await refreshHost2();
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Each redraw sends rows to the workbench, which renders them again: a round of 1,024 probes finding nothing new sent 1,024.
      assert.equal(redrawn.length, 0, `a probe that changed nothing redrew rows: ${JSON.stringify(redrawn)}`);
      // A slave's xapi stops: its row changes, the pool's does not (its master runs): that row alone is sent.
      const poolRow = () => JSON.stringify([poolNode('pool-health').description, poolNode('pool-health').contextValue]);
      const poolBefore = poolRow();
      await labControl.fault(lab(), 'xapi-down', 2);
      await refreshHost2();
      await waitFor('a redraw', () => redrawn.length > 0, 10_000);
      assert.match(String(hostNode('pool-health', 'xcp-host2').description), /^xapi down/);
      assert.equal(poolRow(), poolBefore);
      assert.deepEqual(redrawn, [['xcp-host2']]);
    } finally {
      subscription.dispose();
      await labControl.heal(lab(), 2);
      await refreshHost2();
    }
  });

  it('the master dies with the view closed: the watch finds it, the status bar is an error, one warning with Guided Recovery…', async () => {
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await settings().update('autoRefreshSeconds', 5, vscode.ConfigurationTarget.Global);
    await labControl.fault(lab(), 'poweroff', 1);
    // 5 s, slower while the view is hidden (10 s) or the window unfocused (20 s); a probe of a dead host takes up to 2 s.
    await waitFor('the warning', () => lost().length > 0, 45_000);
    assert.deepEqual(lost(), ['warning: pool-health has no running master: its master does not answer. [Guided Recovery… | Show Log]']);
    assert.equal(api.health.summary.severity, 'error');
    assert.match(api.health.summary.text, /^\$\(error\) XenServer: \d+ of \d+ pools? without a master$/);
    assert.match(api.health.summary.tooltip, /pool-health: master-unreachable/);
    assert.match(logText(), /\[probe\] pool-health: xcp-host1: master, online → unreachable \(/);
    // The next probes find the same loss: no second warning.
    const probedAt = api.registry.pools().find((m) => m.inventory.poolName === 'pool-health')?.status(lab().hosts[0]?.uuid ?? '')?.probedAt;
    await waitFor('another probe', () => api.registry.pools().find((m) => m.inventory.poolName === 'pool-health')?.status(lab().hosts[0]?.uuid ?? '')?.probedAt !== probedAt, 45_000);
    assert.equal(lost().length, 1, lost().join('\n'));
  });

  it('Show Pool Health… (the status bar\'s click) picks a pool and shows it in the tree', async () => {
    const scripted = new ScriptedUi(pickWhere((item) => item.label === 'pool-health'));
    const monitor = await withUi(scripted, () => vscode.commands.executeCommand<{ inventory: { poolName: string } } | undefined>('xenPools.pickPool'));
    assert.equal(monitor?.inventory.poolName, 'pool-health');
    // With one pool there is nothing to choose; with several the pick shows each.
    if (api.registry.pools().length > 1) assert.match(scripted.asked.join('\n'), /Choose a pool \[.*pool-health/);
    else assert.deepEqual(scripted.asked, []);
  });

  it('a command that needs the master says so as a warning with Guided Recovery… on it, no Retry (issue 13, part 7)', async () => {
    const shown = notificationsShown.length;
    await vscode.commands.executeCommand('xenPools.setDefaultSr', poolNode('pool-health'));
    assert.deepEqual(notificationsShown.slice(shown), ['warning: pool-health has no reachable master with xapi running. Refresh, or recover the pool with Guided Recovery…. [Guided Recovery… | Show Log]']);
    // The pool keeps it as a row until dismissed (inline ×) or a command succeeds there.
    const row = api.tree.getChildren(poolNode('pool-health')).find((n) => n.contextValue === 'message.failure');
    assert.equal(row?.label, 'Refused');
    await vscode.commands.executeCommand('xenPools.dismissFailure', row);
    await waitFor('the row to go', () => !api.tree.getChildren(poolNode('pool-health')).some((n) => n.contextValue === 'message.failure'));
  });

  it('the master back: healthy again, and no new warning', async () => {
    await labControl.heal(lab(), 1);
    await waitFor('healthy again', () => api.registry.pools().find((m) => m.inventory.poolName === 'pool-health')?.verdict?.kind === 'healthy', 60_000);
    assert.ok(!api.health.summary.tooltip.includes('pool-health'));
    assert.equal(lost().length, 1);
  });
});
