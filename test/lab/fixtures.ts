/*
 * Captures of the lab's `xe` output (stdout, stderr, exit code) for the product's parser tests:
 * test/fixtures/lab/xe-<version>.json. Deterministic (UUIDs are derived from the lab name).
 *   node out/test/lab/fixtures.js            write the files
 *   node out/test/lab/fixtures.js --check    exit 1 if they are out of date
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Simulator } from './sim';
import { XAPI_VERSIONS, XapiVersion } from './texts';

export interface Capture {
  title: string;
  host: string;
  command: string;
  stdout: string;
  stderr: string;
  code: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 10000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('fixture scenario timed out');
    await sleep(5);
  }
}

export async function capture(version: XapiVersion): Promise<Capture[]> {
  const addresses = ['192.168.10.11', '192.168.10.12', '192.168.10.13'];
  const mk = (ha: boolean): Simulator => {
    const s = new Simulator({ name: 'fixtures', addresses, model: 'code', ha, timeScale: 0.01, version, password: 'secret' });
    s.start();
    return s;
  };
  const out: Capture[] = [];
  let sim = mk(false);
  const run = async (title: string, host: number, ...argv: string[]): Promise<void> => {
    const r = await sim.exec(host, argv);
    if (!r) throw new Error(`no result for ${argv.join(' ')}`);
    out.push({ title, host: sim.host(host).name, command: ['xe', ...argv].join(' '), ...r });
  };
  const [h1, h2, h3] = [sim.host(1), sim.host(2), sim.host(3)];
  const pool = h1.db.pool.uuid;
  try {
    await run('pool-list', 2, 'pool-list');
    await run('pool-param-list', 2, 'pool-param-list', `uuid=${pool}`);
    await run('pool-param-get default-SR', 2, 'pool-param-get', `uuid=${pool}`, 'param-name=default-SR');
    await run('pool-list master --minimal', 2, 'pool-list', 'params=master', '--minimal');
    await run('host-list', 1, 'host-list');
    await run('host-list params', 1, 'host-list', 'params=uuid,name-label,address');
    await run('host-list --minimal', 1, 'host-list', '--minimal');
    await run('host-list address --minimal', 1, 'host-list', 'params=address', '--minimal');
    await run('host-param-list', 1, 'host-param-list', `uuid=${h1.uuid}`);
    await run('host-param-get host-metrics-live', 1, 'host-param-get', `uuid=${h2.uuid}`, 'param-name=host-metrics-live');
    await run('sr-list', 1, 'sr-list');
    await run('vm-list', 1, 'vm-list', 'is-control-domain=false');
    await run('host-is-in-emergency-mode (normal)', 2, 'host-is-in-emergency-mode');
    await run('transition on a master without --force', 1, 'pool-emergency-transition-to-master');
    await run('UUID_INVALID', 1, 'pool-param-list', 'uuid=1234');
    await run('unknown command', 1, 'pool-frobnicate');
    await run('required parameter', 1, 'pool-emergency-reset-master');
    await run('read-only field', 1, 'pool-param-set', `uuid=${pool}`, 'master=x');
    await run('remote login to a slave (HOST_IS_SLAVE)', 1, '-s', addresses[1] ?? '', '-u', 'root', '-pw', 'secret', 'host-list');
    await run('wrong password', 1, '-s', addresses[0] ?? '', '-u', 'root', '-pw', 'nope', 'host-list');
    // master dies; host 3 restarts its toolstack → emergency mode
    sim.powerOff(h1);
    await sim.exec(3, [], { program: 'xe-toolstack-restart' });
    await until(() => h3.xapi === 'running');
    await run('host-is-in-emergency-mode (emergency)', 3, 'host-is-in-emergency-mode');
    await run('forwarded command in emergency mode', 3, 'pool-list');
    await run('transition to master', 2, 'pool-emergency-transition-to-master');
    // pool.conf says master at once; xapi serves as the slave it was until its fuse ends, then restarts
    await until(() => h2.xapi === 'restarting');
    await run('xapi restarting (connection refused)', 2, 'pool-list');
    await until(() => sim.runsAsConfigured(h2));
    await run('pool-recover-slaves (old master unreachable)', 2, 'pool-recover-slaves');
    await until(() => sim.runsAsConfigured(h3) && !h3.emergency);
    await run('pool-recover-slaves again, --minimal (no-op resets are listed too)', 2, 'pool-recover-slaves', '--minimal');
    await run('reset-master (no-op, message still printed)', 3, 'pool-emergency-reset-master', `master-address=${addresses[1] ?? ''}`);
    sim.stop();
    sim = mk(true);
    await run('HA_IS_ENABLED', 2, 'pool-emergency-transition-to-master');
    await run('host-emergency-ha-disable without --force', 2, 'host-emergency-ha-disable');
  } finally {
    sim.stop();
  }
  return out;
}

export const FIXTURE_DIR = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'lab');

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const v of XAPI_VERSIONS) {
    const file = path.join(FIXTURE_DIR, `xe-${v}.json`);
    const text = JSON.stringify(await capture(v), null, 2) + '\n';
    if (check) {
      if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) {
        console.error(`out of date: ${file}`);
        stale++;
      }
    } else {
      fs.mkdirSync(FIXTURE_DIR, { recursive: true });
      fs.writeFileSync(file, text);
      console.log(`wrote ${file}`);
    }
  }
  process.exit(stale ? 1 : 0);
}

// The simulator's timers do not keep Node alive (they are unref'd); this one does until the capture is written.
if (require.main === module) {
  const alive = setInterval(() => undefined, 1000);
  void main().finally(() => clearInterval(alive));
}
