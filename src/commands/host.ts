import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PinnedHostKeys } from '../core/ssh/hostKeys';
import { knownHostsLines, sshTerminalArgs } from '../core/ssh/terminalArgs';
import { readSettings } from '../settings';
import { xeOperations } from '../core/xe/operations';
import { parseUserXeCommand } from '../core/xe/userCommand';
import type { XenNode } from '../tree/nodes';
import { notify, ui } from '../ui';
import { answeringMembers } from '../core/pool/plan';
import { orCancel, resolveHost, withPoolLocks, type CommandContext } from './context';
import { confirmFreshPlan, confirmPlan, executePlan, freshPlan, onlySteps, waitForHaFirst } from './recovery';

export async function refreshHost(context: CommandContext, node?: XenNode): Promise<void> {
  const { monitor, member } = await resolveHost(context, node, 'Refresh which host?');
  await monitor.refresh([member.uuid]);
}

export async function checkEmergencyMode(context: CommandContext, node?: XenNode): Promise<boolean> {
  const { monitor, member } = await resolveHost(context, node, 'Check emergency mode on which host?');
  const emergency = await xeOperations.isInEmergencyMode(monitor.runner.xe(member.address));
  void notify('info', `${member.name}: ${emergency ? 'in emergency mode' : 'not in emergency mode'} (xe host-is-in-emergency-mode → ${emergency}).`);
  void monitor.refresh([member.uuid]);
  return emergency;
}

/** pool-emergency-transition-to-master on one host, after the engine's pre-checks and a modal confirmation. */
export async function promoteToMaster(context: CommandContext, node?: XenNode): Promise<void> {
  const { monitor, member } = await resolveHost(context, node, 'Promote which host to master?');
  const promotion = { candidateUuid: member.uuid, notInEmergency: 'transition-directly' } as const;
  const ha = await waitForHaFirst(context, monitor, await freshPlan(monitor, promotion), promotion);
  if (ha.done) return;
  const haElectionWaited = ha.plan !== undefined;
  const confirmed = await confirmFreshPlan(
    monitor,
    async () => onlySteps(await freshPlan(monitor, { ...promotion, haElectionWaited }), ['disable-ha', 'transition-to-master', 'wait-for-master', 'check-default-sr']),
    (plan) =>
      confirmPlan(
        plan,
        'Promote',
        `Make ${member.name} (${member.address}) the master of ${monitor.inventory.poolName}? If the old master is still alive, the pool gets two masters writing to the same storage. Afterwards run Recover Slaves on it.`,
      ),
  );
  if (!confirmed) return;
  await executePlan(context, monitor, confirmed.plan, { ...confirmed.options, candidateUuid: member.uuid }, `Promote ${member.name} to master`);
}

/** pool-recover-slaves on a master, then the check that every slave follows it, then the default SR. */
export async function recoverSlaves(context: CommandContext, node?: XenNode): Promise<void> {
  const { monitor, member } = await resolveHost(context, node, 'Run recover-slaves on which (new) master?');
  await monitor.refresh();
  const status = monitor.status(member.uuid);
  if (!(status?.health.kind === 'probed' && status.health.facts.role?.role === 'master' && status.health.facts.xapi === 'running')) {
    throw new Error(`${member.name} is not a running master: pool-recover-slaves must run on the (new) master.`);
  }
  const steps = (['recover-slaves', 'verify-slaves', 'check-default-sr'] as const).map((kind) => ({ kind, host: member }));
  const others = monitor.inventory.members.filter((m) => m.uuid !== member.uuid);
  const plan = {
    createdAt: Date.now(),
    poolUuid: monitor.inventory.poolUuid,
    poolName: monitor.inventory.poolName,
    verdict: monitor.verdict?.kind ?? 'unknown',
    candidate: member,
    candidateReasons: [],
    oldMaster: undefined,
    verified: answeringMembers(monitor.allStatuses()),
    leftOut: [],
    refusals: [],
    notes: [],
    steps,
  } as const;
  const confirmed = await ui.current.confirm(
    `Run pool-recover-slaves on ${member.name}?`,
    `Every other reachable member (${others.map((m) => m.name).join(', ')}) is told to follow ${member.name} and restarts its toolstack. Hosts that do not answer are skipped.`,
    'Recover Slaves',
  );
  if (!confirmed) return;
  await executePlan(context, monitor, plan, {}, `Recover slaves on ${member.name}`);
}

export async function restartToolstack(context: CommandContext, node?: XenNode): Promise<void> {
  const { monitor, member } = await resolveHost(context, node, 'Restart the toolstack of which host?');
  const confirmed = await ui.current.confirm(
    `Restart the toolstack (xapi) on ${member.name}?`,
    'VMs keep running. While its master is unreachable, a slave comes back in emergency mode, which is what the runbook\'s first step expects on current xapi.',
    'Restart Toolstack',
  );
  if (!confirmed) return;
  await withPoolLocks(context, monitor, `Restart toolstack on ${member.name}`, async () => {
    // Re-checked under the lock (withPoolLocks probed the pool): the host must answer (no action on a host we could not verify).
    if (monitor.status(member.uuid)?.health.kind !== 'probed') throw new Error(`${member.name} does not answer now; nothing was run.`);
    await monitor.runner.restartToolstack(member.address, { timeoutMs: 120_000 });
  });
  void notify('info', `Toolstack of ${member.name} restarted.`);
  await monitor.refresh([member.uuid]);
}

