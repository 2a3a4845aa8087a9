import { SshAbortedError, SshCommandTimeoutError, SshConnectError, SshConnectionLostError } from '../ssh/errors';
import type { QueuePlace } from '../ssh/transport';
import type { HostRunner } from './hostAccess';
import type { HostHealth, HostStatus, PoolMember } from './model';
import { parseProbeOutput, PROBE_SCRIPT, type HostProbeFacts } from './probe';

/** Where the probe waits for a connection (QueuePlace: at the cap, and paced or not): first and unpaced if absent. */
export interface ProbeOptions extends QueuePlace {
  /** Bound on the probe command once connected; the transport's connect timeout bounds the rest. */
  readonly commandTimeoutMs: number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_PROBE_OPTIONS: ProbeOptions = { commandTimeoutMs: 10_000 };

function healthFromError(error: unknown): HostHealth {
  if (error instanceof SshConnectError) return { kind: 'unreachable', failure: error.failure, message: error.message };
  // A warm connection whose host went silent: as unreachable as one that cannot be opened (a dropped one is not).
  if (error instanceof SshConnectionLostError && error.stoppedAnswering) return { kind: 'unreachable', failure: 'timeout', message: error.message };
  if (error instanceof SshCommandTimeoutError) {
    return { kind: 'unreachable', failure: 'command-timeout', message: `SSH works but the probe did not finish within ${error.timeoutMs / 1000} s (host hung or overloaded)` };
  }
  return { kind: 'invalid', message: (error as Error).message };
}

/**
 * The host at a member's address must be that member. After a reinstall, or when the address now
 * belongs to another host, its answer describes another machine, and any action taken on the strength
 * of it would land on that machine.
 */
function identityProblem(member: PoolMember, facts: HostProbeFacts): string | undefined {
  // Discovery probes the address it starts from before it knows any UUID: nothing to compare then.
  if (!member.uuid) return undefined;
  if (facts.installationUuid === undefined) {
    // Every XenServer host has one; without it neither the check below nor learning a declared member's UUID works.
    return `cannot tell which host answers at ${member.address}: its /etc/xensource-inventory has no INSTALLATION_UUID (every XenServer host has one), so it is not trusted as ${member.name}.`;
  }
  // A member declared without a UUID has a stand-in: the monitor learns the host's own UUID from this answer.
  if (member.provisionalUuid || facts.installationUuid.toLowerCase() === member.uuid.toLowerCase()) return undefined;
  return (
    `${member.address} answers as host ${facts.installationUuid}, not as ${member.name} (${member.uuid}): ` +
    'the host was reinstalled or the address belongs to another host now. Rediscover the pool before acting on it.'
  );
}

/** Probes one host: one SSH command (PROBE_SCRIPT), never longer than its bounds. */
export async function probeHost(runner: HostRunner, member: PoolMember, options: ProbeOptions = DEFAULT_PROBE_OPTIONS): Promise<HostStatus> {
  const started = Date.now();
  let health: HostHealth;
  try {
    const result = await runner.shell(member.address, PROBE_SCRIPT, { timeoutMs: options.commandTimeoutMs, signal: options.signal, display: 'the health probe', queueOrder: options.queueOrder, paced: options.paced });
    const facts = parseProbeOutput(result);
    const wrongHost = identityProblem(member, facts);
    health = wrongHost ? { kind: 'invalid', message: wrongHost } : { kind: 'probed', facts };
  } catch (error) {
    if (error instanceof SshAbortedError) throw error;
    health = healthFromError(error);
  }
  return { member, health, probedAt: new Date(started).toISOString(), durationMs: Date.now() - started };
}

/**
 * Probes every member in parallel. Each result is reported as soon as it arrives, so a dead host
 * (which takes the whole connect timeout) never delays what the others say.
 */
export async function probeMembers(
  runner: HostRunner,
  members: readonly PoolMember[],
  onResult: (status: HostStatus) => void = () => undefined,
  options: ProbeOptions = DEFAULT_PROBE_OPTIONS,
): Promise<HostStatus[]> {
  return Promise.all(
    members.map(async (member) => {
      const status = await probeHost(runner, member, options);
      onResult(status);
      return status;
    }),
  );
}
