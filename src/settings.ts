import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransportSettings } from './core/ssh/transport';
import { parseDeclaredPools } from './declaredPools';
import { SETTING_BOUNDS, USER_ONLY_SETTINGS, bounded } from './settingBounds';
import type { StoredPool } from './poolRegistry';

/** The extension's settings (package.json `contributes.configuration`), read fresh each time. */
export interface Settings {
  readonly transport: Partial<TransportSettings>;
  readonly autoRefreshMs: number;
  readonly knownHostsFile: string;
  readonly readSshConfig: boolean;
}

function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? path.join(os.homedir(), file.slice(1)) : file;
}

/** A setting as the user's own settings give it (workspace and folder values ignored), else its default. */
function userValue(config: vscode.WorkspaceConfiguration, key: (typeof USER_ONLY_SETTINGS)[number]): unknown {
  const values = config.inspect<unknown>(key);
  return values?.globalValue ?? values?.defaultValue;
}

let cached: Settings | undefined;
let caching = false;

/**
 * Keeps readSettings' answer until a `xenPools` setting changes: every probe reads its timeouts, and each read
 * inspects the configuration (a thousand probes spent a fifth of a second in it). Registered first in activate, so
 * that every other listener to a change already reads the new values.
 */
export function cacheSettings(): vscode.Disposable {
  caching = true;
  const listener = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('xenPools')) cached = undefined;
  });
  return {
    dispose() {
      caching = false;
      cached = undefined;
      listener.dispose();
    },
  };
}

export function readSettings(): Settings {
  if (cached) return cached;
  const settings = currentSettings();
  if (caching) cached = settings;
  return settings;
}

function currentSettings(): Settings {
  const config = vscode.workspace.getConfiguration('xenPools');
  const value = (key: keyof typeof SETTING_BOUNDS) => bounded(config.get<unknown>(key), SETTING_BOUNDS[key]);
  return {
    transport: {
      connectTimeoutMs: value('connectTimeoutSeconds') * 1000,
      commandTimeoutMs: value('commandTimeoutSeconds') * 1000,
      maxConnections: value('maxConnections'),
    },
    autoRefreshMs: value('autoRefreshSeconds') * 1000,
    knownHostsFile: expandHome(String(userValue(config, 'knownHostsFile') ?? '~/.ssh/known_hosts')),
    readSshConfig: userValue(config, 'readSshConfig') !== false,
  };
}

let lastProblems = '';

/**
 * The valid pools of `xenPools.pools`; the bad entries are skipped, and said once (in the log and a warning) each
 * time the set of problems changes, not on every read.
 */
export function readDeclaredPools(report: (problems: readonly string[]) => void): StoredPool[] {
  const { pools, problems } = parseDeclaredPools(userValue(vscode.workspace.getConfiguration('xenPools'), 'pools'));
  const key = problems.join('\n');
  if (key !== lastProblems) {
    lastProblems = key;
    if (problems.length) report(problems);
  }
  return pools;
}
