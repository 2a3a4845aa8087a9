/* The simulator without sshd, for the tests of its commands: a started 3-host pool and one `xe` call on a host. */
import assert from 'node:assert/strict';
import { Simulator, SimOptions } from './sim';

export const SIM_SCALE = 0.01; // fuse 10 s → 100 ms, docs 60 s → 600 ms

export function startSim(over: Partial<SimOptions> = {}): Simulator {
  const sim = new Simulator({
    name: 'unit',
    addresses: ['192.168.10.11', '192.168.10.12', '192.168.10.13'],
    model: 'code',
    ha: false,
    timeScale: SIM_SCALE,
    version: '8.3',
    password: 'pw',
    ...over,
  });
  sim.start();
  return sim;
}

export async function simXe(sim: Simulator, host: number, ...argv: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const r = await sim.exec(host, argv);
  assert.ok(r, 'call was abandoned');
  return r;
}
