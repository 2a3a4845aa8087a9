import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { notify } from '../ui';
import type { CommandContext } from './context';

export function showLog(context: CommandContext): void {
  context.log.show(true);
}

export async function openAuditLog(context: CommandContext): Promise<void> {
  await context.recorder.flushed();
  if (!existsSync(context.recorder.auditFile)) {
    void notify('info', 'The audit trail is empty: no state-changing command has run yet.');
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(context.recorder.auditFile), { preview: false });
}
