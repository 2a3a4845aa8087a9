import * as vscode from 'vscode';
import { CallRecorder } from './audit';
import { registerCommands } from './commands/register';
import type { CommandContext } from './commands/context';
import { HealthWatch } from './health/watch';
import { createLog } from './log';
import { PoolRegistry } from './poolRegistry';
import { ReadOnlyDocuments } from './readOnlyDocuments';
import { PoolsProvider } from './tree/PoolsProvider';
import { cacheSettings } from './settings';
import { notify, ui, type UserInterface, vscodeUserInterface } from './ui';

/** What activate() returns: the extension-host tests script the UI and reach the state through it. */
export interface XenPoolsApi {
  readonly registry: PoolRegistry;
  readonly recorder: CallRecorder;
  readonly tree: PoolsProvider;
  readonly health: HealthWatch;
  useUserInterface(replacement: UserInterface | undefined): void;
  /** Everything the extension keeps in globalState, as JSON: what the canary-secret test reads. */
  storedStateText(): string;
}

/** Set by the first line of the esbuild bundle (see esbuild.mjs); absent when running unbundled. */
declare const __xenPoolsBundleStart: number | undefined;
/** When evaluating the bundle began, and when it reached this module (ssh2 is a file of its own, loaded on first connect). */
const bundleStartedAt = typeof __xenPoolsBundleStart === 'number' ? __xenPoolsBundleStart : undefined;
const loadedAt = performance.now();

export function activate(context: vscode.ExtensionContext): XenPoolsApi {
  const activateCalledAt = performance.now();
  // First, so that every other listener to a settings change reads the new values.
  context.subscriptions.push(cacheSettings());
  const log = createLog();
  context.subscriptions.push(log);
  try {
    const recorder = new CallRecorder(log, context.globalStorageUri);
    const registry = new PoolRegistry(
      context,
      (pool, call) => recorder.record(pool, call),
      (problems) => {
        for (const problem of problems) log.warn(`[settings] ${problem}`);
        void notify('warning', `${problems.length === 1 ? problems[0] ?? '' : `${problems.length} entries of xenPools.pools are skipped (see the log): ${problems[0] ?? ''}`}`, 'Open Settings').then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.action.openSettingsJson');
        });
      },
    );
    const provider = new PoolsProvider(registry);
    const documents = new ReadOnlyDocuments();
    const view = vscode.window.createTreeView('xenPools.pools', { treeDataProvider: provider, showCollapseAll: true });
    const commandContext: CommandContext = { registry, recorder, log, provider, documents, view };
    context.subscriptions.push(registry, provider, documents, view, ...registerCommands(commandContext));
    const health = new HealthWatch(commandContext, view);
    context.subscriptions.push(health);
    // The first probe runs in the background, started after activate() has returned: activation
    // never waits for a host, nor for starting a thousand probes. Paced (RunOptions.paced): all
    // at once, a thousand hosts kept the extension host busy for half a minute, the view waiting.
    setImmediate(() => void Promise.all(registry.pools().map((monitor) => monitor.refresh(undefined, { background: true }))).catch((error: Error) => log.error(error)));
    const now = performance.now();
    log.info(
      `XenServer Pools ${String(context.extension.packageJSON.version)} activated with ${registry.pools().length} pool(s) ` +
        `in ${(now - activateCalledAt).toFixed(1)} ms (evaluating the bundle took ${bundleStartedAt === undefined ? '?' : (loadedAt - bundleStartedAt).toFixed(1)} ms, ` +
        `then ${(activateCalledAt - loadedAt).toFixed(1)} ms until VS Code called activate())`,
    );
    return {
      registry,
      recorder,
      tree: provider,
      health,
      useUserInterface: (replacement) => (ui.current = replacement ?? vscodeUserInterface),
      storedStateText: () => JSON.stringify(Object.fromEntries(context.globalState.keys().map((key) => [key, context.globalState.get(key)]))),
    };
  } catch (error) {
    // VS Code does not tell the user when activate() throws; say it, then rethrow so the host records it.
    log.error(error instanceof Error ? error : String(error));
    void notify('error', vscode.l10n.t('XenServer Pools failed to start: {0}', String(error)));
    throw error;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
