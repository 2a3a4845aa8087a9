import * as vscode from 'vscode';
import { discoverPool } from '../core/pool/discovery';
import { isHostAddress } from '../core/xe/validate';
import { xeOperations } from '../core/xe/operations';
import type { PoolLogin } from '../poolRegistry';
import type { XenNode } from '../tree/nodes';
import { ui } from '../ui';
import { orCancel, reachableMaster, resolvePool, type CommandContext } from './context';

/** Arguments for Add Pool when it is called by another command or a test instead of a person. */
export interface AddPoolArguments {
  readonly address: string;
  readonly user?: string;
  readonly port?: number;
  readonly auth: PoolLogin['auth'];
  readonly keyFile?: string;
  readonly password?: string;
}

async function askAddPool(): Promise<AddPoolArguments> {
  const address = orCancel(
    await ui.current.input({
      title: 'Add Pool (1/3)',
      prompt: 'Address of any host of the pool (IP or DNS name, or a Host alias from ~/.ssh/config). The members are discovered from it.',
      validate: (value) => (isHostAddress(value.trim()) ? undefined : 'Enter an IPv4/IPv6 address or a host name'),
    }),
  ).trim();
  const user = orCancel(await ui.current.input({ title: 'Add Pool (2/3)', prompt: 'SSH user on the hosts (XenServer: root)', value: 'root', validate: (v) => (/^[a-z_][a-z0-9_.-]*$/i.test(v) ? undefined : 'Not a user name') }));
  const auth = orCancel(
    await ui.current.pick<PoolLogin['auth']>(
      [
        { label: '$(key) Private key file', description: 'e.g. ~/.ssh/id_ed25519', value: 'key' },
        { label: '$(lock) Password', description: 'kept in VS Code SecretStorage', value: 'password' },
        { label: '$(server-process) ssh-agent', description: process.env.SSH_AUTH_SOCK ? 'SSH_AUTH_SOCK is set' : 'SSH_AUTH_SOCK is not set here', value: 'agent' },
      ],
      { title: 'Add Pool (3/3): how to log in' },
    ),
  );
  if (auth === 'key') {
    const keyFile = orCancel(await ui.current.input({ title: 'Add Pool: key file', prompt: 'Private key file', value: '~/.ssh/id_ed25519' }));
    return { address, user, auth, keyFile: keyFile.replace(/^~(?=\/)/, process.env.HOME ?? '~') };
  }
  if (auth === 'password') {
    const password = orCancel(await ui.current.input({ title: 'Add Pool: password', prompt: `Password of ${user}@${address}`, password: true }));
    return { address, user, auth, password };
  }
  return { address, user, auth };
}

export async function addPool(context: CommandContext, args?: AddPoolArguments): Promise<void> {
  const request = args ?? (await askAddPool());
  const login: PoolLogin = { user: request.user ?? 'root', auth: request.auth, ...(request.port ? { port: request.port } : {}), ...(request.keyFile ? { keyFile: request.keyFile } : {}) };
  let inventory;
  try {
    inventory = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Discovering the pool through ${request.address}…` },
      () => discoverPool(context.registry.pendingRunner(request.address, login, request.password), request.address),
    );
  } catch (error) {
    context.registry.forgetPending(request.address);
    throw error;
  }
  const monitor = await context.registry.add(inventory, login, request.address);
  context.log.info(`[pool] added ${inventory.poolName} (${inventory.poolUuid}): ${inventory.members.map((m) => `${m.name} ${m.address}`).join(', ')}`);
  void vscode.window.showInformationMessage(`Added pool ${inventory.poolName} with ${inventory.members.length} hosts.`);
  await monitor.refresh();
}

export async function removePool(context: CommandContext, node?: XenNode): Promise<void> {
  const monitor = await resolvePool(context, node);
  const name = monitor.inventory.poolName;
  if (context.registry.isDeclared(monitor.inventory.poolUuid)) {
    throw new Error(`${name} is declared in the xenPools.pools setting: remove it there.`);
  }
  const confirmed = await ui.current.confirm(`Remove pool ${name} from the view?`, 'The remembered members and the stored password are deleted. Nothing changes on the hosts.', 'Remove');
  if (!confirmed) return;
  await context.registry.remove(monitor.inventory.poolUuid);
  context.log.info(`[pool] removed ${name}`);
}

export async function refreshAll(context: CommandContext): Promise<void> {
  await Promise.all(context.registry.pools().map((monitor) => monitor.refresh()));
}

export async function refreshPool(context: CommandContext, node?: XenNode): Promise<void> {
  await (await resolvePool(context, node)).refresh();
}

export async function showPoolParameters(context: CommandContext, node?: XenNode): Promise<void> {
  const monitor = await resolvePool(context, node);
  const master = reachableMaster(monitor);
  const run = monitor.runner.xe(master.address);
  const { record, text } = await xeOperations.poolParameters(run, monitor.inventory.poolUuid);
  const defaultSr = record.ref('default-SR');
  const srName = defaultSr ? (await xeOperations.srs(run)).find((sr) => sr.uuid === defaultSr)?.name : undefined;
  context.log.info(`[pool] ${monitor.inventory.poolName}: default-SR ${defaultSr ?? '<not in database>'}${srName ? ` (${srName})` : ''}`);
  const header = `# xe pool-param-list uuid=${monitor.inventory.poolUuid}   (on ${master.name}, ${new Date().toLocaleString()})\n# default-SR: ${defaultSr ?? '<not in database>'}${srName ? ` = "${srName}"` : ''}\n\n`;
  await context.documents.open(`${monitor.inventory.poolName}-pool-parameters`, header + text, /^\s*default-SR \( RW\):/);
}

export async function setDefaultSr(context: CommandContext, node?: XenNode): Promise<void> {
  const monitor = await resolvePool(context, node);
  const master = reachableMaster(monitor);
  const run = monitor.runner.xe(master.address);
  const [current, srs, pbds] = [await xeOperations.defaultSr(run, monitor.inventory.poolUuid), await xeOperations.srs(run), await xeOperations.pbds(run)];
  const candidates = srs
    .filter((sr) => sr.contentType !== 'iso')
    .sort((a, b) => Number(b.shared) - Number(a.shared) || a.name.localeCompare(b.name));
  const sr = orCancel(
    await ui.current.pick(
      candidates.map((s) => {
        const plugged = pbds.some((p) => p.srUuid === s.uuid && p.hostUuid === master.uuid && p.attached);
        return {
          label: `${s.uuid === current ? '$(check) ' : ''}${s.name}`,
          description: `${s.shared ? 'shared' : 'local'} · ${s.type}${plugged ? '' : ' · not plugged on the master'}`,
          detail: s.uuid,
          value: s,
        };
      }),
      { title: `Default SR of ${monitor.inventory.poolName}`, placeHolder: 'Shared SRs first: a local SR is lost with its host' },
    ),
  );
  if (sr.uuid === current) return;
  await xeOperations.setDefaultSr(run, monitor.inventory.poolUuid, sr.uuid);
  context.log.info(`[pool] ${monitor.inventory.poolName}: default-SR set to ${sr.uuid} (${sr.name})`);
  void vscode.window.showInformationMessage(`Default SR of ${monitor.inventory.poolName} is now "${sr.name}".`);
}