/** Forgets the key XenServer Pools trusted for a reinstalled host; the next connection asks about the new one. */
export async function forgetHostKey(context: CommandContext, node?: XenNode): Promise<void> {
  const { monitor, member } = await resolveHost(context, node, 'Forget the trusted SSH host key of which host?');
  const confirmed = await ui.current.confirm(
    `Forget the trusted SSH host key of ${member.name}?`,
    `Only when ${member.name} was reinstalled (its SSH host key is new). The next connection shows the new key's fingerprint: compare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on its console) before you trust it.`,
    'Forget Host Key',
  );
  if (!confirmed) return;
  const { forgotten, knownHostsFile } = await context.registry.forgetHostKey(monitor, member.address);
  context.log.info(`[ssh] ${member.name}: forgot ${forgotten} pinned host key(s)`);
  if (knownHostsFile) {
    throw new Error(`${member.name}'s host key is also in ${knownHostsFile}, which XenServer Pools does not edit: remove it there (ssh-keygen -R ${member.address} -f ${knownHostsFile}).`);
  }
  if (forgotten === 0) {
    void notify('info', `XenServer Pools had no host key of ${member.name} on record.`);
    return;
  }
  await monitor.refresh([member.uuid]);
}

/**
 * ssh in a terminal, with the extension's own trust: its pinned keys and xenPools.knownHostsFile, refused otherwise
 * (StrictHostKeyChecking=yes), the pool's key file and port; ~/.ssh/known_hosts is neither read nor written.
 */
export async function openSshTerminal(context: CommandContext, node?: XenNode): Promise<vscode.Terminal> {
  const { monitor, member } = await resolveHost(context, node, 'Open an SSH terminal to which host?');
  const login = context.registry.login(monitor.inventory.poolUuid);
  const endpoint = { host: member.address, port: login?.port ?? 22 };
  const pinned = await new PinnedHostKeys(context.registry.pinnedKeysFile).lookup(endpoint);
  const knownHostsFile = readSettings().knownHostsFile;
  // One file per endpoint: a second terminal must not replace the keys a first one has yet to check.
  const pinsFile = path.join(path.dirname(context.registry.pinnedKeysFile), `terminal_known_hosts-${member.address.replace(/[^\w.-]/g, '_')}-${endpoint.port}`);
  await fs.mkdir(path.dirname(pinsFile), { recursive: true });
  await fs.writeFile(pinsFile, knownHostsLines(endpoint, pinned), { mode: 0o600 });
  const args = sshTerminalArgs({ user: login?.user ?? 'root', address: member.address, port: endpoint.port, keyFile: login?.auth === 'key' ? login.keyFile : undefined, knownHostsFiles: [pinsFile, knownHostsFile] });
  const terminal = vscode.window.createTerminal({ name: `ssh ${member.name}`, shellPath: 'ssh', shellArgs: args });
  terminal.show();
  return terminal;
}

export async function runXeCommand(context: CommandContext, node?: XenNode): Promise<void> {
  const { monitor, member } = await resolveHost(context, node, 'Run an xe command on which host?');
  const text = orCancel(
    await ui.current.input({
      title: `xe on ${member.name}`,
      prompt: 'An xe command, e.g. "host-list params=uuid,name-label,address" (no shell syntax)',
      value: 'xe ',
      validate: (value) => {
        try {
          parseUserXeCommand(value);
          return undefined;
        } catch (error) {
          return (error as Error).message;
        }
      },
    }),
  );
  const command = parseUserXeCommand(text);
  if (command.subcommand === 'pool-emergency-transition-to-master') {
    throw new Error(`Use "Promote to Master" on ${member.name}: it checks first that no other host is or may be master, which a typed command cannot.`);
  }
  if (command.changesState && !(await ui.current.confirm(`Run "${command.display}" on ${member.name}?`, 'This command may change the pool.', 'Run'))) return;
  const run = async () => {
    // Probed again right before it runs (a read-only command needs no lock, a state-changing one gets it).
    await monitor.refresh([member.uuid]);
    const status = monitor.status(member.uuid);
    if (command.changesState && status?.health.kind !== 'probed') throw new Error(`${member.name} does not answer now; "${command.display}" was not run.`);
    if (command.forwarding === 'forwarded' && status?.health.kind === 'probed' && status.health.facts.role?.role === 'slave' && status.health.facts.masterPortOpen === false) {
      context.log.warn(`[xe] ${member.name} cannot reach its master: "${command.subcommand}" is forwarded to the master and will hang until the command timeout.`);
    }
    return monitor.runner.xe(member.address)(command);
  };
  const result = command.changesState ? await withPoolLocks(context, monitor, `xe ${command.subcommand} on ${member.name}`, run) : await run();
  await context.documents.open(`${member.name}-${command.subcommand}`, `# ${command.display}   (on ${member.name}, exit ${result.exitCode})\n\n${result.stdout}${result.stderr ? `\n# stderr:\n${result.stderr}` : ''}`);
}
