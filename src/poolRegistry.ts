import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { noSecrets, type AuthMethod } from './core/ssh/auth';
import { HostKeyVerifier, KnownHostsFiles, PinnedHostKeys } from './core/ssh/hostKeys';
import { SshConfigResolver } from './core/ssh/sshConfig';
import { SshTransport } from './core/ssh/transport';
import { HostRunner, type PoolAccess, type XeCallRecord } from './core/pool/hostAccess';
import { PoolLocks } from './core/pool/locks';
import type { PoolInventory } from './core/pool/model';
import { PoolMonitor } from './core/pool/monitor';
import { learntFrom, withLearnt, type LearntFacts } from './declaredPools';
import { readDeclaredPools, readSettings } from './settings';
import { ui } from './ui';

/** How the admin logs in to every host of one pool. Secrets are not here: they live in SecretStorage. */
export interface PoolLogin {
  readonly user: string;
  readonly port?: number;
  readonly auth: 'agent' | 'key' | 'password';
  readonly keyFile?: string;
}

export interface StoredPool {
  readonly inventory: PoolInventory;
  readonly login: PoolLogin;
  /** Declared in settings (xenPools.pools): changed there, not by Add/Remove Pool. */
  readonly declared?: boolean;
}

const STORE_KEY = 'xenPools.pools';
/** What declared pools' probes taught (LearntFacts), by the pool's UUID in the registry. */
const LEARNT_KEY = 'xenPools.learnt';
const passwordKey = (poolUuid: string) => `xenPools.password.${poolUuid}`;
const passphraseKey = (keyFile: string) => `xenPools.passphrase.${keyFile}`;

function startKey(pool: StoredPool): string {
  return JSON.stringify({ login: pool.login, members: pool.inventory.members, master: pool.inventory.masterUuid });
}

function keyFileOf(login: PoolLogin): string {
  return login.keyFile ?? path.join(os.homedir(), '.ssh', 'id_ed25519');
}

function authMethods(login: PoolLogin): AuthMethod[] {
  switch (login.auth) {
    case 'agent':
      return [{ kind: 'agent', socket: process.env.SSH_AUTH_SOCK }];
    case 'key':
      return [{ kind: 'key', file: keyFileOf(login) }];
    case 'password':
      return [{ kind: 'password' }, { kind: 'keyboard-interactive' }];
  }
}

/**
 * The pools the admin added: their remembered inventory and login (globalState), their secrets
 * (SecretStorage), one live PoolMonitor each, and the one SSH transport they share.
 */
