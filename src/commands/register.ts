import * as vscode from 'vscode';
import { notify, ui } from '../ui';
import { PoolBusyError } from '../core/pool/locks';
import { UnsafeXeValueError } from '../core/xe/validate';
import { PoolNode, type XenNode } from '../tree/nodes';
import { AnswerMemory, type RememberedAnswer } from './answerMemory';
import { NothingChangedError, poolOf, UserCancelledError, type CommandContext } from './context';
import { checkEmergencyMode, forgetHostKey, openSshTerminal, promoteToMaster, recoverSlaves, refreshHost, restartToolstack, runXeCommand } from './host';
import { openAuditLog, showLog } from './log';
import { addPool, addPoolArguments, forgetCredentials, pickPool, refreshAll, refreshPool, removePool, setDefaultSr, showPoolParameters, updateCredentials } from './pool';
import { demoteOldMaster, guidedRecovery } from './recovery';
import { forgetHost, resetPowerState, startVmOn } from './vms';
import { exportIncidentReport } from './incident';
import { designateNewMaster } from './designate';
import { copyAddress, copyUuid, showHostDetails } from './details';

type Handler = (context: CommandContext, node?: XenNode) => unknown;

/** The one place that maps command ids (package.json) to handlers. */
export const COMMANDS: Record<string, Handler> = {
  // The view-title button passes the selected tree row: Add Pool never reads it, it always runs the wizard.
  'xenPools.addPool': (context) => addPool(context),
  // Not in package.json, so not in the palette: Add Pool with its arguments given, for tests and scripts.
  'xenPools.addPoolWithLogin': (context, args) => addPool(context, addPoolArguments(args)),
  'xenPools.removePool': removePool,
  'xenPools.forgetCredentials': forgetCredentials,
  'xenPools.updateCredentials': updateCredentials,
  'xenPools.pickPool': pickPool,
  'xenPools.refresh': refreshAll,
  'xenPools.refreshPool': refreshPool,
  'xenPools.refreshHost': refreshHost,
  'xenPools.checkEmergencyMode': checkEmergencyMode,
  'xenPools.promoteToMaster': promoteToMaster,
  'xenPools.recoverSlaves': recoverSlaves,
  'xenPools.showPoolParameters': showPoolParameters,
  'xenPools.setDefaultSr': setDefaultSr,
  'xenPools.guidedRecovery': guidedRecovery,
  'xenPools.demoteOldMaster': demoteOldMaster,
  'xenPools.restartToolstack': restartToolstack,
  'xenPools.openSshTerminal': openSshTerminal,
  'xenPools.forgetHostKey': forgetHostKey,
  'xenPools.runXeCommand': runXeCommand,
  'xenPools.resetPowerState': resetPowerState,
  'xenPools.startVmOn': startVmOn,
  'xenPools.forgetHost': forgetHost,
  'xenPools.designateNewMaster': designateNewMaster,
  'xenPools.showHostDetails': showHostDetails,
  'xenPools.copyUuid': copyUuid,
  'xenPools.copyAddress': copyAddress,
  'xenPools.exportIncidentReport': exportIncidentReport,
  'xenPools.dismissFailure': (context, node) => {
    const pool = poolOf(node)?.inventory.poolUuid;
    if (pool) context.provider.clearFailure(pool);
  },
  'xenPools.showLog': showLog,
  'xenPools.openAuditLog': openAuditLog,
};

/**
 * Every handler runs inside one error boundary: a failure is logged with its stack and shown as a
 * notification with the actions that help; nothing escapes into the extension host. The handler's
 * result is returned so other code (and the tests) can use it.
 */
export function registerCommands(context: CommandContext): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([id, handler]) => vscode.commands.registerCommand(id, (node?: XenNode) => runCommand(context, id, handler, node)));
}

/** One run of a command; a retry is another run with the answers of this one (Retry keeps the inputs). */
async function runCommand(context: CommandContext, id: string, handler: Handler, node: XenNode | undefined, replay: readonly RememberedAnswer[] = []): Promise<unknown> {
  // A command run on a pool's row leaves its failure as a row of that pool (Container Tools style) until one
  // succeeds there; the palette's commands only notify (which pool they ended on is the handler's business).
  const pool = poolOf(node)?.inventory.poolUuid;
  const answers = new AnswerMemory(() => ui.base, replay);
  try {
    const result = await ui.within(answers, async () => handler(context, node));
    if (pool) context.provider.clearFailure(pool);
    return result;
  } catch (error) {
    if (error instanceof UserCancelledError) return undefined;
    if (pool) context.provider.noteFailure(pool, error instanceof NothingChangedError, error instanceof Error ? error.message : String(error));
    reportFailure(context, id, error, () => runCommand(context, id, handler, node, answers.answers));
    return undefined;
  } finally {
    answers.close();
  }
}

function reportFailure(context: CommandContext, id: string, error: unknown, retry: () => Promise<unknown>): void {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NothingChangedError) {
    context.log.warn(`[${id}] ${message}`);
    const fix = error.fix;
    void notify('warning', message, ...(fix ? [fix.title] : []), 'Show Log').then((choice) => {
      if (choice === 'Show Log') context.log.show(true);
      else if (fix && choice === fix.title) {
        const pool = context.provider.getChildren().find((n) => n instanceof PoolNode && n.monitor.inventory.poolUuid === fix.poolUuid);
        void vscode.commands.executeCommand(fix.command, pool);
      }
    });
    return;
  }
  context.log.error(`[${id}] ${error instanceof Error && error.stack ? error.stack : message}`);
  const actions = error instanceof UnsafeXeValueError || error instanceof PoolBusyError ? ['Show Log'] : ['Show Log', 'Retry', 'Open Settings'];
  void notify('error', message, ...actions).then((choice) => {
    if (choice === 'Show Log') context.log.show(true);
    else if (choice === 'Retry') void retry();
    else if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'xenPools');
  });
}
