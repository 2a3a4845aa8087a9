import * as vscode from 'vscode';

/** The one "XenServer Pools" log channel; users pick the level in the Output view. */
let channel: vscode.LogOutputChannel | undefined;

export function createLog(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('XenServer Pools', { log: true });
  return channel;
}

export function log(): vscode.LogOutputChannel {
  if (!channel) throw new Error('log channel used before activate()');
  return channel;
}
