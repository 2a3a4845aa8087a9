// The pool monitor under a background watch (issue 13, part 1): never two probes on one host at once, and a
// command's re-check still sees the host as it is now.
import { strict as assert } from 'node:assert';
import { discoverPool } from '../../../src/core/pool/discovery';
import { HostRunner } from '../../../src/core/pool/hostAccess';
import { PoolMonitor } from '../../../src/core/pool/monitor';
import type { RunOptions } from '../../../src/core/ssh/transport';
import type { ExecResult } from '../../../src/core/ssh/connection';
import { address, withLabEngine } from './harness';
import { waitFor } from '../sshutil';

/**
 * A HostRunner that counts the probes running on each host at once. The monitor's `xe` calls (it reads the VMs from
 * the master after a refresh) are not probes.
 */
class CountingRunner extends HostRunner {
  readonly running = new Map<string, number>();
  readonly most = new Map<string, number>();
  readonly started: string[] = [];

  override async shell(host: string, command: string, options?: RunOptions): Promise<ExecResult> {
    if (options?.display !== 'the health probe') return super.shell(host, command, options);
    const now = (this.running.get(host) ?? 0) + 1;
    this.running.set(host, now);
    this.most.set(host, Math.max(now, this.most.get(host) ?? 0));
    this.started.push(host);
    try {
      return await super.shell(host, command, options);
    } finally {
      this.running.set(host, (this.running.get(host) ?? 1) - 1);
    }
  }
}

/** A HostRunner that notes, for each command, whether it was paced (RunOptions.paced). */
class PacingRecorder extends HostRunner {
  readonly calls: { readonly display: string; readonly paced: boolean }[] = [];

  override shell(host: string, command: string, options?: RunOptions): Promise<ExecResult> {
    this.calls.push({ display: options?.display ?? command, paced: options?.paced === true });
    return super.shell(host, command, options);
  }
}

describe('engine: the monitor paces background refreshes only (issue 13, performance)', function () {
  this.timeout(60_000);

  it("a background refresh's probes and VM read are paced; an explicit refresh's are not", () =>
    withLabEngine({ name: 'eng-pacing', baseAddress: '127.77.162', hosts: 2, timeScale: 0.05, vmsPerHost: 1 }, async (lab, engine) => {
      const inventory = await discoverPool(engine.runner, address(lab, 1));
      const runner = new PacingRecorder(engine.transport, { user: lab.user });
      const monitor = new PoolMonitor(runner, inventory, () => ({ commandTimeoutMs: 10_000 }));
      await monitor.refresh(undefined, { background: true });
      const background = runner.calls.splice(0);
      assert.equal(background.filter((c) => c.display === 'the health probe').length, 2);
      assert.ok(background.length > 2, 'the background refresh read the VMs too');
      assert.deepEqual(background.filter((c) => !c.paced), [], 'unpaced commands in a background refresh');
      await monitor.refresh();
      const explicit = runner.calls.splice(0);
      assert.ok(explicit.length > 2);
      assert.deepEqual(explicit.filter((c) => c.paced), [], 'paced commands in an explicit refresh');
    }));
});

describe('engine: the monitor never probes a host twice at once (issue 13, part 1)', function () {
  this.timeout(60_000);

  it('a background refresh skips a host whose probe runs; an explicit one waits for it and probes anew', () =>
    withLabEngine({ name: 'eng-monitor', baseAddress: '127.77.161', hosts: 2, timeScale: 0.05 }, async (lab, engine) => {
      const inventory = await discoverPool(engine.runner, address(lab, 1));
      const runner = new CountingRunner(engine.transport, { user: lab.user });
      const monitor = new PoolMonitor(runner, inventory, () => ({ commandTimeoutMs: 10_000 }));
      await lab.fault('slow-xapi', 1, '800'); // the probe's xe call (a warm connection keeps its login shell)
      const host1 = address(lab, 1);
      const host2 = address(lab, 2);
      const first = monitor.refresh();
      // Host 2 answers first; host 1's probe still runs (its xe takes 800 ms). Waited for, not assumed within 100 ms:
      // on a loaded new machine the runner's first connections took longer (red in fresh-machine).
      await waitFor(() => runner.started.includes(host2) && !runner.running.get(host2), 10_000, "host 2's first probe");
      assert.equal(runner.running.get(host1), 1, "host 1's probe ended before the background refresh began");
      await monitor.refresh(undefined, { background: true });
      const explicit = monitor.refresh([inventory.members[0]?.uuid ?? '']);
      await Promise.all([first, explicit]);
      assert.equal(runner.most.get(host1), 1, 'two probes ran on one host at once');
      assert.equal(runner.started.filter((h) => h === host1).length, 2, 'the background refresh probed the busy host, or the explicit one did not probe anew');
      assert.equal(runner.started.filter((h) => h === host2).length, 2);
      assert.equal(monitor.status(inventory.members[0]?.uuid ?? '')?.health.kind, 'probed');
      await lab.heal(1);
    }));
});
