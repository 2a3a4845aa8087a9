/*
 * `npm start`: the product on a pool in trouble. A lab pool of 4 simulated hosts is discovered
 * while healthy (by the product's own engine), its master is then powered off and one slave's
 * toolstack restarted so it comes back in emergency mode (the "code" model of current xapi);
 * code-server starts with the extension installed and that pool declared in its settings.
 * Runs until Ctrl-C, then stops every process it started.
 */
import { discoverPool } from '../../src/core/pool/discovery';
import { Lab } from '../lab/lab';
import { address, engineFor } from '../lab/engine/harness';
import { startCodeServer, type CodeServer } from './codeServer';
import * as path from 'node:path';
import { reportToCaller } from './setupError';

const say = (line: string) => console.log(`[demo] ${line}`);

async function waitUntil(what: string, timeoutMs: number, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  const vsix = process.argv[2] ?? path.resolve(__dirname, '..', '..', '..', 'dist', 'xenserver-pools.vsix');
  let lab: Lab | undefined;
  let server: CodeServer | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping code-server and the lab');
    await server?.stop();
    await lab?.stop();
    say('stopped');
    process.exit(code);
  };
  // `on`, not `once`: codeServer.ts's own handler ends the process at once unless another handler stays.
  process.on('SIGINT', () => void stop(130));
  process.on('SIGTERM', () => void stop(143));
  try {
    say('starting a lab pool of 4 hosts (real sshd on 127.77.250.1-4, simulated xapi, real durations)');
    lab = await Lab.start({ name: 'demo', baseAddress: '127.77.250', hosts: 4, model: 'code', timeScale: 1, vmsPerHost: 3 });
    const engine = engineFor(lab);
    const inventory = await discoverPool(engine.runner, address(lab, 2));
    say(`discovered ${inventory.poolName}: ${inventory.members.map((m) => `${m.name} ${m.address}`).join(', ')}`);

    say('the master xcp-host1 dies (powered off); xcp-host2 restarts its toolstack and comes back in emergency mode');
    await lab.fault('poweroff', 1);
    await engine.runner.shell(address(lab, 2), '/opt/xensource/bin/xe-toolstack-restart', { timeoutMs: 60_000 });
    const labNow = lab;
    await waitUntil('xcp-host2 in emergency mode', 60_000, () => labNow.state().hosts[1]?.emergency === true && labNow.state().hosts[1]?.xapi === 'running');
    engine.dispose();

    say('starting code-server with the extension');
    server = await startCodeServer({
      extensions: [vsix],
      settings: {
        'xenPools.pools': [
          {
            name: inventory.poolName,
            uuid: inventory.poolUuid,
            user: lab.user,
            auth: 'key',
            keyFile: lab.keyFile,
            master: inventory.masterUuid,
            members: inventory.members.map((m) => ({ name: m.name, address: m.address, uuid: m.uuid })),
          },
        ],
        'xenPools.knownHostsFile': lab.knownHostsFile,
      },
    });
    console.log(`\n${lab.statusTable()}\n`);
    console.log(lab.connectionInfo());
    console.log(`\n  Open ${server.url} in a browser, then the XenServer Pools view in the activity bar.`);
    console.log('  Try: Guided Recovery on the pool, or Promote to Master on xcp-host2. Ctrl-C stops everything.\n');
    await new Promise(() => undefined);
  } catch (error) {
    reportToCaller(error, 'demo');
    await stop(1);
  }
}

void main();
