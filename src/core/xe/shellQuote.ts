/**
 * POSIX shell quoting for `xe` command lines.
 *
 * Commands run over SSH, where the remote login shell (bash on dom0) parses the line we send,
 * so every argument must reach `xe` as exactly one word with exactly the characters we meant.
 */

/** Longest value we put on a command line; real names, addresses and UUIDs are far shorter. */
export const MAX_VALUE_LENGTH = 4096;

/** Arguments made only of these characters mean the same to every POSIX shell, so logs can show them bare. */
const PLAIN_ARGUMENT = /^[A-Za-z0-9_./:=,@%+-]+$/;

interface ForbiddenCharacterClass {
  readonly pattern: RegExp;
  readonly reason: string;
}

/**
 * Characters refused anywhere in a value, even inside quotes, each with why:
 * - control characters: NUL cannot be passed in argv at all, newline/CR end the command or the log line,
 *   ESC sequences rewrite the terminal or output panel that shows the command;
 * - unpaired surrogates: they have no UTF-8 encoding and would arrive as U+FFFD, i.e. changed;
 * - line/paragraph separators: editors and log viewers break lines on them like on a newline;
 * - bidirectional overrides: they make the displayed command read differently from what runs.
 */
const FORBIDDEN_CHARACTER_CLASSES: readonly ForbiddenCharacterClass[] = [
  { pattern: /\p{Cc}/u, reason: 'contains a control character' },
  { pattern: /\p{Cs}/u, reason: 'contains an unpaired UTF-16 surrogate' },
  { pattern: /[\u2028\u2029]/u, reason: 'contains a line or paragraph separator' },
  { pattern: /[\u202A-\u202E\u2066-\u2069]/u, reason: 'contains a bidirectional override character' },
];

/** True when `character` (one code point) may never appear in a value. */
export function isForbiddenCharacter(character: string): boolean {
  return FORBIDDEN_CHARACTER_CLASSES.some(({ pattern }) => pattern.test(character));
}

/** `U+000A` style name of a code point, for messages. */
export function codePointName(character: string): string {
  const codePoint = character.codePointAt(0) ?? 0;
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

function forbiddenCharacterProblem(value: string): string | undefined {
  for (const character of value) {
    const forbidden = FORBIDDEN_CHARACTER_CLASSES.find(({ pattern }) => pattern.test(character));
    if (forbidden) return `${forbidden.reason} (${codePointName(character)})`;
  }
  return undefined;
}

/**
 * Why `value` cannot be put on a command line, or `undefined` when it can.
 * Anything else, including quotes, `$`, backticks and non-ASCII letters, is made safe by `shellQuote`.
 */
export function shellSafetyProblem(value: string): string | undefined {
  if (value.length > MAX_VALUE_LENGTH) return `is longer than ${MAX_VALUE_LENGTH} characters`;
  return forbiddenCharacterProblem(value);
}

/**
 * Quotes one argument for a POSIX shell. Plain arguments stay bare; anything else is wrapped in
 * single quotes, inside which only `'` itself is special, written as `'\''` (close, escaped quote, reopen).
 * Throws RangeError for forbidden characters: callers validate values first, this is the last guard.
 */
export function shellQuote(argument: string): string {
  const problem = forbiddenCharacterProblem(argument);
  if (problem !== undefined) throw new RangeError(`Refusing to quote an argument that ${problem}`);
  if (PLAIN_ARGUMENT.test(argument)) return argument;
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}
