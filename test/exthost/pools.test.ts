// Runs inside code-server's extension host against lab pools (real sshd hosts) that the runner
// started: every command of the product through vscode.commands, prompts answered by ScriptedUi,
// and the lab's own state checked afterwards.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../src/extension';
import type { XenNode } from '../../src/tree/nodes';
import { labControl, labs, type LabHandle } from './support/labControl';
import { activateProduct, hostNode, hostNodes, logText, poolNode, refresh, tooltipOf, withUi } from './support/product';
import { back, no, notificationsShown, pickFirst, pickWhere, ScriptedUi, type, yes } from './support/scriptedUi';

let api: XenPoolsApi;

function poolName(lab: LabHandle): string {
  return api.registry.pools().find((m) => m.inventory.members.some((h) => h.address === lab.hosts[0]?.address))?.inventory.poolName ?? '?';
}

function poolUuid(name: string): string {
  const monitor = api.registry.pools().find((m) => m.inventory.poolName === name);
  assert.ok(monitor, `no pool ${name}`);
  return monitor.inventory.poolUuid;
}

async function addPool(lab: LabHandle): Promise<string> {
  await vscode.commands.executeCommand('xenPools.addPoolWithLogin', { address: lab.hosts[1]?.address, user: lab.user, auth: 'key', keyFile: lab.keyFile });
  const name = poolName(lab);
  assert.notEqual(name, '?', `Add Pool did not add the pool. Log:\n${logText().slice(-3000)}`);
  return name;
}

function iconId(node: XenNode): string | undefined {
  return node.iconPath instanceof vscode.ThemeIcon ? node.iconPath.id : undefined;
}

