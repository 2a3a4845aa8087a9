// The product as the extension-host tests reach it: its API (activated once), its tree, its log, and the scripted
// UI that answers its questions.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { XenPoolsApi } from '../../../src/extension';
import type { XenNode } from '../../../src/tree/nodes';
import type { LabHandle } from './labControl';
import { ScriptedUi } from './scriptedUi';

export const EXTENSION_ID = 'xenserver-pools.xenserver-pools';

let api: XenPoolsApi | undefined;

export async function activateProduct(): Promise<XenPoolsApi> {
  const extension = vscode.extensions.getExtension<XenPoolsApi>(EXTENSION_ID);
  assert.ok(extension);
  api = await extension.activate();
  api.useUserInterface(new ScriptedUi());
  return api;
}

function product(): XenPoolsApi {
  assert.ok(api, 'activateProduct() first');
  return api;
}

/** Runs `body` with every question of the product answered by `scripted`. */
export async function withUi<T>(scripted: ScriptedUi, body: () => Thenable<T> | Promise<T>): Promise<T> {
  product().useUserInterface(scripted);
  try {
    return await body();
  } finally {
    // Between scripted answers every question is refused at once: a background probe that asks after its test
    // ended must not open VS Code's own input box, which nobody answers here and which would hold its secret's
    // question (asked once for all hosts) for the tests after it.
    product().useUserInterface(new ScriptedUi());
  }
}

export function poolNode(name: string): XenNode {
  const node = product().tree.getChildren().find((n) => n.label === name);
  assert.ok(node, `no pool "${name}" in the tree: ${product().tree.getChildren().map((n) => String(n.label)).join(', ')}`);
  return node;
}

/** The host rows of a pool (its other rows: VM groups, messages). */
export function hostNodes(pool: string): XenNode[] {
  return product().tree.getChildren(poolNode(pool)).filter((node) => node.kind === 'host');
}

export function hostNode(pool: string, host: string): XenNode {
  const node = hostNodes(pool).find((n) => n.label === host);
  assert.ok(node, `no host ${host} in ${pool}`);
  return node;
}

/** A row's tooltip as VS Code shows it on hover (the product makes it then: resolveTreeItem). */
export function tooltipOf(node: XenNode | undefined): string {
  assert.ok(node, 'no row');
  const tooltip = product().tree.resolveTreeItem(node, node).tooltip;
  return tooltip instanceof vscode.MarkdownString ? tooltip.value : String(tooltip);
}

export async function refresh(pool: string): Promise<void> {
  await vscode.commands.executeCommand('xenPools.refreshPool', poolNode(pool));
}

export function logText(): string {
  // The product's LogOutputChannel writes to a file in its log folder; the harness finds it next to its own.
  const harness = (globalThis as { xenPoolsTestHarness?: { context: vscode.ExtensionContext } }).xenPoolsTestHarness;
  assert.ok(harness);
  const folder = vscode.Uri.joinPath(harness.context.logUri, '..', EXTENSION_ID);
  const files = readdirSync(folder.fsPath);
  return files.filter((f) => f.endsWith('.log')).map((f) => readFileSync(vscode.Uri.joinPath(folder, f).fsPath, 'utf8')).join('\n');
}

export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type DeclaredLogin = { auth: 'password' } | { auth: 'key'; keyFile: string };

/** Declares the lab's pool in the user's xenPools.pools setting, with every member and its UUID. */
export function declarePool(lab: LabHandle, login: DeclaredLogin): Thenable<void> {
  const pool = { name: lab.poolName, uuid: lab.poolUuid, user: lab.user, ...login, master: lab.hosts[0]?.uuid, members: lab.hosts.map((h) => ({ address: h.address, name: h.name, uuid: h.uuid })) };
  return vscode.workspace.getConfiguration('xenPools').update('pools', [pool], vscode.ConfigurationTarget.Global);
}
