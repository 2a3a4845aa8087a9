import type * as vscode from 'vscode';

/** The test harness extension's context (test/exthost/harness/extension.js puts it on globalThis). */
export function harnessContext(): vscode.ExtensionContext {
  const harness = (globalThis as { xenPoolsTestHarness?: { context: vscode.ExtensionContext } }).xenPoolsTestHarness;
  if (!harness) throw new Error('not running inside the test harness extension (see test/exthost/runInCodeServer.ts)');
  return harness.context;
}
