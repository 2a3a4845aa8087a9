// Canary secrets through every path a command can end on (answer, failure, timeout, lost connection, cancel,
// refused login): none may appear in what the engine reports (the call records the log and the audit trail are
// written from) or in any error it throws (what notifications show). Issue 12, finding 1.
import { strict as assert } from 'node:assert';
import { HostRunner, type XeCallRecord } from '../../../src/core/pool/hostAccess';
import { parseUserXeCommand } from '../../../src/core/xe/userCommand';
import { Lab } from '../lab';
import { address, engineFor, type Engine } from './harness';

const CANARIES = ['Canary-chap-1c2d', 'Canary-value-3e4f', 'Canary-args-5a6b', 'Canary-token-7c8d', 'Canary-pool-pw-9e0f'];
const [chap, value, args, token, poolPassword] = CANARIES as [string, string, string, string, string];
const HOST = '0a1b2c3d-0001-4aaa-8bbb-000000000001';
const SECRET_COMMANDS = [
  `xe pbd-create host-uuid=${HOST} sr-uuid=${HOST} device-config:chappassword=${chap}`,
  `xe secret-create value=${value}`,
  `xe host-call-plugin host-uuid=${HOST} plugin=p fn=f args:key=${args}`,
  `xe pool-param-set uuid=${HOST} other-config:api_token=${token}`,
];

function leaks(text: string): string[] {
  return CANARIES.filter((canary) => text.includes(canary));
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}\n${JSON.stringify(error)}` : String(error);
}

describe('engine: no secret in what it reports (issue 12, finding 1)', function () {
  this.timeout(60_000);
  let lab: Lab;
  let engine: Engine;
  const records: XeCallRecord[] = [];
  const errors: string[] = [];

  before(async () => {
    lab = await Lab.start({ name: 'secrets', baseAddress: '127.77.151', hosts: 2, timeScale: 0.05, password: poolPassword });
    engine = engineFor(lab, { authMethods: [{ kind: 'password' }], secrets: { password: async () => poolPassword } });
    engine.runner.onXeCall((call) => records.push(call));
  });

  after(async () => {
    engine?.dispose();
    await lab?.stop();
  });

  async function run(line: string, options: Parameters<HostRunner['xe']>[1] = {}): Promise<void> {
    try {
      await engine.runner.xe(address(lab, 2), options)(parseUserXeCommand(line));
    } catch (error) {
      errors.push(describeError(error));
    }
  }

  it('answered and failed commands (xe refuses what it does not know)', async () => {
    for (const line of SECRET_COMMANDS) await run(line, { timeoutMs: 5_000 });
  });

  it('timed-out commands', async () => {
    await lab.fault('slow-xapi', 2, '3000');
    for (const line of SECRET_COMMANDS) await run(line, { timeoutMs: 300 });
    await lab.heal(2);
  });

  it('cancelled commands', async () => {
    await lab.fault('slow-xapi', 2, '3000');
    for (const line of SECRET_COMMANDS) {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 150);
      await run(line, { timeoutMs: 5_000, signal: controller.signal });
    }
    await lab.heal(2);
  });

  it('commands whose connection drops while they run', async () => {
    await lab.fault('slow-xapi', 2, '3000');
    const running = SECRET_COMMANDS.map((line) => run(line, { timeoutMs: 10_000 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await lab.fault('poweroff', 2);
    await Promise.all(running);
    await lab.heal(2);
  });

  it('a login the host refuses', async () => {
    await lab.fault('password', 2);
    engine.runner.release();
    await run(SECRET_COMMANDS[0] ?? '', { timeoutMs: 5_000 });
    await lab.heal(2);
  });

  it('leaves no canary in any call record or error, and every path above did fire', () => {
    assert.ok(records.length >= SECRET_COMMANDS.length * 4, `${records.length} call records`);
    assert.ok(errors.some((e) => e.includes('SshCommandTimeoutError')), 'a timeout');
    assert.ok(errors.some((e) => e.includes('SshAbortedError')), 'a cancel');
    assert.ok(errors.some((e) => e.includes('SshConnectionLostError')), 'a dropped connection');
    assert.ok(errors.some((e) => e.includes('SshConnectError')), 'a refused login');
    assert.deepEqual(leaks(JSON.stringify(records)), [], JSON.stringify(records, null, 1).slice(0, 3000));
    assert.deepEqual(leaks(errors.join('\n')), [], errors.join('\n').slice(0, 3000));
  });
});

describe('HostRunner: a secret command\'s output stays out of its call record', () => {
  it('records secret-param-get without its output, and returns the output to the caller', async () => {
    const transport = { settings: { commandTimeoutMs: 1000 }, run: async () => ({ stdout: 'Canary-out-1a2b\n', stderr: '', exitCode: 0, durationMs: 1 }), closeLogin: () => undefined };
    const runner = new HostRunner(transport as never, { user: 'root' });
    const calls: XeCallRecord[] = [];
    runner.onXeCall((call) => calls.push(call));
    const result = await runner.xe('10.0.0.1')(parseUserXeCommand(`xe secret-param-get uuid=${HOST} param-name=value`));
    assert.equal(result.stdout, 'Canary-out-1a2b\n');
    assert.ok(!JSON.stringify(calls).includes('Canary-out'), JSON.stringify(calls));
  });
});
