import { strict as assert } from 'node:assert';
import { AnswerMemory, type RememberedAnswer } from '../../../src/commands/answerMemory';
import type { InputOptions, PickItem, UserInterface } from '../../../src/ui';
import { BACK } from '../../../src/wizardBack';

/** A UI that answers from a list and records what it was asked. */
function answering(...answers: unknown[]): UserInterface & { asked: string[] } {
  const asked: string[] = [];
  const next = (question: string) => {
    asked.push(question);
    if (answers.length === 0) throw new Error(`unexpected question: ${question}`);
    return answers.shift();
  };
  return {
    asked,
    pick: async <T>(items: readonly PickItem<T>[], options: { title: string }) => {
      const answer = next(`pick: ${options.title}`);
      return items.find((i) => i.label === answer)?.value;
    },
    stepPick: async <T>(items: readonly PickItem<T>[], options: { title: string }) => {
      const answer = next(`stepPick: ${options.title}`);
      return answer === BACK ? BACK : items.find((i) => i.label === answer)?.value;
    },
    input: async (options: InputOptions) => next(`input: ${options.title}`) as string | undefined,
    stepInput: async (options: InputOptions) => next(`stepInput: ${options.title}`) as string | undefined,
    confirm: async (message: string) => next(`confirm: ${message}`) as boolean,
    notify: async () => undefined,
  };
}

/** The base UI, the same one for every question (as ui.base is). */
const once = (base: UserInterface) => () => base;

const hosts: PickItem<string>[] = [
  { label: 'xcp-host2', value: 'uuid-2' },
  { label: 'xcp-host3', value: 'uuid-3' },
];

/** One run of a command that asks a host, a command line and a confirmation. */
async function command(ui: UserInterface, items = hosts): Promise<[string | undefined, string | undefined, boolean]> {
  const host = await ui.pick(items, { title: 'Which host?' });
  const line = await ui.input({ title: 'xe on host', prompt: 'a command', validate: (v) => (v.startsWith('xe ') ? undefined : 'starts with xe') });
  return [host, line, await ui.confirm('Run it?', '', 'Run')];
}

describe('Retry keeps the inputs (issue 13, part 7): the answers of one run replayed in the next', () => {
  it('replays the pick and the typed command; the confirmation is asked again', async () => {
    const first = new AnswerMemory(once(answering('xcp-host3', 'xe vm-list', true)));
    assert.deepEqual(await command(first), ['uuid-3', 'xe vm-list', true]);
    first.close();
    const base = answering(false);
    const retry = new AnswerMemory(() => base, first.answers);
    assert.deepEqual(await command(retry), ['uuid-3', 'xe vm-list', false]);
    assert.deepEqual(base.asked, ['confirm: Run it?']);
    assert.deepEqual(retry.answers, first.answers);
  });

  it('asks from the first answer that no longer fits: the host picked is not offered now', async () => {
    const remembered: RememberedAnswer[] = [
      { kind: 'pick', title: 'Which host?', label: 'xcp-host3' },
      { kind: 'input', title: 'xe on host', value: 'xe vm-list' },
    ];
    const base = answering('xcp-host2', 'xe host-list', true);
    const retry = new AnswerMemory(() => base, remembered);
    assert.deepEqual(await command(retry, [hosts[0] as PickItem<string>]), ['uuid-2', 'xe host-list', true]);
    // The typed command is not replayed either: it was typed for another host.
    assert.deepEqual(base.asked, ['pick: Which host?', 'input: xe on host', 'confirm: Run it?']);
  });

  it('asks again for a remembered value that is no longer valid, and for another question', async () => {
    const base = answering('xcp-host2', 'xe vm-list', true);
    const retry = new AnswerMemory(() => base, [{ kind: 'pick', title: 'Another question', label: 'xcp-host2' }]);
    await command(retry);
    assert.equal(base.asked.length, 3);
    const invalid = new AnswerMemory(once(answering('xe host-list', true)), [
      { kind: 'pick', title: 'Which host?', label: 'xcp-host2' },
      { kind: 'input', title: 'xe on host', value: 'vm-list' },
    ]);
    assert.deepEqual(await command(invalid), ['uuid-2', 'xe host-list', true]);
  });

  it('never remembers a password', async () => {
    const first = new AnswerMemory(once(answering('s3cret')));
    assert.equal(await first.input({ title: 'Password', prompt: 'root', password: true }), 's3cret');
    assert.deepEqual(first.answers, []);
    const base = answering('again');
    const retry = new AnswerMemory(() => base, [{ kind: 'input', title: 'Password', value: 's3cret' }]);
    assert.equal(await retry.input({ title: 'Password', prompt: 'root', password: true }), 'again');
  });

  it('a wizard\'s Back forgets the answer it went back over', async () => {
    const first = new AnswerMemory(once(answering('a.example', BACK, 'b.example', 'root')));
    const step = (n: number) => ({ title: n === 1 ? 'Address' : 'User', prompt: '', step: n, totalSteps: 2 });
    assert.equal(await first.stepInput(step(1)), 'a.example');
    assert.equal(await first.stepInput(step(2)), BACK);
    assert.equal(await first.stepInput(step(1)), 'b.example');
    assert.equal(await first.stepInput(step(2)), 'root');
    assert.deepEqual(first.answers.map((a) => (a.kind === 'input' ? a.value : a.label)), ['b.example', 'root']);
  });

  it('once the command is over, nothing is replayed or remembered', async () => {
    const memory = new AnswerMemory(once(answering('xcp-host2')), [{ kind: 'pick', title: 'Which host?', label: 'xcp-host3' }]);
    memory.close();
    assert.equal(await memory.pick(hosts, { title: 'Which host?' }), 'uuid-2');
    assert.deepEqual(memory.answers, []);
  });
});
