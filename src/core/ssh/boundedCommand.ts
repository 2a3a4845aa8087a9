import { shellQuote } from '../xe/shellQuote';

/** After the time bound, the command gets SIGTERM, and SIGKILL this much later if it is still there. */
const KILL_GRACE_SECONDS = 2;

/**
 * Wraps a shell line so that it cannot outlive its caller on the host. OpenSSH's sshd ignores a client's
 * `signal` request and does not signal a session without a pty when its channel closes: a hung `xe` (a
 * forwarded call to a dead master retries forever) would run on, and its session would keep one of the
 * connection's MaxSessions (10 by default) until sshd gives up on the connection.
 *
 * The line runs in its own session (`setsid`), so its whole process group can be killed. Two watchers stand
 * by, each in its own session too, so the wrapper can end them with their children:
 * - one reads the channel's stdin to its end (we never write to it): EOF comes only when the channel or the
 *   connection closes (cancel, our own timeout), and then kills the group at once;
 * - one kills the group when `timeoutSeconds` have passed, for a connection that is gone without sshd
 *   having noticed yet (black hole): TERM, then KILL after a grace.
 * The line's stdin is /dev/null (no `xe` reads it). The exit status is the line's (143 or 137 when killed).
 * Only POSIX sh, util-linux `setsid` and coreutils `cat`/`sleep`: all in dom0. `kill -SIG -pgid` without `--`:
 * dash (Debian's sh, which runs the watchers here) takes no `--` in its kill builtin.
 */
export function boundedCommand(line: string, timeoutSeconds: number): string {
  const seconds = Math.max(1, Math.ceil(timeoutSeconds));
  return [
    'exec 3<&0 </dev/null',
    `setsid sh -c ${shellQuote(line)} 3<&- & c=$!`,
    `setsid sh -c 'cat >/dev/null; kill -KILL -"$0"' "$c" <&3 >/dev/null 2>&1 & w=$!`,
    `setsid sh -c 'sleep "$1"; kill -TERM -"$0"; sleep ${KILL_GRACE_SECONDS}; kill -KILL -"$0"' "$c" ${seconds} </dev/null >/dev/null 2>&1 & t=$!`,
    'exec 3<&-',
    'wait "$c" 2>/dev/null; r=$?',
    // By pid too: a watcher that has not reached its setsid yet is still in our process group. Reaped here with
    // stderr closed, or bash reports each killed watcher ("Killed …") on the command's stderr.
    '{ kill -KILL -"$w" -"$t" "$w" "$t"; wait "$w" "$t"; } 2>/dev/null',
    'exit "$r"',
  ].join('\n');
}
