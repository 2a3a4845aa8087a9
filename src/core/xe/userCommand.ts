/**
 * "Run xe Command…": a command line the admin types, checked and rebuilt into safely quoted
 * arguments. Only plain `xe <subcommand> key=value… --switch…` is accepted — no shell syntax, no
 * connection switches (the command runs on the chosen host itself, as root, like on its console).
 */
import type { XeCommand } from './command';
import { XE_COMMANDS } from './command';
import { displayLine } from './secretMask';
import { shellQuote, shellSafetyProblem } from './shellQuote';
import { UnsafeXeValueError } from './validate';

/** Switches that would send the call elsewhere or carry credentials; meaningless on the host itself. */
const CONNECTION_SWITCHES = new Set(['-s', '-h', '-p', '-u', '-pw', '-pwf', '--nossl']);
/** The same as key=value: xe's CLI takes these out of the arguments as its connection settings, whatever the command. */
const CONNECTION_KEYS = new Set(['server', 'port', 'username', 'password', 'passwordfile', 'nossl', 'debug', 'debugonfail']);
const READ_ONLY = /^(.*-list|.*-param-get|.*-param-list|host-is-in-emergency-mode|help|.*-get-.*)$/;

/** Splits like a shell would for words and quotes, and nothing else: no $, `, ;, |, &, <, >, globbing. */
export function splitUserCommand(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (const character of text.trim()) {
    if (quote) {
      if (character === quote) quote = undefined;
      else current += character;
      continue;
    }
    if (character === '"' || character === "'") {
      quote = character;
      inWord = true;
    } else if (/\s/.test(character)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else if (/[$`;|&<>\\(){}*?!#~]/.test(character)) {
      throw new UnsafeXeValueError('command', text, `contains "${character}": only xe arguments are allowed, no shell syntax (quote values with ' or ")`);
    } else {
      current += character;
      inWord = true;
    }
  }
  if (quote) throw new UnsafeXeValueError('command', text, `has an unterminated ${quote} quote`);
  if (inWord) words.push(current);
  return words;
}

export function parseUserXeCommand(text: string): XeCommand {
  const words = splitUserCommand(text);
  if (words[0] === 'xe') words.shift();
  const [subcommand, ...rest] = words;
  if (!subcommand || !/^[a-z][a-z0-9-]*$/.test(subcommand)) throw new UnsafeXeValueError('subcommand', subcommand ?? '', 'is not an xe subcommand (e.g. host-list)');
  for (const argument of rest) {
    if (CONNECTION_SWITCHES.has(argument.split('=')[0] ?? argument)) throw new UnsafeXeValueError(argument, argument, 'connection switches are not allowed: the command runs on the chosen host itself');
    if (!/^(--[a-z-]+|[A-Za-z][A-Za-z0-9_:.-]*=.*)$/s.test(argument)) throw new UnsafeXeValueError(argument, argument, 'is neither key=value nor a --switch');
    const key = argument.split('=')[0] ?? '';
    if (CONNECTION_KEYS.has(key)) throw new UnsafeXeValueError(key, `${key}=…`, "is xe's connection parameter: the command runs on the chosen host itself");
    const problem = shellSafetyProblem(argument);
    if (problem) throw new UnsafeXeValueError(argument.split('=')[0] ?? argument, argument, problem);
  }
  const args = Object.freeze([subcommand, ...rest]);
  const known = (XE_COMMANDS as Record<string, { forwarding: 'local' | 'forwarded'; changesState: boolean } | undefined>)[subcommand];
  const line = ['xe', ...args].map(shellQuote).join(' ');
  return Object.freeze({
    subcommand: subcommand as XeCommand['subcommand'],
    args,
    // Unknown commands are treated as forwarded (they may hang behind a dead master) and as
    // changing state (they go to the audit trail), unless their name says they only read.
    forwarding: known?.forwarding ?? 'forwarded',
    changesState: known?.changesState ?? !READ_ONLY.test(subcommand),
    display: displayLine(subcommand, args),
    toShell: () => line,
  });
}
