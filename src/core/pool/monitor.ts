import type { HostRunner } from './hostAccess';
import type { HostStatus, PoolInventory, PoolMember, PoolVerdict } from './model';
import { probeHost, type ProbeOptions } from './prober';
import { judgePool } from './verdict';
import type { VmSnapshot } from './vms';
import { nextRefreshOrder, type QueuePlace } from '../ssh/transport';
import { xeOperations } from '../xe/operations';
import { isUuid } from '../xe/validate';

/** A transition to master whose outcome is unknown (the call ended uncleanly): the host may be becoming master. */
export interface PendingTransition {
  readonly member: PoolMember;
  readonly since: number;
}

/**
 * How long an unknown transition can still take effect: xapi's fuse (10 s) and its restart as master, with room
 * for a slow start-up. A host still not master after this, with its xapi running, did not take the call.
 */
export const PENDING_TRANSITION_MS = 180_000;

/**
 * The live picture of one pool: its remembered members, the latest probe of each, and the
 * verdict. A refresh marks hosts "probing" at once and replaces each as its answer arrives, so a
 * view never waits for the slowest (or a dead) host.
 */
export class PoolMonitor {
  private readonly statuses = new Map<string, HostStatus>();
  /** Each host's last successful probe: a host that stops answering keeps showing the role it had. */
  private readonly lastProbed = new Map<string, HostStatus>();
  private readonly listeners: ((hostUuid: string | undefined) => void)[] = [];
  private readonly learnListeners: ((inventory: PoolInventory) => void)[] = [];
  private currentVerdict: PoolVerdict | undefined;
  private inFlight = 0;
  /** The probe running on each host: never two at once on one host. */
  private readonly probing = new Map<string, Promise<void>>();
  private pending: PendingTransition | undefined;
  private vmSnapshot: VmSnapshot | undefined;
  private vmProblemText: string | undefined;
  private vmReadFailedValue = false;
  /** The host states the VMs were last read for: a background refresh reads them again only when these change. */
  private vmReadFor = '';

  constructor(
    readonly runner: HostRunner,
    private inventoryValue: PoolInventory,
    private readonly probeOptions: () => ProbeOptions,
  ) {}

  get inventory(): PoolInventory {
    return this.inventoryValue;
  }

  get verdict(): PoolVerdict | undefined {
    return this.currentVerdict;
  }

  get refreshing(): boolean {
    return this.inFlight > 0;
  }

  /** The host that may be becoming master after a transition with an unknown outcome, until a probe settles it. */
  get pendingTransition(): PendingTransition | undefined {
    return this.pending;
  }

  markTransitionPending(member: PoolMember, since = Date.now()): void {
    this.pending = { member, since };
    this.emit(member.uuid);
  }

  /** Settled once the host runs as master, or runs (as anything else) after the transition could have happened. */
  private settlePending(status: HostStatus): void {
    if (!this.pending || status.member.uuid !== this.pending.member.uuid || status.health.kind !== 'probed') return;
    const facts = status.health.facts;
    const master = facts.role?.role === 'master' && facts.xapi === 'running';
    if (master || (facts.xapi === 'running' && Date.now() - this.pending.since > PENDING_TRANSITION_MS)) this.pending = undefined;
  }

  /** The VMs as the running master's database last said; kept (and shown as such) while no master answers. */
  get vms(): VmSnapshot | undefined {
    return this.vmSnapshot;
  }

  /** The last read reached a master and failed (not merely: no master answers). */
  get vmReadFailed(): boolean {
    return this.vmReadFailedValue;
  }

  /** Why the VMs could not be read at the last try (no master answers, or the read failed); undefined after a good read. */
  get vmProblem(): string | undefined {
    return this.vmProblemText;
  }