describe('XenServer Pools against lab pools, in VS Code', function () {
  this.timeout(120_000);

  before(async () => {
    api = await activateProduct();
  });

  describe('code model: the master dies, slaves stay out of emergency mode until their toolstack restarts', () => {
    const lab = () => labs().code as LabHandle;
    let pool: string;

    it('Add Pool discovers all members from a slave and shows them with their roles', async () => {
      pool = await addPool(lab());
      await refresh(pool);
      const nodes = hostNodes(pool);
      assert.deepEqual(nodes.map((n) => n.label), lab().hosts.map((h) => h.name));
      assert.deepEqual(nodes.map((n) => n.contextValue), ['host:master:online', 'host:slave:online', 'host:slave:online', 'host:slave:online']);
      assert.equal(iconId(nodes[0] as XenNode), 'star-full');
      assert.equal(poolNode(pool).contextValue, 'pool:healthy');
      assert.match(String(poolNode(pool).description), /healthy/);
    });

    it('the Add Pool button starts the wizard even with a host row selected (issue 10, finding 3)', async () => {
      // VS Code passes the selected row to a view-title command; Add Pool must not read it as its arguments.
      const scripted = new ScriptedUi({ kind: 'input', value: undefined });
      await withUi(scripted, () => vscode.commands.executeCommand('xenPools.addPool', hostNode(pool, 'xcp-host2')));
      assert.deepEqual(scripted.asked.map((q) => q.split(': Address')[0]), ['input: Add Pool (1/4)']);
      assert.equal(api.registry.pools().length, 1);
    });

    it('the wizard counts its steps and goes back; a wrong password is refused although the pool has open connections (finding 4)', async () => {
      const uuid = poolUuid(pool);
      const before = api.registry.login(uuid);
      const address = lab().hosts[1]?.address ?? '';
      const scripted = new ScriptedUi(type(address), type('root'), pickWhere((i) => i.value === 'key'), back, pickWhere((i) => i.value === 'password'), type('not-the-lab-password'));
      await withUi(scripted, () => vscode.commands.executeCommand('xenPools.addPool'));
      assert.equal(scripted.unanswered, 0, scripted.asked.join('\n'));
      assert.deepEqual(
        scripted.asked.map((q) => q.replace(/(\(\d\/\d\)).*?( <- Back)?$/, '$1$2')),
        ['input: Add Pool (1/4)', 'input: Add Pool (2/4)', 'pick: Add Pool (3/4)', 'input: Add Pool (4/4) <- Back', 'pick: Add Pool (3/4)', 'input: Add Pool (4/4)'],
      );
      assert.match(scripted.asked[3] ?? '', /Private key file/);
      assert.match(scripted.asked[5] ?? '', /Password of root@/);
      assert.deepEqual(api.registry.login(uuid), before, 'the pool keeps the login that works');
      assert.match(logText(), /Cannot discover the pool from [\d.]+: .*pool-lab keeps its current login\./s);
      await refresh(pool);
      assert.deepEqual(hostNodes(pool).map((n) => n.contextValue), ['host:master:online', 'host:slave:online', 'host:slave:online', 'host:slave:online']);
    });

    it('re-adding a pool asks whether to replace its login; declining keeps it, replacing takes the new one that worked (finding 4)', async () => {
      const uuid = poolUuid(pool);
      const keyLogin = api.registry.login(uuid);
      const withPassword = { address: lab().hosts[2]?.address, user: lab().user, auth: 'password', password: lab().password };
      const declined = new ScriptedUi(no);
      await withUi(declined, () => vscode.commands.executeCommand('xenPools.addPoolWithLogin', withPassword));
      assert.match(declined.asked[0] ?? '', /pool-lab is already added\. Replace its login\?/);
      assert.deepEqual(api.registry.login(uuid), keyLogin);
      await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.addPoolWithLogin', withPassword));
      assert.equal(api.registry.login(uuid)?.auth, 'password');
      await refresh(pool);
      assert.deepEqual(hostNodes(pool).map((n) => n.contextValue), ['host:master:online', 'host:slave:online', 'host:slave:online', 'host:slave:online']);
      // Back to the key login the later tests use.
      await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.addPoolWithLogin', { address: lab().hosts[1]?.address, user: lab().user, auth: 'key', keyFile: lab().keyFile }));
      assert.deepEqual(api.registry.login(uuid), keyLogin);
    });

    it('refuses Guided Recovery of a healthy pool and changes nothing', async () => {
      const before = await labControl.hosts(lab());
      const scripted = new ScriptedUi();
      await withUi(scripted, () => vscode.commands.executeCommand('xenPools.guidedRecovery', poolNode(pool)));
      assert.deepEqual(scripted.asked, []);
      assert.deepEqual((await labControl.hosts(lab())).map((h) => h.role), before.map((h) => h.role));
    });

    it('refuses Promote to Master in a healthy pool without even asking', async () => {
      const before = await labControl.hosts(lab());
      const scripted = new ScriptedUi();
      await withUi(scripted, () => vscode.commands.executeCommand('xenPools.promoteToMaster', hostNode(pool, 'xcp-host3')));
      assert.deepEqual(scripted.asked, []);
      assert.deepEqual((await labControl.hosts(lab())).map((h) => h.role), before.map((h) => h.role));
    });

    it('warns that the master may be alive when slaves merely lost sight of it; declining changes nothing', async () => {
      for (const slave of [2, 3, 4]) await labControl.fault(lab(), 'partition', 1, String(slave));
      const before = await labControl.hosts(lab());
      const scripted = new ScriptedUi(no);
      await withUi(scripted, () => vscode.commands.executeCommand('xenPools.promoteToMaster', hostNode(pool, 'xcp-host3')));
      assert.equal(scripted.asked.length, 1);
      assert.match(scripted.asked[0] ?? '', /the master may not be dead: the master xcp-host1 still answers us/);
      assert.deepEqual((await labControl.hosts(lab())).map((h) => h.role), before.map((h) => h.role));
      await labControl.heal(lab(), 1);
    });

    it('shows a dead master, an emergency slave and a slave whose xapi is down, each at a glance', async () => {
      await labControl.fault(lab(), 'poweroff', 1);
      // Restart Toolstack on xcp-host2 through the product: it comes back in emergency mode.
      await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.restartToolstack', hostNode(pool, 'xcp-host2')));
      await labControl.waitFor(lab(), 'xcp-host2 in emergency mode', (hosts) => hosts[1]?.emergency === true && hosts[1]?.xapi === 'running');
      await labControl.fault(lab(), 'xapi-down', 4);
      await refresh(pool);
      const nodes = hostNodes(pool);
      assert.deepEqual(nodes.map((n) => n.contextValue), ['host:master:unreachable', 'host:slave:emergency', 'host:slave:online', 'host:slave:xapi-down']);
      assert.deepEqual(nodes.map(iconId), ['debug-disconnect', 'warning', 'server', 'circle-slash']);
      assert.equal(poolNode(pool).contextValue, 'pool:emergency');
      const tooltip = tooltipOf(nodes[1]);
      assert.match(tooltip, /Emergency mode: `yes`/);
      assert.match(tooltip, new RegExp(`Master it points to: \`${lab().hosts[0]?.address.replace(/\./g, '\\.')}\``));
      await labControl.heal(lab(), 4);
    });

    it('Check Emergency Mode answers from the host itself', async () => {
      assert.equal(await vscode.commands.executeCommand('xenPools.checkEmergencyMode', hostNode(pool, 'xcp-host2')), true);
      assert.equal(await vscode.commands.executeCommand('xenPools.checkEmergencyMode', hostNode(pool, 'xcp-host3')), false);
    });

    it('Run xe Command refuses shell syntax and runs a plain xe command on the chosen host', async () => {
      const refused = new ScriptedUi(type('xe host-is-in-emergency-mode; reboot'));
      await assert.rejects(withUi(refused, () => Promise.resolve(vscode.commands.executeCommand('xenPools.runXeCommand', hostNode(pool, 'xcp-host2')))).then(() => {
        throw new Error('accepted');
      }), /invalid|accepted/);
      await withUi(new ScriptedUi(type('xe host-is-in-emergency-mode')), () => vscode.commands.executeCommand('xenPools.runXeCommand', hostNode(pool, 'xcp-host2')));
      const document = vscode.window.activeTextEditor?.document;
      assert.ok(document?.uri.scheme === 'xenpools', document?.uri.toString());
      assert.match(document.getText(), /^true$/m);
    });

    it('Guided Recovery: plan, confirmation, toolstack restart of the candidate, transition, recover-slaves, default SR', async () => {
      await labControl.waitFor(lab(), 'xapi of the survivors running', (hosts) => hosts.slice(1).every((h) => h.xapi === 'running'));
      const scripted = new ScriptedUi(
        pickWhere((item) => item.label.includes('xcp-host3')), // the admin chooses xcp-host3 (not in emergency mode)
        pickWhere((item) => String(item.value) === 'restart-toolstack'),
        yes,
      );
      // The tree follows the recovery while it runs (issue 13, part 2): host changes arrive while the pool lock is held.
      const monitor = api.registry.pools().find((m) => m.inventory.poolName === pool);
      assert.ok(monitor);
      const changesDuringRun: string[] = [];
      const stop = monitor.onDidChange((hostUuid) => {
        if (hostUuid && api.registry.locks.isBusy(monitor.inventory.poolUuid)) changesDuringRun.push(hostUuid);
      });
      await withUi(scripted, () => vscode.commands.executeCommand('xenPools.guidedRecovery', poolNode(pool)));
      stop();
      assert.equal(scripted.unanswered, 0, scripted.asked.join('\n'));
      assert.ok(changesDuringRun.includes(lab().hosts[2]?.uuid ?? '-'), `no change of xcp-host3 reached the tree during the recovery: ${changesDuringRun.join(', ')}`);
      const hosts = await labControl.waitFor(lab(), 'every survivor following xcp-host3', (hs) => hs.slice(1).every((h) => h.xapi === 'running' && !h.emergency && h.role === (h.index === 3 ? 'master' : `slave:${lab().hosts[2]?.address}`)));
      assert.equal(hosts.filter((h) => h.role === 'master' && h.faults.power === 'on').length, 1);
      assert.match(scripted.asked[2] ?? '', /1\. xe-toolstack-restart on xcp-host3/);
      const log = logText();
      assert.match(log, /\[xe\] 127\.77\.\d+\.3: xe pool-emergency-transition-to-master \(\d+ ms, exit 0\)/);
      assert.match(log, /default-SR: [0-9a-f-]{36} \(NFS storage\): valid/);
      await api.recorder.flushed();
      const audit = readFileSync(api.recorder.auditFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { command: string; host: string });
      assert.ok(audit.some((e) => e.command === 'xe pool-emergency-transition-to-master' && e.host === lab().hosts[2]?.address));
      assert.ok(audit.some((e) => e.command === 'xe pool-recover-slaves'));
      // The report that stays (issue 13, part 4): written under the extension's storage and open in an editor.
      const report = vscode.window.activeTextEditor?.document;
      assert.match(report?.fileName ?? '', /[/\\]reports[/\\][\w.-]+-recovery\.md$/);
      const text = report?.getText() ?? '';
      assert.match(text, new RegExp(`^# Guided Recovery of ${pool}\n`));
      assert.match(text, /\*\*Outcome:\*\* succeeded; new master xcp-host3/);
      assert.match(text, /on 127\.77\.\d+\.3: `xe pool-emergency-transition-to-master` — exit 0/);
      assert.match(text, /default-SR `[0-9a-f-]{36}` \(NFS storage\): valid/);
      assert.match(text, /- \[ \] 2 VM\(s\) are still marked Running on the dead master xcp-host1 \(vm1-1, vm1-2\)\. Only when that host is certainly powered off or fenced: Reset Power State…/);
      assert.equal(text.match(/vm1-1, vm1-2/g)?.length, 1, 'the stranded VMs named twice in the next steps');
    });

    it('the tree shows the new master, and the pool parameters open read-only with default-SR highlighted', async () => {
      await refresh(pool);
      // The pool works again under xcp-host3; the dead old master is its former master, and the pool says so (issue 13).
      assert.deepEqual(hostNodes(pool).map((n) => n.contextValue), ['host:former-master:unreachable', 'host:slave:online', 'host:master:online', 'host:slave:online']);
      assert.equal(poolNode(pool).contextValue, 'pool:hosts-down');
      assert.match(String(poolNode(pool).description), /^old master down/);
      // Recovered with leftovers: the dead master's VMs are still marked running on it (issue 13, part 2 and 3).
      const attention = api.tree.getChildren(poolNode(pool)).find((n) => n.label === 'Needs attention');
      assert.ok(attention, 'no Needs attention group after the recovery');
      assert.deepEqual(api.tree.getChildren(attention).map((n) => n.label), ['vm1-1', 'vm1-2']);
      await vscode.commands.executeCommand('xenPools.showPoolParameters', poolNode(pool));
      const document = vscode.window.activeTextEditor?.document;
      assert.equal(document?.uri.scheme, 'xenpools');
      assert.match(document?.getText() ?? '', /^\s+default-SR \( RW\): [0-9a-f-]{36}$/m);
    });

    it('Set Default SR offers shared SRs first and sets the chosen one', async () => {
      const scripted = new ScriptedUi(pickWhere((item) => item.label.includes('Local storage')));
      await withUi(scripted, () => vscode.commands.executeCommand('xenPools.setDefaultSr', poolNode(pool)));
      assert.match(scripted.asked[0] ?? '', /\[(\$\(check\) )?NFS storage \| Local storage/);
      await vscode.commands.executeCommand('xenPools.showPoolParameters', poolNode(pool));
      const text = vscode.window.activeTextEditor?.document.getText() ?? '';
      assert.match(text, /# default-SR: [0-9a-f-]{36} = "Local storage"/);
    });

    it('Set Default SR takes the pool lock: another client holding it refuses the change (issue 12, finding 8)', async () => {
      const monitor = api.registry.monitor(poolUuid(pool));
      assert.ok(monitor);
      const master = monitor.allStatuses().find((s) => s.health.kind === 'probed' && s.health.facts.role?.role === 'master')?.member;
      assert.ok(master);
      const holder = JSON.stringify({ owner: 'admin@elsewhere', operation: 'Guided Recovery', since: new Date().toISOString(), expiresAt: 4102444800, token: 'other-client' });
      const lockDir = `/run/xenserver-pools/lock-${monitor.inventory.poolUuid}`;
      await monitor.runner.shell(master.address, `mkdir -p ${lockDir} && printf '%s' '${holder}' > ${lockDir}/holder`);
      try {
        const scripted = new ScriptedUi(pickWhere((item) => item.label.includes('NFS storage')));
        await withUi(scripted, () => vscode.commands.executeCommand('xenPools.setDefaultSr', poolNode(pool)));
        await vscode.commands.executeCommand('xenPools.showPoolParameters', poolNode(pool));
        assert.match(vscode.window.activeTextEditor?.document.getText() ?? '', /# default-SR: [0-9a-f-]{36} = "Local storage"/, 'the default SR changed while another client held the lock');
        assert.match(logText(), /admin@elsewhere/);
      } finally {
        await monitor.runner.shell(master.address, `rm -rf ${lockDir}`);
      }
    });

    it('Remove Pool while a recovery holds the pool is refused and keeps the pool (issue 12, bad input)', async () => {
      const monitor = api.registry.pools().find((m) => m.inventory.poolName === pool);
      assert.ok(monitor);
      let finishRecovery: () => void = () => undefined;
      const recovery = api.registry.locks.withLock(monitor.inventory, 'Guided Recovery', () => new Promise<void>((resolve) => (finishRecovery = resolve)));
      const shownBefore = notificationsShown.length;
      await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.removePool', poolNode(pool)));
      finishRecovery();
      await recovery;
      assert.ok(api.tree.getChildren().some((n) => n.label === pool), 'the pool was removed under a running recovery');
      assert.match(notificationsShown.slice(shownBefore).join('\n'), new RegExp(`${pool} is busy: "Guided Recovery" has been running since`));
    });

    it('Remove Pool asks, then forgets the pool without touching the hosts', async () => {
      const before = await labControl.hosts(lab());
      await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.removePool', poolNode(pool)));
      assert.ok(!api.tree.getChildren().some((n) => n.label === pool));
      assert.deepEqual((await labControl.hosts(lab())).map((h) => h.role), before.map((h) => h.role));
    });
  });

  describe('docs model: every slave enters emergency mode after losing the master', () => {
    const lab = () => labs().docs as LabHandle;
    let pool: string;

    it('Guided Recovery with the recommended candidate brings every survivor under one master', async () => {
      pool = await addPool(lab());
      await labControl.fault(lab(), 'poweroff', 1);
      await labControl.waitFor(lab(), 'slaves in emergency mode', (hosts) => hosts.slice(1).every((h) => h.emergency));
      await refresh(pool);
      assert.equal(poolNode(pool).contextValue, 'pool:emergency');
      const scripted = new ScriptedUi(pickFirst, yes);
      await withUi(scripted, () => vscode.commands.executeCommand('xenPools.guidedRecovery', poolNode(pool)));
      assert.equal(scripted.unanswered, 0, scripted.asked.join('\n'));
      const hosts = await labControl.waitFor(lab(), 'one master, survivors following', (hs) => {
        const master = hs.find((h) => h.role === 'master' && h.faults.power === 'on');
        return !!master && hs.filter((h) => h.faults.power === 'on' && h !== master).every((h) => h.role === `slave:${master.address}` && !h.emergency && h.xapi === 'running');
      });
      assert.equal(hosts.filter((h) => h.role === 'master' && h.faults.power === 'on').length, 1);
    });

    it('step by step: the new master dies too; Promote to Master on one slave, then Recover Slaves on it', async () => {
      const before = await labControl.hosts(lab());
      const master = before.find((h) => h.role === 'master' && h.faults.power === 'on');
      assert.ok(master);
      await labControl.fault(lab(), 'poweroff', master.index);
      const [chosen, other] = before.filter((h) => h.faults.power === 'on' && h !== master);
      assert.ok(chosen && other);
      await labControl.waitFor(lab(), 'survivors in emergency mode', (hosts) => hosts.filter((h) => h.faults.power === 'on').every((h) => h.emergency && h.xapi === 'running'));
      await vscode.commands.executeCommand('xenPools.refresh');
      assert.equal(hostNode(pool, chosen.name).contextValue, 'host:slave:emergency');
      const promote = new ScriptedUi(yes);
      await withUi(promote, () => vscode.commands.executeCommand('xenPools.promoteToMaster', hostNode(pool, chosen.name)));
      assert.ok(promote.asked[0]?.includes(`Make ${chosen.name} (${chosen.address}) the master`), promote.asked.join('\n'));
      await labControl.waitFor(lab(), `${chosen.name} master`, (hosts) => hosts.some((h) => h.index === chosen.index && h.role === 'master' && h.xapi === 'running'));
      assert.equal((await labControl.hosts(lab())).find((h) => h.index === other.index)?.role, `slave:${master.address}`, 'Promote must not touch the other slaves');
      await vscode.commands.executeCommand('xenPools.refreshHost', hostNode(pool, chosen.name));
      assert.equal(hostNode(pool, chosen.name).contextValue, 'host:master:online');
      await withUi(new ScriptedUi(yes), () => vscode.commands.executeCommand('xenPools.recoverSlaves', hostNode(pool, chosen.name)));
      await labControl.waitFor(lab(), 'the other slave follows', (hosts) => hosts.some((h) => h.index === other.index && h.role === `slave:${chosen.address}` && h.xapi === 'running'));
      assert.ok(logText().includes(`[xe] ${chosen.address}: xe pool-recover-slaves (`), 'recover-slaves is not in the log');
    });

    it('Open SSH Terminal starts ssh to the host; Open Audit Trail shows every state-changing call', async () => {
      const name = lab().hosts[1]?.name ?? '';
      const terminal = (await vscode.commands.executeCommand('xenPools.openSshTerminal', hostNode(pool, name))) as vscode.Terminal;
      assert.equal(terminal.name, `ssh ${name}`);
      // The extension's trust, key and port (issue 13, part 7): its known_hosts file, never ~/.ssh/known_hosts.
      const args = (terminal.creationOptions as vscode.TerminalOptions).shellArgs as string[];
      const knownHosts = vscode.workspace.getConfiguration('xenPools').get<string>('knownHostsFile') ?? '';
      assert.ok(args.includes('StrictHostKeyChecking=yes'), args.join(' '));
      assert.ok(args.some((a) => a.startsWith('UserKnownHostsFile=') && a.includes(`"${knownHosts}"`)), args.join(' '));
      assert.deepEqual(args.slice(-2), ['--', `${lab().user}@${lab().hosts[1]?.address}`]);
      assert.ok(((await terminal.processId) ?? 0) > 0);
      terminal.dispose();
      await vscode.commands.executeCommand('xenPools.openAuditLog');
      const audit = vscode.window.activeTextEditor?.document;
      assert.ok(audit?.fileName.endsWith('audit.jsonl'), audit?.fileName);
      assert.match(audit?.getText() ?? '', /"command":"xe pool-emergency-transition-to-master"/);
    });
  });
});
