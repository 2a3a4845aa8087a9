// After a host dies (issue 13, part 3 and 5): its VMs are still marked running on it. The tree shows them under a
// Needs attention group; Reset Power State… is refused without the fencing confirmation and done with it (the
// confirmation in the audit trail); Start on… says what to do about a disk the dead host still holds, Forget Host…
// releases it, and the VM then runs on a survivor. Every outcome is asserted in the lab's own database.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import type { XenNode } from '../../src/tree/nodes';
import { labControl, labs, type LabHandle } from './support/labControl';
import { activateProduct, hostNode, poolNode, refresh, tooltipOf, waitFor, withUi } from './support/product';
import { no, notificationsShown, pickWhere, ScriptedUi, type, yes } from './support/scriptedUi';

describe('the VMs a dead host leaves behind (issue 13, parts 3 and 5)', function () {
  this.timeout(90_000);
  const lab = () => labs().vms as LabHandle;
  let api: XenPoolsApi;
  const monitor = () => api.registry.monitor(lab().poolUuid);
  const children = (node: XenNode): XenNode[] => api.tree.getChildren(node);
  const group = (label: string): XenNode | undefined => children(poolNode(lab().poolName)).find((n) => n.label === label);
  const vmRow = (parent: XenNode, name: string): XenNode => {
    const row = children(parent).find((n) => n.label === name);
    assert.ok(row, `no ${name} under ${String(parent.label)}: ${children(parent).map((n) => String(n.label)).join(', ')}`);
    return row;
  };
  /** The master's database in the lab: the pool's truth, whatever the product believes. */
  const labVm = async (name: string) => (await labControl.hosts(lab()))[0]?.db.vms.find((v) => v.nameLabel === name);
  const audit = () =>
    (existsSync(api.recorder.auditFile) ? readFileSync(api.recorder.auditFile, 'utf8') : '')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { command: string; host: string; kind?: string; result: string });
  const shownSince = (count: number) => notificationsShown.slice(count).join('\n');

  before(async () => {
    api = await activateProduct();
    await vscode.commands.executeCommand('xenPools.addPoolWithLogin', { address: lab().hosts[0]?.address, user: lab().user, auth: 'key', keyFile: lab().keyFile });
    await waitFor('pool-vms healthy with its VMs read', () => monitor()?.verdict?.kind === 'healthy' && monitor()?.vms !== undefined, 20_000);
  });

  after(async () => {
    await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.removePool', poolNode(lab().poolName)));
  });

  it('shows each host\'s VMs under it (collapsed), with their power state and the SRs of their disks', () => {
    const host1 = hostNode(lab().poolName, 'xcp-host1');
    assert.equal(host1.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const vms = children(host1);
    assert.deepEqual(vms.map((n) => [n.label, n.description, (n.iconPath as vscode.ThemeIcon).id, n.contextValue]), [
      ['vm1-1', 'running', 'vm-running', 'vm.running'],
      ['vm1-2', 'running', 'vm-running', 'vm.running'],
    ]);
    assert.match(tooltipOf(vms[0]), /Disks on: `NFS storage`/);
    assert.match(tooltipOf(vms[1]), /Disks on: `Local storage`/);
    assert.equal(group('Needs attention'), undefined);
  });

  it('rows: Enter on a host shows its details; Copy UUID and Copy Address (issue 13, part 7)', async () => {
    const host1 = hostNode(lab().poolName, 'xcp-host1');
    assert.equal(host1.command?.command, 'xenPools.showHostDetails');
    await vscode.commands.executeCommand(host1.command.command, ...(host1.command.arguments ?? []));
    const details = vscode.window.activeTextEditor?.document.getText() ?? '';
    assert.match(details, /^# xcp-host1 — online, master of pool-vms\n/);
    assert.match(details, /\n {2}vm1-1 {2}running {2}[0-9a-f-]{36}\n/);
    const vm = vmRow(host1, 'vm1-1');
    assert.equal(await vscode.commands.executeCommand('xenPools.copyUuid', vm), (await labVm('vm1-1'))?.uuid);
    assert.equal(await vscode.env.clipboard.readText(), (await labVm('vm1-1'))?.uuid);
    await vscode.commands.executeCommand('xenPools.copyAddress', host1);
    assert.equal(await vscode.env.clipboard.readText(), lab().hosts[0]?.address);
  });

  it('a slave dies: its VMs, still marked running, are listed under Needs attention', async () => {
    await labControl.fault(lab(), 'poweroff', 3);
    await refresh(lab().poolName);
    // A host picker shows each host's state, the hosts that answer first (issue 13, part 7).
    let offered: readonly { label: string; description?: string }[] = [];
    const picker = new ScriptedUi({ kind: 'pick', choose: (items) => ((offered = items), undefined) });
    await withUi(picker, () => vscode.commands.executeCommand('xenPools.refreshHost'));
    const ours = offered.filter((item) => item.description?.endsWith('· pool-vms'));
    assert.deepEqual(ours.map((item) => item.label), ['$(star-full) xcp-host1', '$(server) xcp-host2', '$(debug-disconnect) xcp-host3']);
    assert.match(ours[2]?.description ?? '', /^unreachable · slave · 127\.77\.135\.3 · pool-vms$/);
    const all = offered.map((item) => item.label);
    assert.ok(all.indexOf('$(debug-disconnect) xcp-host3') > all.lastIndexOf('$(server) xcp-host2'), all.join(', '));
    const attention = group('Needs attention');
    assert.ok(attention, 'no Needs attention group');
    assert.equal(children(poolNode(lab().poolName))[0]?.label, 'Needs attention', 'Needs attention comes first');
    assert.equal(attention.description, '2 VMs');
    assert.deepEqual(children(attention).map((n) => [n.label, n.contextValue]), [
      ['vm3-1', 'vm.stranded'],
      ['vm3-2', 'vm.stranded'],
    ]);
    await waitFor('the status bar to count them', () => api.health.summary.tooltip.includes('pool-vms: hosts-down, 2 VMs need attention'));
    assert.match(api.health.summary.text, /VMs need attention/);
    assert.match(tooltipOf(poolNode(lab().poolName)), /2 VMs marked running on lost hosts/);
  });

  it('Designate as New Master… is refused while a member is down, and nothing changes', async () => {
    const shown = notificationsShown.length;
    const scripted = new ScriptedUi();
    await withUi(scripted, () => vscode.commands.executeCommand('xenPools.designateNewMaster', hostNode(lab().poolName, 'xcp-host2')));
    assert.deepEqual(scripted.asked, []);
    assert.match(shownSince(shown), /warning: No new master for pool-vms: xcp-host3 does not answer: every member must be up/);
    assert.deepEqual((await labControl.hosts(lab())).map((h) => h.role), ['master', `slave:${lab().hosts[0]?.address}`, `slave:${lab().hosts[0]?.address}`]);
    // The refusal stays in the tree as a row of the pool (issue 13, part 2), not only as a toast.
    const [first] = children(poolNode(lab().poolName));
    assert.deepEqual([first?.label, first?.contextValue, (first?.iconPath as vscode.ThemeIcon).id], ['Refused', 'message.failure', 'warning']);
    assert.match(String(first?.description), /^No new master for pool-vms: xcp-host3 does not answer/);
  });

  it('Retry runs a failed command again with the inputs it was given; only confirmations are asked anew (issue 13, part 7)', async () => {
    const shown = notificationsShown.length;
    const errors = () => notificationsShown.slice(shown).filter((line) => line.startsWith('error:'));
    const scripted = new ScriptedUi(type('xe vm-list params=name-label'));
    scripted.chooseAction = (_line, actions) => (actions.includes('Retry') && errors().length === 1 ? 'Retry' : undefined);
    await withUi(scripted, async () => {
      await vscode.commands.executeCommand('xenPools.runXeCommand', hostNode(lab().poolName, 'xcp-host3'));
      await waitFor('the retry to fail as the first run did', () => errors().length === 2, 60_000);
    });
    assert.deepEqual(scripted.asked, ['input: xe on xcp-host3: An xe command, e.g. "host-list params=uuid,name-label,address" (no shell syntax)']);
    assert.equal(errors()[0], errors()[1], 'the retry ran the same command on the same host');
    assert.match(errors()[0] ?? '', new RegExp(`^error: ${lab().hosts[2]?.address.replaceAll('.', '\\.')}: connection refused .*\\[Show Log \\| Retry \\| Open Settings\\]$`));
  });

  it('Reset Power State… without the fencing confirmation changes nothing', async () => {
    const scripted = new ScriptedUi(no);
    await withUi(scripted, () => vscode.commands.executeCommand('xenPools.resetPowerState', group('Needs attention')));
    assert.match(scripted.asked.join('\n'), /Is xcp-host3 powered off or fenced\?\n.*vm3-1, vm3-2.*each would run twice on the same disks/s);
    assert.equal((await labVm('vm3-1'))?.powerState, 'Running');
    assert.ok(!audit().some((e) => e.command.startsWith('xe vm-reset-powerstate') || e.kind === 'confirmation'));
    // A command that ran on the pool without failing clears the last refusal's row.
    assert.ok(!children(poolNode(lab().poolName)).some((n) => n.label === 'Refused'));
  });

  it('Reset Power State… with it: both VMs halted in the lab, the confirmation before the resets in the audit trail', async () => {
    const shown = notificationsShown.length;
    await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.resetPowerState', group('Needs attention')));
    await api.recorder.flushed();
    assert.equal((await labVm('vm3-1'))?.powerState, 'Halted');
    assert.equal((await labVm('vm3-2'))?.powerState, 'Halted');
    const trail = audit();
    const confirmation = trail.findIndex((e) => e.kind === 'confirmation' && e.host === 'xcp-host3' && /powered off or fenced/.test(e.command));
    const resets = trail.flatMap((e, index) => (e.command.startsWith('xe vm-reset-powerstate') && e.command.endsWith('--force') ? [index] : []));
    assert.ok(confirmation >= 0, 'no confirmation in the audit trail');
    assert.equal(resets.length, 2);
    assert.ok(resets.every((index) => index > confirmation), 'a reset came before the confirmation');
    assert.match(shownSince(shown), /info: pool-vms: vm3-1, vm3-2 are halted now/);
    assert.equal(group('Needs attention'), undefined);
    assert.deepEqual(children(group('Halted VMs') as XenNode).map((n) => [n.label, n.contextValue]), [
      ['vm3-1', 'vm.halted'],
      ['vm3-2', 'vm.halted'],
    ]);
  });

  it('Start on…: hosts that can start it first; a disk still attached to the dead host is explained, nothing started', async () => {
    const shown = notificationsShown.length;
    const scripted = new ScriptedUi(pickWhere((item) => String(item.label).endsWith('xcp-host2')));
    await withUi(scripted, () => vscode.commands.executeCommand('xenPools.startVmOn', vmRow(group('Halted VMs') as XenNode, 'vm3-1')));
    assert.match(scripted.asked[0] ?? '', /\[\$\(server\) xcp-host2 \| \$\(circle-slash\) xcp-host1 \| \$\(circle-slash\) xcp-host3\]/);
    const warning = shownSince(shown);
    assert.match(warning, /warning: xapi refused to start vm3-1 on xcp-host2: The SR still holds disk \S+ of vm3-1 as attached read-write to xcp-host3/);
    assert.match(warning, /Forget Host…/);
    assert.match(warning, /resetvdis\.py/);
    assert.equal((await labVm('vm3-1'))?.powerState, 'Halted');
  });

  it('Start on… lists why a host cannot: too little memory, not answering', async () => {
    const scripted = new ScriptedUi(pickWhere((item) => String(item.label).endsWith('xcp-host1')));
    const shown = notificationsShown.length;
    await withUi(scripted, () => vscode.commands.executeCommand('xenPools.startVmOn', vmRow(group('Halted VMs') as XenNode, 'vm3-1')));
    assert.match(shownSince(shown), /warning: vm3-1 cannot start on xcp-host1: it needs 2\.0 GiB, has 1\.0 GiB free\. Nothing was started\./);
    assert.equal((await labVm('vm3-1'))?.powerState, 'Halted');
  });

  it('Forget Host… of the dead slave: gone from the lab database and from the tree', async () => {
    const scripted = new ScriptedUi(yes);
    await withUi(scripted, () => vscode.commands.executeCommand('xenPools.forgetHost', hostNode(lab().poolName, 'xcp-host3')));
    assert.match(scripted.asked.join('\n'), /Forget xcp-host3\?\n.*must be reinstalled before it joins any pool again/s);
    const master = (await labControl.hosts(lab()))[0];
    assert.deepEqual(master?.db.hosts.map((h) => h.nameLabel), ['xcp-host1', 'xcp-host2']);
    assert.ok(!children(poolNode(lab().poolName)).some((n) => n.label === 'xcp-host3'));
    await api.recorder.flushed();
    assert.ok(audit().some((e) => e.command.startsWith('xe host-forget uuid=') && e.command.endsWith('--force') && e.result === 'ok'));
  });

  it('Start on… then starts the VM on the survivor: running on xcp-host2 in the lab and under xcp-host2 in the tree', async () => {
    const shown = notificationsShown.length;
    await withUi(new ScriptedUi(pickWhere((item) => String(item.label).endsWith('xcp-host2'))), () =>
      vscode.commands.executeCommand('xenPools.startVmOn', vmRow(group('Halted VMs') as XenNode, 'vm3-1')),
    );
    const vm = await labVm('vm3-1');
    assert.equal(vm?.powerState, 'Running');
    assert.equal(vm?.residentOn, lab().hosts[1]?.uuid);
    assert.match(shownSince(shown), /info: vm3-1 runs on xcp-host2\./);
    assert.equal(vmRow(hostNode(lab().poolName, 'xcp-host2'), 'vm3-1').description, 'running');
  });

  it('Export Incident Report…: the confirmations, every state-changing call and what is left to do, as checkboxes', async () => {
    await withUi(new ScriptedUi(pickWhere((item) => item.label === 'Last 24 hours')), () => vscode.commands.executeCommand('xenPools.exportIncidentReport', poolNode(lab().poolName)));
    const text = vscode.window.activeTextEditor?.document.getText() ?? '';
    assert.match(text, /^# Incident report: pool-vms\n/);
    assert.match(text, /## Who confirmed what\n\n- \*\*[\d-]+ [\d:]+ UTC\*\* xcp-host3: xcp-host3 \([0-9a-f-]{36}\) is powered off or fenced: reset the power state of vm3-1, vm3-2 — confirmed by /);
    assert.match(text, /xcp-host3 \([0-9a-f-]{36}\) is gone for good and will be reinstalled before it rejoins: forget it/);
    for (const call of [/`xe vm-reset-powerstate uuid=[0-9a-f-]{36} --force` — exit 0/, /`xe host-forget uuid=[0-9a-f-]{36} --force` — exit 0/, /`xe vm-start uuid=[0-9a-f-]{36} on=[0-9a-f-]{36}` — exit 1/, /`xe vm-start uuid=[0-9a-f-]{36} on=[0-9a-f-]{36}` — exit 0/]) {
      assert.match(text, call);
    }
    assert.match(text, /already attached RW/);
    assert.match(text, /- \[ \] Start the halted VMs that should run \(Start on…\): vm3-2\./);
  });

  it('a VM whose disk was on the dead host\'s local storage cannot start anywhere: said, nothing started', async () => {
    const scripted = new ScriptedUi(pickWhere((item) => String(item.label).endsWith('xcp-host2')));
    const shown = notificationsShown.length;
    await withUi(scripted, () => vscode.commands.executeCommand('xenPools.startVmOn', vmRow(group('Halted VMs') as XenNode, 'vm3-2')));
    assert.match(scripted.asked[0] ?? '', /\[\$\(circle-slash\) xcp-host\d \| \$\(circle-slash\) xcp-host\d\]/);
    assert.match(shownSince(shown), /warning: vm3-2 cannot start on xcp-host2: it cannot reach Local storage, the SR of its disks\. Nothing was started\./);
    assert.equal((await labVm('vm3-2'))?.powerState, 'Halted');
  });

  it('Designate as New Master… once every member is up: xcp-host2 is master, xcp-host1 follows it, in the lab and in the tree', async () => {
    const scripted = new ScriptedUi(yes);
    const designated = await withUi(scripted, () => vscode.commands.executeCommand('xenPools.designateNewMaster', hostNode(lab().poolName, 'xcp-host2')));
    assert.equal(designated, true);
    assert.match(scripted.asked[0] ?? '', /Make xcp-host2 the master of pool-vms\?\n.*every member \(xcp-host1\) restarts its toolstack/s);
    const hosts = await labControl.hosts(lab());
    assert.equal(hosts[1]?.role, 'master');
    assert.equal(hosts[0]?.role, `slave:${lab().hosts[1]?.address}`);
    assert.deepEqual(children(poolNode(lab().poolName)).filter((n) => n.kind === 'host').map((n) => n.contextValue), ['host:slave:online', 'host:master:online']);
    assert.equal(monitor()?.inventory.masterUuid, lab().hosts[1]?.uuid);
  });
});