export class PoolRegistry implements vscode.Disposable {
  readonly locks = new PoolLocks();
  private readonly monitors = new Map<string, PoolMonitor>();
  private readonly changed = new vscode.EventEmitter<{ poolUuid?: string; hostUuid?: string }>();
  readonly onDidChange = this.changed.event;
  private transportValue: SshTransport | undefined;
  /** Secrets entered by the admin that no login has proven yet (memory only). */
  private readonly unproven = new Map<string, string>();
  private readonly asking = new Map<string, Promise<string | undefined>>();
  /** What each monitor was started with (login and members), to tell when a declared pool's settings changed it. */
  private readonly startedWith = new Map<string, string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly onXeCall: (pool: string, call: XeCallRecord) => void,
    /** Told about entries of xenPools.pools that were skipped, and why. */
    private readonly onSettingsProblems: (problems: readonly string[]) => void = () => undefined,
  ) {
    for (const stored of this.stored()) this.startMonitor(stored);
    context.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('xenPools.pools')) this.syncDeclaredPools();
        else if (e.affectsConfiguration('xenPools')) this.resetTransport();
      }),
    );
  }

  get transport(): SshTransport {
    this.transportValue ??= this.createTransport();
    return this.transportValue;
  }

  pools(): PoolMonitor[] {
    return [...this.monitors.values()];
  }

  monitor(poolUuid: string): PoolMonitor | undefined {
    return this.monitors.get(poolUuid);
  }

  login(poolUuid: string): PoolLogin | undefined {
    return this.stored().find((p) => p.inventory.poolUuid === poolUuid)?.login;
  }

  /**
   * A runner for discovering a pool that is being added: it logs in with `login` and `password` on
   * connections of its own (never one another login opened), so discovery succeeds only if that login
   * works. The caller releases it when discovery is over.
   */
  discoveryRunner(login: PoolLogin, password: string | undefined, address: string): HostRunner {
    const runner = new HostRunner(() => this.transport, this.access(login, { password: async () => password }));
    runner.onXeCall((call) => this.onXeCall(address, call));
    return runner;
  }

  /**
   * Remembers a discovered pool with the login that discovered it (its password in SecretStorage; a
   * password the new login does not use is deleted). A pool that was there already gets a new monitor,
   * so every later command logs in with the new login.
   */
  async add(inventory: PoolInventory, login: PoolLogin, password: string | undefined): Promise<PoolMonitor> {
    const poolUuid = inventory.poolUuid;
    if (login.auth === 'password' && password !== undefined) await this.context.secrets.store(passwordKey(poolUuid), password);
    else await this.context.secrets.delete(passwordKey(poolUuid));
    const stored: StoredPool = { inventory, login };
    await this.save([...this.stored().filter((p) => p.inventory.poolUuid !== poolUuid), stored]);
    this.monitors.get(poolUuid)?.runner.release();
    const monitor = this.startMonitor(stored);
    this.changed.fire({});
    return monitor;
  }

  /** Remembers a rediscovered inventory (members may have changed) without touching the login. */
  async updateInventory(inventory: PoolInventory): Promise<void> {
    await this.save(this.stored().map((p) => (p.inventory.poolUuid === inventory.poolUuid ? { ...p, inventory } : p)));
    this.monitors.get(inventory.poolUuid)?.replaceInventory(inventory);
  }

  /** The host keys the admin trusted on first use (the transport checks against them; Open SSH Terminal too). */
  get pinnedKeysFile(): string {
    return path.join(this.context.globalStorageUri.fsPath, 'host-keys.json');
  }

  isDeclared(poolUuid: string): boolean {
    return this.stored().some((p) => p.inventory.poolUuid === poolUuid && p.declared);
  }

  async remove(poolUuid: string): Promise<void> {
    await this.forgetCredentials(poolUuid);
    await this.save(this.stored().filter((p) => p.inventory.poolUuid !== poolUuid));
    this.monitors.delete(poolUuid);
    this.changed.fire({});
  }

  /**
   * Forgets what this extension stored for a pool's login: its password and the passphrase of its key file (unless
   * another pool logs in with the same key file). Its open connections are closed, so the next command asks again.
   */
  async forgetCredentials(poolUuid: string): Promise<string[]> {
    const login = this.login(poolUuid);
    const keys = [passwordKey(poolUuid)];
    const keyFile = login?.auth === 'key' ? keyFileOf(login) : undefined;
    if (keyFile && !this.stored().some((p) => p.inventory.poolUuid !== poolUuid && p.login.auth === 'key' && keyFileOf(p.login) === keyFile)) keys.push(passphraseKey(keyFile));
    const forgotten: string[] = [];
    for (const key of keys) {
      if ((await this.context.secrets.get(key)) !== undefined || this.unproven.has(key)) forgotten.push(key === passwordKey(poolUuid) ? 'password' : `passphrase of ${keyFile ?? ''}`);
      this.unproven.delete(key);
      await this.context.secrets.delete(key);
    }
    this.monitors.get(poolUuid)?.runner.release();
    return forgotten;
  }

  /**
   * A new password for the pool, tried by the next logins (its connections are closed now): kept in SecretStorage,
   * replacing the old one, only once a login with it worked; a rejected one is dropped and the old one stays.
   */
  offerPassword(poolUuid: string, password: string): void {
    this.unproven.set(passwordKey(poolUuid), password);
    this.monitors.get(poolUuid)?.runner.release();
  }

  dispose(): void {
    this.transportValue?.dispose();
    this.changed.dispose();
  }

  /** Added pools (globalState) first; a declared pool with the same UUID does not replace an added one. */
  private stored(): StoredPool[] {
    const added = this.context.globalState.get<StoredPool[]>(STORE_KEY, []);
    return [...added, ...readDeclaredPools(this.onSettingsProblems).filter((d) => !added.some((a) => a.inventory.poolUuid === d.inventory.poolUuid))];
  }

  private save(pools: StoredPool[]): Thenable<void> {
    return this.context.globalState.update(STORE_KEY, pools.filter((p) => !p.declared));
  }

  private startMonitor(stored: StoredPool): PoolMonitor {
    const poolUuid = stored.inventory.poolUuid;
    const runner = new HostRunner(() => this.transport, this.access(stored.login, { password: () => this.storedPassword(poolUuid) }, poolUuid));
    runner.onXeCall((call) => this.onXeCall(stored.inventory.poolName, call));
    const inventory = stored.declared ? withLearnt(stored.inventory, this.learnt()[poolUuid]) : stored.inventory;
    const monitor = new PoolMonitor(runner, inventory, () => ({ commandTimeoutMs: readSettings().transport.commandTimeoutMs ?? 30_000 }));
    if (stored.declared) monitor.onDidLearn((learnt) => void this.rememberLearnt(poolUuid, learntFrom(learnt)));
    monitor.onDidChange((hostUuid) => this.changed.fire({ poolUuid: stored.inventory.poolUuid, ...(hostUuid ? { hostUuid } : {}) }));
    this.monitors.set(stored.inventory.poolUuid, monitor);
    this.startedWith.set(poolUuid, startKey(stored));
    return monitor;
  }

  private learnt(): Record<string, LearntFacts> {
    return this.context.globalState.get<Record<string, LearntFacts>>(LEARNT_KEY, {});
  }

  private rememberLearnt(poolUuid: string, facts: LearntFacts | undefined): Thenable<void> {
    const learnt = { ...this.learnt() };
    if (facts) learnt[poolUuid] = facts;
    else delete learnt[poolUuid];
    return this.context.globalState.update(LEARNT_KEY, learnt);
  }

  /** Declared pools follow their settings at once: new ones start, removed ones go, a changed login or member list restarts its monitor. */
  private syncDeclaredPools(): void {
    const stored = this.stored();
    for (const uuid of [...this.monitors.keys()]) {
      if (stored.some((p) => p.inventory.poolUuid === uuid)) continue;
      this.monitors.delete(uuid);
      void this.rememberLearnt(uuid, undefined);
    }
    for (const pool of stored) {
      const running = this.monitors.get(pool.inventory.poolUuid);
      if (running && (!pool.declared || this.startedWith.get(pool.inventory.poolUuid) === startKey(pool))) continue;
      running?.runner.release();
      // In the background (paced): a settings edit may declare a thousand hosts.
      void this.startMonitor(pool).refresh(undefined, { background: true });
    }
    this.changed.fire({});
  }

  private resetTransport(): void {
    // Running commands finish on the old transport's connections (closed as each goes idle); new ones use the new settings.
    this.transportValue?.retire();
    this.transportValue = undefined;
  }

  /** How a pool's runner logs in: its auth methods, its password source, passphrases from SecretStorage. */
  private access(login: PoolLogin, passwords: { password: () => Promise<string | undefined> }, poolUuid?: string): PoolAccess {
    return {
      user: login.user,
      ...(login.port ? { port: login.port } : {}),
      auth: authMethods(login),
      secrets: {
        password: passwords.password,
        passphrase: (keyFile) => this.passphrase(keyFile),
        settled: (use, value, accepted) => void this.settle(use.kind === 'passphrase' ? passphraseKey(use.keyFile) : passwordKey(poolUuid ?? ''), value, accepted),
      },
    };
  }

  /** A pool declared in settings has no password until the admin enters one: asked for when a login needs it. */
  private storedPassword(poolUuid: string): Promise<string | undefined> {
    const prompt = this.isDeclared(poolUuid) ? `Password for the hosts of ${this.monitor(poolUuid)?.inventory.poolName ?? poolUuid}` : undefined;
    return this.secret(passwordKey(poolUuid), prompt);
  }

  private passphrase(keyFile: string): Promise<string | undefined> {
    return this.secret(passphraseKey(keyFile), `Passphrase for ${keyFile}`);
  }

  /**
   * One entered but not yet proven by a login, else a stored secret, else (with a prompt) asks: once, however many
   * connections need it at the same moment. What the admin enters stays in memory until a login with it worked
   * (`settled`), and only then goes to SecretStorage; a rejected one is dropped and asked for again next time.
   */
  private async secret(key: string, prompt: string | undefined): Promise<string | undefined> {
    // One just entered comes first: it may be meant to replace the stored one (Update Credentials).
    const offered = this.unproven.get(key);
    if (offered !== undefined) return offered;
    const stored = await this.context.secrets.get(key);
    if (stored !== undefined) return stored;
    const unproven = this.unproven.get(key);
    if (unproven !== undefined || prompt === undefined) return unproven;
    let asking = this.asking.get(key);
    if (!asking) {
      asking = ui.current.input({ title: 'XenServer Pools', prompt, password: true }).finally(() => this.asking.delete(key));
      this.asking.set(key, asking);
    }
    const entered = await asking;
    if (entered !== undefined) this.unproven.set(key, entered);
    return entered;
  }

  private async settle(key: string, value: string, accepted: boolean): Promise<void> {
    // Only what was entered and not yet proven: a stored secret a single host rejects (its password differs) stays.
    if (this.unproven.get(key) !== value) return;
    // Stored before it leaves memory: a login that asks in between finds it in one place or the other.
    if (accepted) await this.context.secrets.store(key, value);
    if (this.unproven.get(key) === value) this.unproven.delete(key);
  }

  /**
   * Forgets the host key XenServer Pools pinned for a member (trust on first use) and closes the pool's
   * connections, so the next connection shows the host's new key for the admin to compare and trust. A key that
   * comes from a known_hosts file is not ours to remove: that file is named instead.
   */
  async forgetHostKey(monitor: PoolMonitor, address: string): Promise<{ forgotten: number; knownHostsFile?: string }> {
    const login = this.login(monitor.inventory.poolUuid);
    // Through the transport's own verifier: the store it checks keys against sees the change at once (no stale cache).
    const result = await this.transport.forgetHostKey({ host: address, ...(login?.port ? { port: login.port } : {}), ...(login ? { user: login.user } : {}) });
    monitor.runner.release();
    return result;
  }

  private createTransport(): SshTransport {
    const settings = readSettings();
    const verifier = new HostKeyVerifier(
      new KnownHostsFiles([settings.knownHostsFile]),
      new PinnedHostKeys(this.pinnedKeysFile),
      ({ endpoint, keyType, fingerprint }) =>
        ui.current.confirm(
          `Trust the SSH host key of ${endpoint.host}?`,
          `The authenticity of host ${endpoint.host}:${endpoint.port} cannot be established: it is not in ${settings.knownHostsFile} and was not trusted before.\n\n` +
            `${keyType} key fingerprint:\n${fingerprint}\n\nCompare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_${keyType.replace(/^ssh-/, '').replace(/-.*/, '')}_key.pub on its console) before trusting it.`,
          'Trust and Connect',
        ),
    );
    return new SshTransport({
      resolver: new SshConfigResolver(settings.readSshConfig ? undefined : '', 'root'),
      verifier,
      // Every runner brings its pool's own login; a request without one gets no secrets.
      secrets: noSecrets,
      authMethods: () => [],
      settings: settings.transport,
    });
  }
}
