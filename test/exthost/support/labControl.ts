/*
 * Inside the extension host, the labs run in the test runner's process (test/exthost/runInCodeServer.ts
 * starts them before code-server). The tests reach them through each lab's control socket on loopback:
 * the same JSON-lines protocol `npm run lab -- fault …` uses.
 */
import * as net from 'node:net';

export interface LabHandle {
  readonly name: string;
  readonly poolUuid: string;
  readonly poolName: string;
  readonly model: 'code' | 'docs';
  readonly controlPort: number;
  readonly user: string;
  /** root's password on every host (for tests of password logins). */
  readonly password: string;
  readonly keyFile: string;
  readonly hosts: readonly { readonly index: number; readonly name: string; readonly address: string; readonly uuid: string }[];
}

export interface LabHostState {
  readonly index: number;
  readonly uuid: string;
  readonly name: string;
  readonly address: string;
  readonly role: string;
  readonly xapi: string;
  readonly emergency: boolean;
  readonly faults: { readonly power: 'on' | 'off' };
  /** This host's copy of the pool database (the master's is the pool's). */
  readonly db: {
    readonly hosts: readonly { readonly uuid: string; readonly nameLabel: string }[];
    readonly vms: readonly { readonly uuid: string; readonly nameLabel: string; readonly powerState: string; readonly residentOn: string }[];
  };
}

/** The labs the runner started, from XENPOOLS_EXTHOST_LABS. */
export function labs(): Record<string, LabHandle> {
  const raw = process.env.XENPOOLS_EXTHOST_LABS;
  if (!raw) throw new Error('XENPOOLS_EXTHOST_LABS is not set: the runner started no lab');
  return JSON.parse(raw) as Record<string, LabHandle>;
}

function request(lab: LabHandle, body: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(lab.controlPort, '127.0.0.1', () => socket.write(`${JSON.stringify(body)}\n`));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('end', () => {
      const reply = JSON.parse(text) as { ok: boolean; result?: unknown; error?: string };
      if (reply.ok) resolve(reply.result);
      else reject(new Error(`lab ${lab.name}: ${reply.error ?? 'failed'}`));
    });
  });
}

export const labControl = {
  fault: (lab: LabHandle, kind: string, host: number, arg?: string) => request(lab, { op: 'fault', kind, host: String(host), ...(arg ? { arg } : {}) }),
  heal: (lab: LabHandle, host: number) => request(lab, { op: 'heal', host: String(host) }),
  async hosts(lab: LabHandle): Promise<LabHostState[]> {
    return ((await request(lab, { op: 'state' })) as { hosts: LabHostState[] }).hosts;
  },
  async waitFor(lab: LabHandle, what: string, condition: (hosts: LabHostState[]) => boolean, timeoutMs = 20_000): Promise<LabHostState[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hosts = await labControl.hosts(lab);
      if (condition(hosts)) return hosts;
      if (Date.now() > deadline) throw new Error(`lab ${lab.name}: timed out waiting for ${what}: ${hosts.map((h) => `${h.name}=${h.role}/${h.xapi}/${h.emergency}`).join(' ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  },
};
