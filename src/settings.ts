import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransportSettings } from './core/ssh/transport';

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

export function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('xenPools');
  const seconds = (key: string, fallback: number) => Math.max(0, config.get<number>(key, fallback)) * 1000;
  return {
    transport: {
      connectTimeoutMs: seconds('connectTimeoutSeconds', 5),
      commandTimeoutMs: seconds('commandTimeoutSeconds', 30),
      maxConnections: Math.max(1, config.get<number>('maxConnections', 32)),
    },
    autoRefreshMs: seconds('autoRefreshSeconds', 0),
    knownHostsFile: expandHome(config.get<string>('knownHostsFile', '~/.ssh/known_hosts')),
    readSshConfig: config.get<boolean>('readSshConfig', true),
  };
}