  /**
   * Reads the VMs from the one running master (eight xe calls, forwarded commands: never sent to a slave, where they
   * would hang with the master dead). Best effort: a failure is kept as vmProblem, the last snapshot stays.
   */
  async readVms(place: QueuePlace = {}): Promise<void> {
    const masters = this.answeringMasters();
    const [master, another] = masters;
    this.vmReadFor = this.hostStateKey();
    this.vmReadFailedValue = false;
    if (!master || another) {
      this.vmProblemText = another ? 'two hosts answer as master' : 'no master answers';
      this.emit(undefined);
      return;
    }
    try {
      const run = this.runner.xe(master.address, { timeoutMs: this.probeOptions().commandTimeoutMs, ...place });
      // At once, on channels of one connection: one after another, each waited for a connection of its own while a
      // big refresh held them all (the idle master's was the first to be closed for someone else's).
      const [vms, memory, srs] = await Promise.all([xeOperations.guestVms(run), xeOperations.hostMemory(run), xeOperations.srs(run)]);
      this.vmSnapshot = {
        vms,
        memory: new Map(memory.map((m) => [m.uuid, m])),
        srNames: new Map(srs.map((sr) => [sr.uuid, sr.name])),
        readAt: new Date().toISOString(),
        fromUuid: master.uuid,
      };
      this.vmProblemText = undefined;
    } catch (error) {
      this.vmProblemText = `cannot read the VMs from ${master.name}: ${(error as Error).message}`;
      this.vmReadFailedValue = true;
    }
    this.emit(undefined);
  }

  private answeringMasters(): PoolMember[] {
    return this.inventory.members.filter((m) => {
      const health = this.statuses.get(m.uuid)?.health;
      return health?.kind === 'probed' && health.facts.role?.role === 'master' && health.facts.xapi === 'running';
    });
  }

  private hostStateKey(): string {
    return this.allStatuses()
      .map((s) => `${s.member.uuid}:${s.health.kind === 'probed' ? `${s.health.facts.role?.role ?? '?'}/${s.health.facts.xapi}/${String(s.health.facts.emergency)}` : s.health.kind}`)
      .join(',');
  }

  status(hostUuid: string): HostStatus | undefined {
    return this.statuses.get(hostUuid);
  }

  lastProbedStatus(hostUuid: string): HostStatus | undefined {
    return this.lastProbed.get(hostUuid);
  }

  allStatuses(): HostStatus[] {
    return this.inventory.members.map((member) => this.statuses.get(member.uuid) ?? { member, health: { kind: 'probing' } });
  }

