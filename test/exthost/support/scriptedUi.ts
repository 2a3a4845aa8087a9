/*
 * The product's UserInterface, answered by the test: every question is recorded, and answered by
 * the next scripted answer of its kind. A question without an answer fails the test (returning
 * undefined = the user dismissed it, which is itself a scripted answer: `dismiss`).
 */
import { BACK, type Back, type InputOptions, type PickItem, type Severity, type UserInterface, type WizardStep } from '../../../src/ui';

export type Answer =
  | { readonly kind: 'pick'; readonly choose: (items: readonly PickItem<unknown>[]) => PickItem<unknown> | undefined }
  | { readonly kind: 'input'; readonly value: string | undefined }
  | { readonly kind: 'confirm'; readonly value: boolean }
  /** The Back button of a wizard step (a pick or an input). */
  | { readonly kind: 'back' };

/** Every notification the product showed in this extension host, whichever scripted UI was in use ("<severity>: <message>"). */
export const notificationsShown: string[] = [];

export class ScriptedUi implements UserInterface {
  readonly asked: string[] = [];
  /** Which action of a notification the user clicks (none unless set): given the recorded line and its actions. */
  chooseAction: (shown: string, actions: readonly string[]) => string | undefined = () => undefined;
  private readonly answers: Answer[];

  constructor(...answers: Answer[]) {
    this.answers = answers;
  }

  get unanswered(): number {
    return this.answers.length;
  }

  private next<K extends Answer['kind']>(kind: K, question: string): Extract<Answer, { kind: K }> {
    this.asked.push(`${kind}: ${question}`);
    const answer = this.answers.shift();
    if (!answer || answer.kind !== kind) throw new Error(`unexpected ${kind} "${question}"; next scripted answer: ${answer?.kind ?? 'none'}`);
    return answer as Extract<Answer, { kind: K }>;
  }

  async pick<T>(items: readonly PickItem<T>[], options: { title: string }): Promise<T | undefined> {
    const chosen = this.next('pick', `${options.title} [${items.map((i) => i.label).join(' | ')}]`).choose(items as readonly PickItem<unknown>[]);
    return chosen?.value as T | undefined;
  }

  async input(options: { title: string; prompt: string; validate?: (value: string) => string | undefined }): Promise<string | undefined> {
    const { value } = this.next('input', `${options.title}: ${options.prompt}`);
    const problem = value === undefined ? undefined : options.validate?.(value);
    if (problem) throw new Error(`scripted input "${value}" is invalid: ${problem}`);
    return value;
  }

  async stepPick<T>(items: readonly PickItem<T>[], options: { title: string } & WizardStep): Promise<T | Back | undefined> {
    const question = `${options.title} (${options.step}/${options.totalSteps}) [${items.map((i) => i.label).join(' | ')}]`;
    if (this.backNext('pick', question, options)) return BACK;
    return this.pick(items, { title: `${options.title} (${options.step}/${options.totalSteps})` });
  }

  async stepInput(options: InputOptions & WizardStep): Promise<string | Back | undefined> {
    const title = `${options.title} (${options.step}/${options.totalSteps})`;
    if (this.backNext('input', `${title}: ${options.prompt}`, options)) return BACK;
    return this.input({ ...options, title });
  }

  /** Takes a scripted Back for this step, if that is the next answer; a step 1 has no Back button. */
  private backNext(kind: 'pick' | 'input', question: string, step: WizardStep): boolean {
    if (this.answers[0]?.kind !== 'back') return false;
    if (step.step === 1) throw new Error(`scripted Back on step 1 of "${question}", which has no Back button`);
    this.answers.shift();
    this.asked.push(`${kind}: ${question} <- Back`);
    return true;
  }

  async confirm(message: string, detail: string): Promise<boolean> {
    return this.next('confirm', `${message}\n${detail}`).value;
  }

  /** Recorded; answered by `chooseAction`. */
  async notify(severity: Severity, message: string, ...actions: string[]): Promise<string | undefined> {
    const shown = `${severity}: ${message}${actions.length ? ` [${actions.join(' | ')}]` : ''}`;
    notificationsShown.push(shown);
    return this.chooseAction(shown, actions);
  }
}

export const pickFirst: Answer = { kind: 'pick', choose: (items) => items[0] };
export const pickWhere = (predicate: (item: PickItem<unknown>) => boolean): Answer => ({ kind: 'pick', choose: (items) => items.find(predicate) });
export const yes: Answer = { kind: 'confirm', value: true };
export const no: Answer = { kind: 'confirm', value: false };
export const type = (value: string): Answer => ({ kind: 'input', value });
export const back: Answer = { kind: 'back' };
