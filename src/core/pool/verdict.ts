import type { HostProbeFacts } from './probe';
import type { HostStatus, PoolInventory, PoolVerdict } from './model';

interface ProbedHost {
  readonly status: HostStatus;
  readonly facts: HostProbeFacts;
}

function probedHosts(statuses: readonly HostStatus[]): ProbedHost[] {
  return statuses.flatMap((status) => (status.health.kind === 'probed' ? [{ status, facts: status.health.facts }] : []));
}

function label(status: HostStatus): string {
  return `${status.member.name} (${status.member.address})`;
}

/** The address most slaves point to; ties go to the first seen. */
function pointedMasterAddress(hosts: readonly ProbedHost[]): string | undefined {
  const votes = new Map<string, number>();
  for (const { facts } of hosts) {
    if (facts.role?.role === 'slave') votes.set(facts.role.masterAddress, (votes.get(facts.role.masterAddress) ?? 0) + 1);
  }
  return [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

function describeHealth(status: HostStatus): string {
  const health = status.health;
  switch (health.kind) {
    case 'probing':
      return 'not probed yet';
    case 'unreachable':
      return `unreachable over SSH: ${health.message}`;
    case 'invalid':
      return `answered, but the answer cannot be used: ${health.message}`;
    case 'probed': {
      const f = health.facts;
      const role = f.role ? (f.role.role === 'slave' ? `slave of ${f.role.masterAddress}` : f.role.role) : `role unknown (${f.roleProblem ?? 'no pool.conf'})`;
      const emergency = f.emergency === undefined ? '' : f.emergency ? ', in emergency mode' : ', not in emergency mode';
      const port = f.masterPortOpen === undefined ? '' : f.masterPortOpen ? ', reaches its master on 443' : ', cannot reach its master on 443';
      return `${role}, xapi ${f.xapi}${emergency}${port}`;
    }
  }
}

/**
 * Reads the probe results of every member as an admin would and says what state the pool is in.
 * Every conclusion carries the observations that led to it (one line per host), so the admin can
 * check our reasoning before acting on it.
 */
export function judgePool(inventory: PoolInventory, statuses: readonly HostStatus[]): PoolVerdict {
  const evidence = statuses.map((s) => `${label(s)}: ${describeHealth(s)}`);
  const probed = probedHosts(statuses);
  const claimedMasters = probed.filter((h) => h.facts.role?.role === 'master');
  if (claimedMasters.length > 1) {
    return { kind: 'split-brain', masterUuids: claimedMasters.map((h) => h.status.member.uuid), evidence };
  }

  const slaves = probed.filter((h) => h.facts.role?.role === 'slave');
  const runningMaster = claimedMasters.find((h) => h.facts.xapi === 'running');
  if (runningMaster) {
    // One master runs (e.g. promoted by a recovery, or kept by a demotion); hosts still pointing at another one, or
    // stuck in emergency mode, are stragglers that Recover Slaves on it brings back. The pool is not healthy until
    // they follow. Only once some member follows it (or points elsewhere, i.e. a recovery happened): a master whose
    // every slave lost sight of it may be the one that is cut off, which the checks below treat as master lost.
    const address = runningMaster.status.member.address;
    const pointsElsewhere = (h: (typeof slaves)[number]) => h.facts.role?.role === 'slave' && h.facts.role.masterAddress !== address;
    const follows = (h: (typeof slaves)[number]) => !pointsElsewhere(h) && h.facts.emergency === false && h.facts.masterPortOpen !== false;
    const stragglers = slaves.filter((h) => pointsElsewhere(h) || h.facts.emergency === true);
    if (stragglers.length > 0 && (slaves.some(follows) || slaves.some(pointsElsewhere))) {
      return { kind: 'recovered', masterUuid: runningMaster.status.member.uuid, stragglerUuids: stragglers.map((h) => h.status.member.uuid), evidence };
    }
  }
  const inventoryMaster = inventory.members.find((m) => m.uuid === inventory.masterUuid);
  const masterAddress = pointedMasterAddress(slaves) ?? claimedMasters[0]?.status.member.address ?? inventoryMaster?.address;
  const masterStatus = statuses.find((s) => s.member.address === masterAddress);
  const masterFacts = masterStatus?.health.kind === 'probed' ? masterStatus.health.facts : undefined;
  const masterAlive = masterFacts?.role?.role === 'master' && masterFacts.xapi === 'running';
  const slavesCutOff = slaves.filter((h) => h.facts.masterPortOpen === false);
  const slavesElsewhere = slaves.filter((h) => h.facts.role?.role === 'slave' && h.facts.role.masterAddress !== masterAddress);
  const emergencySlaves = slaves.filter((h) => h.facts.emergency === true);

  if (masterAlive && masterStatus && slavesCutOff.length === 0 && emergencySlaves.length === 0 && slavesElsewhere.length === 0) {
    const down = statuses.filter((s) => s.health.kind === 'unreachable').map((s) => s.member.uuid);
    if (down.length === 0) return { kind: 'healthy', masterUuid: masterStatus.member.uuid, evidence };
    const formerMaster = inventory.masterUuid !== masterStatus.member.uuid && down.includes(inventory.masterUuid ?? '') ? inventory.masterUuid : undefined;
    return { kind: 'hosts-down', masterUuid: masterStatus.member.uuid, downUuids: down, ...(formerMaster ? { formerMasterUuid: formerMaster } : {}), evidence };
  }
  if (probed.length === 0) return { kind: 'unknown', evidence: ['no member answered the probe', ...evidence] };

  // sshd answered and refused our login (or showed another host key): the host is up, and whether its xapi runs as
  // master cannot be seen. Never a master loss, whatever the slaves say: recovering could make a second master.
  if (masterStatus?.health.kind === 'unreachable' && (masterStatus.health.failure === 'auth' || masterStatus.health.failure === 'host-key')) {
    return { kind: 'unknown', evidence: [`the master ${label(masterStatus)} answers SSH but refuses our login (${masterStatus.health.message}): it is up, and may run as master; update the credentials or its host key to see`, ...evidence] };
  }
  const masterLost = !masterAlive || slavesCutOff.length > 0;
  if (masterLost && inventory.haEnabled) {
    return { kind: 'ha', masterAddress, evidence: ['HA was enabled at the last discovery: xapi elects a new master by itself after its timeout', ...evidence] };
  }
  if (masterLost && inventory.haUnknown) {
    evidence.unshift('HA state unknown (declared in settings; no master has answered since): the recovery disarms HA on each survivor first, harmless where HA is off');
  }
  if (emergencySlaves.length > 0) {
    const answeringSlaves = slaves.filter((h) => h.facts.emergency !== undefined);
    const model = emergencySlaves.length === answeringSlaves.length ? 'docs' : 'code';
    return { kind: 'emergency', masterAddress, model, evidence };
  }
  if (masterLost) return { kind: 'master-unreachable', masterAddress, evidence };
  return { kind: 'unknown', evidence };
}
