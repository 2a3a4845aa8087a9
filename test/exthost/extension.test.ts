// Runs inside code-server's extension host (Node 24, VS Code 1.139), loaded by the harness extension:
// `vscode` here is the real API, and the product is the .vsix that `npm run package` built.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { harnessContext } from './harnessContext';

const EXTENSION_ID = 'xenserver-pools.xenserver-pools';
const repoPackageJson = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };

interface Manifest {
  version: string;
  contributes: { commands: { command: string }[] };
}

describe('the XenServer Pools extension in a real extension host', () => {
  let extension: vscode.Extension<unknown>;

  before(async () => {
    const found = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(found, `${EXTENSION_ID} is not installed; installed: ${vscode.extensions.all.map((e) => e.id).join(', ')}`);
    extension = found;
    await extension.activate();
  });

  it(`is installed from this repo's .vsix (version ${repoPackageJson.version}) and activates`, () => {
    assert.equal((extension.packageJSON as Manifest).version, repoPackageJson.version);
    assert.equal(extension.isActive, true);
  });

  it('registers every command its package.json declares', async () => {
    const declared = (extension.packageJSON as Manifest).contributes.commands.map((c) => c.command);
    assert.ok(declared.length > 0, 'the manifest declares no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(declared.filter((command) => !registered.has(command)), []);
  });

  it('contributes the XenServer Pools container and its Pools view, which open', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const command of ['workbench.view.extension.xenPools', 'xenPools.pools.focus']) {
      assert.ok(registered.has(command), `${command} is not registered: the view (container) is missing`);
    }
    await vscode.commands.executeCommand('workbench.view.extension.xenPools');
    await vscode.commands.executeCommand('xenPools.pools.focus');
  });

  it('writes its "XenServer Pools" log channel, and Show Log runs', async () => {
    // Each extension's LogOutputChannel is a file in its own folder beside the harness's log folder.
    const logFile = path.join(path.dirname(harnessContext().logUri.fsPath), EXTENSION_ID, 'XenServer Pools.log');
    let text = '';
    for (let i = 0; i < 40 && !text.includes('activated'); i++) {
      if (existsSync(logFile)) text = readFileSync(logFile, 'utf8');
      if (!text.includes('activated')) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.match(text, new RegExp(`XenServer Pools ${repoPackageJson.version.replace(/\./g, '\\.')} activated`), `${logFile}: ${text || 'missing'}`);
    await vscode.commands.executeCommand('xenPools.showLog');
  });
});
