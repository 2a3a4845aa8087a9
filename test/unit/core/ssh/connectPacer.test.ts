import { strict as assert } from 'node:assert';
import { ConnectPacer, type PacerClock } from '../../../../src/core/ssh/connectPacer';
import { SshAbortedError } from '../../../../src/core/ssh/errors';

/** A clock the test steps: timers fire when `advance` passes their time. */
class SteppedClock implements PacerClock {
  private time = 0;
  private timers: { at: number; callback: () => void }[] = [];
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.time + ms, callback };
    this.timers.push(timer);
    return timer;
  }
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.callback();
      await settle();
    }
    this.time = until;
    await settle();
  }
}

/** An event loop with nothing else to do. */
const idle = () => 0;

/** Lets resolved promises run their continuations. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ConnectPacer: background connects paced (issue 13, performance)', () => {
  it('lets a burst through at once, then one connect per 1/rate seconds', async () => {
    const clock = new SteppedClock();
    const pacer = new ConnectPacer(10, 3, clock, idle);
    const started: number[] = [];
    for (let i = 0; i < 8; i++) void pacer.take(1).then(() => started.push(clock.now()));
    await settle();
    assert.deepEqual(started, [0, 0, 0], 'the burst starts at once');
    await clock.advance(1000);
    assert.deepEqual(started, [0, 0, 0, 100, 200, 300, 400, 500]);
    assert.equal(pacer.waiting, 0);
  });

  it('refills up to the burst while nobody connects, never beyond it', async () => {
    const clock = new SteppedClock();
    const pacer = new ConnectPacer(10, 2, clock, idle);
    await pacer.take(1);
    await pacer.take(1);
    await clock.advance(10_000);
    let started = 0;
    for (let i = 0; i < 4; i++) void pacer.take(1).then(() => started++);
    await settle();
    assert.equal(started, 2);
  });

  it('serves waiters by queue order, equal orders first come first', async () => {
    const clock = new SteppedClock();
    const pacer = new ConnectPacer(10, 1, clock, idle);
    await pacer.take(1);
    const served: string[] = [];
    for (const [name, order] of [['later refresh a', 3], ['earlier refresh a', 2], ['later refresh b', 3], ['earlier refresh b', 2]] as const) void pacer.take(order).then(() => served.push(name));
    await clock.advance(400);
    assert.deepEqual(served, ['earlier refresh a', 'earlier refresh b', 'later refresh a', 'later refresh b']);
  });

  it('an aborted wait rejects with SshAbortedError and gives up its place', async () => {
    const clock = new SteppedClock();
    const pacer = new ConnectPacer(10, 1, clock, idle);
    await pacer.take(1);
    const abort = new AbortController();
    const aborted = pacer.take(1, abort.signal);
    let next = false;
    void pacer.take(1).then(() => (next = true));
    abort.abort();
    await assert.rejects(aborted, SshAbortedError);
    await clock.advance(100);
    assert.ok(next, 'the one behind it goes first');
    await assert.rejects(pacer.take(1, abort.signal), SshAbortedError, 'an already aborted signal never waits');
  });

  it('while the event loop is more than half busy, connects slow down to two a second, and speed up when it is free again', async () => {
    const clock = new SteppedClock();
    let load = 0.9;
    const pacer = new ConnectPacer(10, 3, clock, () => load);
    const started: number[] = [];
    for (let i = 0; i < 8; i++) void pacer.take(1).then(() => started.push(clock.now()));
    await settle();
    assert.deepEqual(started, [0], 'a burst while busy: one connect, not three');
    await clock.advance(1000);
    assert.deepEqual(started, [0, 500, 1000], 'busy: one connect per 500 ms');
    load = 0.2;
    await clock.advance(300);
    assert.deepEqual(started, [0, 500, 1000, 1050, 1050, 1100, 1200, 1300], 'free again: what the bucket holds (2.5) goes at once, then 10 a second');
  });

  it('a rate of 0 paces nothing', async () => {
    const clock = new SteppedClock();
    const pacer = new ConnectPacer(0, 1, clock, () => 1);
    let started = 0;
    for (let i = 0; i < 50; i++) void pacer.take(1).then(() => started++);
    await settle();
    assert.equal(started, 50);
  });
});
