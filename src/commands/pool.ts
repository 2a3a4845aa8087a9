import * as vscode from 'vscode';
import { discoverPool } from '../core/pool/discovery';
import { hostAddressProblem, isHostAddress, unbracketedAddress } from '../core/xe/validate';
import { xeOperations } from '../core/xe/operations';
import type { PoolLogin } from '../poolRegistry';
import { PoolNode, type XenNode } from '../tree/nodes';
import type { PoolMonitor } from '../core/pool/monitor';
import { BACK, type Back, notify, ui } from '../ui';
import { NothingChangedError, orCancel, reachableMaster, resolvePool, UserCancelledError, withPoolLocks, type CommandContext } from './context';

/**
 * Add Pool's programmatic form (the `xenPools.addPoolWithLogin` command, for tests and scripts; the
 * view-title button and the palette always run the wizard).
 */
export interface AddPoolArguments {
  readonly address: string;
  readonly user?: string;
  readonly port?: number;
  readonly auth: PoolLogin['auth'];
  readonly keyFile?: string;
  readonly password?: string;
}

const AUTH_KINDS: readonly PoolLogin['auth'][] = ['key', 'password', 'agent'];

/** Checks what a caller passed as AddPoolArguments: a tree node or a half-filled object is refused with a clear message. */
export function addPoolArguments(value: unknown): AddPoolArguments {
  const args = value as Partial<AddPoolArguments> | undefined;
  const problems = [
    typeof args?.address === 'string' && isHostAddress(args.address) ? '' : 'address (a host name or IP address)',
    AUTH_KINDS.includes(args?.auth as PoolLogin['auth']) ? '' : `auth (${AUTH_KINDS.join(', ')})`,
    args?.user === undefined || typeof args.user === 'string' ? '' : 'user (a string)',
    args?.port === undefined || (Number.isInteger(args.port) && args.port > 0 && args.port < 65536) ? '' : 'port (1-65535)',
  ].filter(Boolean);
  if (problems.length) throw new Error(`xenPools.addPoolWithLogin needs { address, auth, user?, port?, keyFile?, password? }; wrong or missing: ${problems.join(', ')}.`);
  return args as AddPoolArguments;
}

const USER_NAME = /^[a-z_][a-z0-9_.-]*$/i;

/**
 * The Add Pool wizard: address, user, how to log in, then the key file or password (none for
 * ssh-agent). Every step after the first has a Back button; the step count follows the choice.
 */
async function askAddPool(): Promise<AddPoolArguments> {
  const title = 'Add Pool';
  let address = '';
  let user = 'root';
  let auth: PoolLogin['auth'] = 'key';
  const keyFile = '~/.ssh/id_ed25519';
  const totalSteps = () => (auth === 'agent' ? 3 : 4);
  let step = 1;
  for (;;) {
    const where = { title, step, totalSteps: totalSteps() };
    let answer: string | PoolLogin['auth'] | Back | undefined;
    if (step === 1) {
      answer = await ui.current.stepInput({
        ...where,
        prompt: 'Address of any host of the pool (IP or DNS name, or a Host alias from ~/.ssh/config). The members are discovered from it.',
        value: address,
        validate: hostAddressProblem,
      });
      if (typeof answer === 'string') address = unbracketedAddress(answer);
    } else if (step === 2) {
      answer = await ui.current.stepInput({ ...where, prompt: 'SSH user on the hosts (XenServer: root)', value: user, validate: (v) => (USER_NAME.test(v) ? undefined : 'Not a user name') });
      if (typeof answer === 'string') user = answer;
    } else if (step === 3) {
      answer = await ui.current.stepPick<PoolLogin['auth']>(
        [
          { label: '$(key) Private key file', description: 'e.g. ~/.ssh/id_ed25519', value: 'key', picked: auth === 'key' },
          { label: '$(lock) Password', description: 'kept in VS Code SecretStorage once it worked', value: 'password', picked: auth === 'password' },
          { label: '$(server-process) ssh-agent', description: process.env.SSH_AUTH_SOCK ? 'SSH_AUTH_SOCK is set' : 'SSH_AUTH_SOCK is not set here', value: 'agent', picked: auth === 'agent' },
        ],
        { ...where, placeHolder: `How does ${user} log in to ${address}?` },
      );
      if (answer !== undefined && answer !== BACK) auth = answer as PoolLogin['auth'];
      if (answer === 'agent') return { address, user, auth };
    } else if (auth === 'key') {
      answer = await ui.current.stepInput({ ...where, prompt: 'Private key file', value: keyFile, validate: (v) => (v.trim() ? undefined : 'Enter the path of a private key file') });
      if (typeof answer === 'string') return { address, user, auth, keyFile: answer.trim().replace(/^~(?=\/)/, process.env.HOME ?? '~') };
    } else {
      answer = await ui.current.stepInput({ ...where, prompt: `Password of ${user}@${address}`, password: true });
      if (typeof answer === 'string') return { address, user, auth, password: answer };
    }
    if (answer === undefined) throw new UserCancelledError();
    step = answer === BACK ? step - 1 : step + 1;
  }
}