  /** A listener gets the host that changed, or undefined when the pool as a whole did. Returns an unsubscribe function. */
  onDidChange(listener: (hostUuid: string | undefined) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /** Called whenever a probe taught the inventory what it did not know: a declared member's UUID, HA's state. */
  onDidLearn(listener: (inventory: PoolInventory) => void): void {
    this.learnListeners.push(listener);
  }

  /** After a rediscovery: new members appear, gone ones disappear, known ones keep their last state. */
  replaceInventory(inventory: PoolInventory): void {
    this.inventoryValue = inventory;
    for (const uuid of [...this.statuses.keys()]) {
      if (!inventory.members.some((m) => m.uuid === uuid)) {
        this.statuses.delete(uuid);
        this.lastProbed.delete(uuid);
      }
    }
    this.judge();
  }

  /**
   * Probes the given hosts (default: all) in parallel; resolves when the last answered. Never two probes on one host
   * at once: a `background` refresh skips a host whose probe is running, any other waits for it and probes anew (a
   * command's re-check must see the host as it is now, not as it was when that probe began). A background refresh's
   * new connections are paced (RunOptions.paced).
   */
  async refresh(hostUuids?: readonly string[], options: { readonly background?: boolean } = {}): Promise<void> {
    const members = this.inventory.members.filter((m) => (!hostUuids || hostUuids.includes(m.uuid)) && !(options.background && this.probing.has(m.uuid)));
    this.inFlight++;
    try {
      for (const member of members) {
        const previous = this.statuses.get(member.uuid);
        // Keep the last known facts visible while probing; only a never-probed host shows "probing".
        if (!previous) this.statuses.set(member.uuid, { member, health: { kind: 'probing' } });
      }
      this.emit(undefined);
      // This refresh's place in the queue for connections (see RunOptions.queueOrder): its VM read follows its own probes.
      const place: QueuePlace = { queueOrder: nextRefreshOrder(), paced: options.background === true };
      await Promise.all(members.map((member) => this.probeOnce(member, place)));
      if (this.inventory.haUnknown) await this.learnHa(place);
      // A full refresh reads the VMs again; a background or partial one only when some host changed state since.
      // The verdict comes first: a master slow to list its VMs must not hold back what the probes found.
      this.judge();
      if ((!options.background && !hostUuids) || this.hostStateKey() !== this.vmReadFor) await this.readVms(place);
    } finally {
      this.inFlight--;
      this.judge();
    }
  }

  /** One probe of a member, after the one running on it (if any). */
  private probeOnce(member: PoolMember, place: QueuePlace): Promise<void> {
    const before = this.probing.get(member.uuid)?.catch(() => undefined) ?? Promise.resolve();
    const probe = before.then(async () => {
      // A stand-in UUID may have been learnt by the probe this one waited for.
      const current = this.inventory.members.find((m) => m.address === member.address && (m.uuid === member.uuid || member.provisionalUuid)) ?? member;
      const status = this.learnIdentity(await probeHost(this.runner, current, { ...this.probeOptions(), ...place }));
      this.statuses.set(status.member.uuid, status);
      if (status.health.kind === 'probed') this.lastProbed.set(status.member.uuid, status);
      this.settlePending(status);
      this.emit(status.member.uuid);
    });
    this.probing.set(member.uuid, probe);
    const done = () => {
      if (this.probing.get(member.uuid) === probe) this.probing.delete(member.uuid);
    };
    probe.then(done, done);
    return probe;
  }

  /**
   * A member whose UUID is a stand-in (declared in settings without one) takes the UUID its host answers with, the
   * first time it answers; from then on the identity check holds it to that. Two members answering as one host is
   * refused instead.
   */
  private learnIdentity(status: HostStatus): HostStatus {
    const { member } = status;
    const learnt = status.health.kind === 'probed' ? status.health.facts.installationUuid?.toLowerCase() : undefined;
    if (!member.provisionalUuid || !learnt || !isUuid(learnt)) return status;
    const other = this.inventory.members.find((m) => m !== member && m.uuid.toLowerCase() === learnt);
    if (other) return { member, health: { kind: 'invalid', message: `${member.address} answers as host ${learnt}, which ${other.name} (${other.address}) is already: two members of the setting are one host` } };
    const known: PoolMember = { uuid: learnt, name: member.name, address: member.address };
    this.statuses.delete(member.uuid);
    this.lastProbed.delete(member.uuid);
    this.learnt({
      ...this.inventory,
      members: this.inventory.members.map((m) => (m === member ? known : m)),
      ...(this.inventory.masterUuid === member.uuid ? { masterUuid: learnt } : {}),
    });
    return { ...status, member: known };
  }

  /** Reads HA's state from the one running master, if there is one now; it stays unknown otherwise. */
  private async learnHa(place: QueuePlace): Promise<void> {
    const [master, another] = this.answeringMasters();
    if (!master || another) return;
    try {
      const haEnabled = await xeOperations.poolHaEnabled(this.runner.xe(master.address, { timeoutMs: this.probeOptions().commandTimeoutMs, ...place }));
      const inventory: PoolInventory = { ...this.inventory, haEnabled };
      delete (inventory as { haUnknown?: boolean }).haUnknown;
      this.learnt(inventory);
    } catch {
      // The probe said what matters; HA stays unknown and is read at the next refresh.
    }
  }

  private learnt(inventory: PoolInventory): void {
    this.inventoryValue = inventory;
    for (const listener of this.learnListeners) listener(inventory);
  }

  private judge(): void {
    const statuses = this.allStatuses();
    this.currentVerdict = statuses.some((s) => s.health.kind === 'probing') ? undefined : judgePool(this.inventory, statuses);
    this.emit(undefined);
  }

  private emit(hostUuid: string | undefined): void {
    for (const listener of this.listeners) listener(hostUuid);
  }
}
