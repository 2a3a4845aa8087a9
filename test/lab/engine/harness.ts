/* Builds the product's engine (src/core) against a running lab, the way the extension will. */
import { mkdtempSync, rmSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { AuthMethod, SshSecrets } from '../../../src/core/ssh/auth';
import { HostKeyVerifier, KnownHostsFiles, PinnedHostKeys, type ConfirmUnknownHostKey } from '../../../src/core/ssh/hostKeys';
import { SshConfigResolver } from '../../../src/core/ssh/sshConfig';
import { SshTransport, type TransportSettings } from '../../../src/core/ssh/transport';
import { HostRunner } from '../../../src/core/pool/hostAccess';
import { Lab, type LabOptions } from '../lab';

export interface EngineOptions {
  readonly settings?: Partial<TransportSettings>;
  readonly authMethods?: readonly AuthMethod[];
  readonly secrets?: Partial<SshSecrets>;
  /** known_hosts files; default: the lab's, so every host key is known. */
  readonly knownHosts?: readonly string[];
  readonly confirmUnknown?: ConfirmUnknownHostKey;
  /** The resolver for host names (default: the system's). */
  readonly lookup?: LookupFunction;
}

export interface Engine {
  readonly transport: SshTransport;
  readonly runner: HostRunner;
  readonly pinnedFile: string;
  dispose(): void;
}

export function engineFor(lab: Lab, options: EngineOptions = {}): Engine {
  const dir = mkdtempSync(path.join(tmpdir(), 'xenpools-engine-'));
  const pinnedFile = path.join(dir, 'host-keys.json');
  const transport = new SshTransport({
    resolver: new SshConfigResolver(undefined, lab.user),
    verifier: new HostKeyVerifier(new KnownHostsFiles(options.knownHosts ?? [lab.knownHostsFile]), new PinnedHostKeys(pinnedFile), options.confirmUnknown ?? (async () => false)),
    secrets: { password: async () => undefined, passphrase: async () => undefined, ...options.secrets },
    authMethods: () => options.authMethods ?? [{ kind: 'key', file: lab.keyFile }],
    settings: { connectTimeoutMs: 3_000, ...options.settings },
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  const runner = new HostRunner(transport, { user: lab.user, ...(lab.sshPort !== 22 ? { port: lab.sshPort } : {}) });
  return {
    transport,
    runner,
    pinnedFile,
    dispose: () => {
      transport.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function address(lab: Lab, host: number): string {
  return lab.hostByArg(host).info.address;
}

/**
 * Waits until the xapi of every powered-on host runs again in the role its pool.conf says (after heal, power-on or a
 * role change and its fuse) and no master is still looking for other masters (check_no_other_masters).
 */
export async function waitUntilSettled(lab: Lab, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const busy = (h: (typeof lab.sim.hosts)[number]) => h.faults.power === 'on' && !h.faults.xapiDown && (!lab.sim.runsAsConfigured(h) || h.masterCheck !== null);
  while (lab.sim.hosts.some(busy)) {
    if (Date.now() > deadline) throw new Error(`lab not settled after ${timeoutMs} ms:\n${lab.statusTable()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A lab and an engine on it for one test; both are stopped afterwards, also when the test fails. */
export async function withLabEngine(options: LabOptions, body: (lab: Lab, engine: Engine) => Promise<void>, engineOptions: EngineOptions = {}): Promise<void> {
  const lab = await Lab.start(options);
  const engine = engineFor(lab, engineOptions);
  try {
    await body(lab, engine);
  } finally {
    engine.dispose();
    await lab.stop();
  }
}
