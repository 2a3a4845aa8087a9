import * as vscode from 'vscode';
import { logText } from './core/visibleText';

/** The one "XenServer Pools" log channel; users pick the level in the Output view. */
let channel: vscode.LogOutputChannel | undefined;

/** The channel's methods that take a message; each message passes through logText (names come from the hosts). */
const WRITERS: ReadonlySet<PropertyKey> = new Set(['trace', 'debug', 'info', 'warn', 'error', 'append', 'appendLine', 'replace']);

export function createLog(): vscode.LogOutputChannel {
  channel ??= entriesShownAsText(vscode.window.createOutputChannel('XenServer Pools', { log: true }));
  return channel;
}

export function log(): vscode.LogOutputChannel {
  if (!channel) throw new Error('log channel used before activate()');
  return channel;
}

/** The channel, with every string message made safe to show (see logText); an Error keeps its own formatting. */
function entriesShownAsText(raw: vscode.LogOutputChannel): vscode.LogOutputChannel {
  return new Proxy(raw, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (!WRITERS.has(property)) return value.bind(target);
      return (message: unknown, ...rest: unknown[]) => value.call(target, typeof message === 'string' ? logText(message) : message, ...rest);
    },
  });
}