/** The pool a host address belongs to, if it is added already (to say whose login stays when discovery fails). */
function poolOfAddress(context: CommandContext, address: string): PoolMonitor | undefined {
  return context.registry.pools().find((monitor) => monitor.inventory.members.some((m) => m.address === address));
}

/**
 * Adds a pool: discovers it with the login given, on connections of that login alone, and keeps
 * the login (and its password) only once discovery has logged in with it. A pool that is added
 * already keeps its login unless the admin chooses to replace it with the new one that worked.
 */
export async function addPool(context: CommandContext, args?: AddPoolArguments): Promise<void> {
  const request = args ?? (await askAddPool());
  const login: PoolLogin = { user: request.user ?? 'root', auth: request.auth, ...(request.port ? { port: request.port } : {}), ...(request.keyFile ? { keyFile: request.keyFile } : {}) };
  const runner = context.registry.discoveryRunner(login, request.password, request.address);
  let inventory;
  try {
    inventory = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Discovering the pool through ${request.address}…` },
      () => discoverPool(runner, request.address),
    );
  } catch (error) {
    const known = poolOfAddress(context, request.address);
    if (known && error instanceof Error) error.message += ` ${known.inventory.poolName} keeps its current login.`;
    throw error;
  } finally {
    runner.release();
  }
  const existing = context.registry.monitor(inventory.poolUuid);
  if (existing) {
    const name = inventory.poolName;
    if (context.registry.isDeclared(inventory.poolUuid)) {
      void notify('info', `${name} is already added (declared in the xenPools.pools setting); its login is changed there.`);
      return;
    }
    const replace = await ui.current.confirm(
      `${name} is already added. Replace its login?`,
      `The new login (${login.user}, ${describeAuth(login)}) worked on ${request.address}. Without replacing, ${name} keeps the login it has.`,
      'Replace Login',
    );
    if (!replace) {
      void notify('info', `${name} is already added; it keeps its login.`);
      return;
    }
  }
  // Replacing a login closes the pool's connections: never under a running recovery step, whose outcome would be lost.
  const monitor = existing
    ? await context.registry.locks.withLock(inventory, 'Replace Login', () => context.registry.add(inventory, login, request.password))
    : await context.registry.add(inventory, login, request.password);
  context.log.info(`[pool] ${existing ? 'replaced the login of' : 'added'} ${inventory.poolName} (${inventory.poolUuid}): ${inventory.members.map((m) => `${m.name} ${m.address}`).join(', ')}`);
  if (inventory.hostStatsUnread) context.log.warn(`[pool] ${inventory.poolName}: the hosts' VMs and storage could not be read (${inventory.hostStatsUnread}); a recovery plan then ranks the candidates without them`);
  void notify('info', existing ? `${inventory.poolName} now logs in as ${login.user} (${describeAuth(login)}).` : `Added pool ${inventory.poolName} with ${inventory.members.length} hosts.`);
  await monitor.refresh();
}

function describeAuth(login: PoolLogin): string {
  return login.auth === 'key' ? `key ${login.keyFile ?? '~/.ssh/id_ed25519'}` : login.auth === 'password' ? 'password' : 'ssh-agent';
}

export async function removePool(context: CommandContext, node?: XenNode): Promise<void> {
  const monitor = await resolvePool(context, node);
  const name = monitor.inventory.poolName;
  if (context.registry.isDeclared(monitor.inventory.poolUuid)) {
    throw new NothingChangedError(`${name} is declared in the xenPools.pools setting: remove it there.`);
  }
  const confirmed = await ui.current.confirm(`Remove pool ${name} from the view?`, 'The remembered members, the stored password and the passphrase of its key file are deleted. Nothing changes on the hosts.', 'Remove');
  if (!confirmed) return;
  // Removing closes the pool's connections: never under a running recovery step, whose outcome would be lost.
  await context.registry.locks.withLock(monitor.inventory, 'Remove Pool', () => context.registry.remove(monitor.inventory.poolUuid));
  context.log.info(`[pool] removed ${name}`);
}

/** Forgets the pool's stored password and key passphrase (added and declared pools alike); the next login asks again. */
export async function forgetCredentials(context: CommandContext, node?: XenNode): Promise<string[]> {
  const monitor = await resolvePool(context, node);
  const name = monitor.inventory.poolName;
  const forgotten = await context.registry.forgetCredentials(monitor.inventory.poolUuid);
  const what = forgotten.length ? forgotten.join(' and ') : 'nothing (no password or passphrase was stored)';
  context.log.info(`[pool] ${name}: forgot ${what}`);
  void notify('info', `${name}: forgot ${what}. The next login asks again.`);
  return forgotten;
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
  await withPoolLocks(context, monitor, `Set default SR of ${monitor.inventory.poolName}`, async () => {
    // Re-checked under the lock (withPoolLocks probed the pool): still one running master, the same one.
    const now = reachableMaster(monitor);
    if (now.uuid !== master.uuid) throw new Error(`${monitor.inventory.poolName}'s master is ${now.name} now, not ${master.name}: nothing was changed; try again.`);
    await xeOperations.setDefaultSr(monitor.runner.xe(now.address), monitor.inventory.poolUuid, sr.uuid);
  });
  context.log.info(`[pool] ${monitor.inventory.poolName}: default-SR set to ${sr.uuid} (${sr.name})`);
  void notify('info', `Default SR of ${monitor.inventory.poolName} is now "${sr.name}".`);
}

/** The status bar's click: a pool (with its state) to show in the tree, selected and expanded. */
export async function pickPool(context: CommandContext, node?: XenNode): Promise<PoolMonitor> {
  const monitor = await resolvePool(context, node);
  const poolNode = context.provider.getChildren().find((n) => n instanceof PoolNode && n.monitor === monitor);
  if (poolNode) await context.view.reveal(poolNode, { select: true, focus: true, expand: true });
  return monitor;
}

/**
 * For hosts that refuse the pool's login ("login failed"): a password login takes a new password, tried on new
 * connections and kept only once it worked; a key or agent login is replaced through the Add Pool wizard (declared
 * pools are changed in their settings).
 */
export async function updateCredentials(context: CommandContext, node?: XenNode): Promise<void> {
  const monitor = await resolvePool(context, node);
  const { poolUuid, poolName } = monitor.inventory;
  const login = context.registry.login(poolUuid);
  if (login?.auth !== 'password') {
    if (context.registry.isDeclared(poolUuid)) throw new Error(`${poolName} is declared in the xenPools.pools setting and logs in with ${login ? describeAuth(login) : 'its default keys'}: change user, keyFile or auth there.`);
    return addPool(context);
  }
  const password = orCancel(await ui.current.input({ title: `Update Credentials of ${poolName}`, prompt: `New password of ${login.user} on the hosts of ${poolName}`, password: true }));
  context.registry.offerPassword(poolUuid, password);
  await monitor.refresh();
  const refused = monitor.allStatuses().filter((s) => s.health.kind === 'unreachable' && s.health.failure === 'auth');
  context.log.info(`[pool] ${poolName}: new password tried; ${refused.length ? `still refused by ${refused.map((s) => s.member.name).join(', ')}` : 'accepted'}`);
  if (refused.length) throw new Error(`The new password was refused by ${refused.map((s) => s.member.name).join(', ')}; the one stored before stays.`);
  void notify('info', `${poolName}: the new password works; it is kept in SecretStorage.`);
}
