import * as vscode from 'vscode';
import { createLog } from './log';
import { PoolsProvider } from './tree/PoolsProvider';

export function activate(context: vscode.ExtensionContext): void {
  const log = createLog();
  context.subscriptions.push(log);
  try {
    const provider = new PoolsProvider();
    const view = vscode.window.createTreeView('xenPools.pools', { treeDataProvider: provider, showCollapseAll: true });
    context.subscriptions.push(
      provider,
      view,
      vscode.commands.registerCommand('xenPools.showLog', () => log.show(true)),
    );
    log.info(`XenServer Pools ${String(context.extension.packageJSON.version)} activated`);
  } catch (error) {
    // VS Code does not tell the user when activate() throws; say it, then rethrow so the host records it.
    log.error(error instanceof Error ? error : String(error));
    void vscode.window.showErrorMessage(vscode.l10n.t('XenServer Pools failed to start: {0}', String(error)));
    throw error;
  }
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
