import type { InputOptions, PickItem, Severity, UserInterface, WizardStep } from '../ui';
import { BACK, type Back } from '../wizardBack';

/** One answer the admin gave a command: which item of a pick (by its label), or what was typed. */
export type RememberedAnswer = { readonly kind: 'pick'; readonly title: string; readonly label: string } | { readonly kind: 'input'; readonly title: string; readonly value: string };

/**
 * The questions of one run of a command, answered by the admin and remembered, so that Retry runs it again
 * with the same inputs instead of asking them all anew. A retry replays the answers in order while each fits:
 * the same question (its title), an item of the same label still offered, a typed value still valid. From the
 * first that does not fit (the pool changed meanwhile: another host list, other states in the labels) it asks.
 * Never remembered: passwords and passphrases (asked again, held nowhere), and confirmations — whether to go
 * ahead is decided again at the moment of action, on what the retry found.
 */
export class AnswerMemory implements UserInterface {
  private readonly given: RememberedAnswer[] = [];
  private readonly replay: RememberedAnswer[];
  private closed = false;

  constructor(
    private readonly base: () => UserInterface,
    replay: readonly RememberedAnswer[] = [],
  ) {
    this.replay = [...replay];
  }

  /** The answers given in this run, to replay in the next. */
  get answers(): readonly RememberedAnswer[] {
    return this.given;
  }

  /** The command is over: whatever still asks through this (work it left running) is asked, never replayed. */
  close(): void {
    this.closed = true;
    this.replay.length = 0;
  }

  async pick<T>(items: readonly PickItem<T>[], options: { title: string; placeHolder?: string }): Promise<T | undefined> {
    const replayed = this.replayedPick(items, options.title);
    if (replayed) return replayed.value;
    const value = await this.base().pick(items, options);
    this.rememberPick(items, options.title, value);
    return value;
  }

  async stepPick<T>(items: readonly PickItem<T>[], options: { title: string; placeHolder?: string } & WizardStep): Promise<T | Back | undefined> {
    const replayed = this.replayedPick(items, options.title);
    if (replayed) return replayed.value;
    const value = await this.base().stepPick(items, options);
    if (value === BACK) this.given.pop();
    else this.rememberPick(items, options.title, value);
    return value;
  }

  async input(options: InputOptions): Promise<string | undefined> {
    const replayed = this.replayedInput(options);
    if (replayed !== undefined) return replayed;
    const value = await this.base().input(options);
    this.rememberInput(options, value);
    return value;
  }

  async stepInput(options: InputOptions & WizardStep): Promise<string | Back | undefined> {
    const replayed = this.replayedInput(options);
    if (replayed !== undefined) return replayed;
    const value = await this.base().stepInput(options);
    if (value === BACK) this.given.pop();
    else this.rememberInput(options, value);
    return value;
  }

  confirm(message: string, detail: string, action: string): Promise<boolean> {
    return this.base().confirm(message, detail, action);
  }

  notify(severity: Severity, message: string, ...actions: string[]): Promise<string | undefined> {
    return this.base().notify(severity, message, ...actions);
  }

  private replayedPick<T>(items: readonly PickItem<T>[], title: string): PickItem<T> | undefined {
    const next = this.replay[0];
    const matching = next?.kind === 'pick' && next.title === title ? items.filter((item) => item.label === next.label) : [];
    if (matching.length !== 1) return this.stopReplay();
    this.replay.shift();
    this.given.push(next as RememberedAnswer);
    return matching[0];
  }

  private replayedInput(options: InputOptions): string | undefined {
    const next = this.replay[0];
    if (options.password || next?.kind !== 'input' || next.title !== options.title || options.validate?.(next.value) !== undefined) return this.stopReplay();
    this.replay.shift();
    this.given.push(next);
    return next.value;
  }

  private rememberPick<T>(items: readonly PickItem<T>[], title: string, value: T | undefined): void {
    const item = value === undefined ? undefined : items.find((candidate) => candidate.value === value);
    if (item && !this.closed) this.given.push({ kind: 'pick', title, label: item.label });
  }

  private rememberInput(options: InputOptions, value: string | undefined): void {
    if (value !== undefined && !options.password && !this.closed) this.given.push({ kind: 'input', title: options.title, value });
  }

  /** One answer that does not fit ends the replay: what follows it was answered to other questions. */
  private stopReplay(): undefined {
    this.replay.length = 0;
    return undefined;
  }
}
