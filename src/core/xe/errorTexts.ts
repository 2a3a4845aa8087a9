/**
 * The doc strings and fixed texts `xe` prints, per xapi version. One table serves both sides: the
 * classifier in errors.ts reads them, and the lab simulator prints them.
 * Sources: see errors.ts.
 */

// ---------------------------------------------------------------------------------------------------------
// The doc-string table (shared with the lab simulator, which must print the very same texts)
// ---------------------------------------------------------------------------------------------------------

/**
 * Which xapi line printed a wording. 'pre-2021': XenServer 6/7 and CH 8.0–8.1 (anything before the
 * 2021 "pool member"/"supporter" rewording, including texts reworded during 2020); '8.2': v1.249.42,
 * the 8.2 LTS line; '8.3': v1.316+ (XCP-ng 8.3, XenServer 8).
 */
export type XapiWordingVersion = 'pre-2021' | '8.2' | '8.3';

export type XapiVersions = readonly [XapiWordingVersion, ...XapiWordingVersion[]];

export interface XapiErrorWording {
  readonly text: string;
  readonly versions: XapiVersions;
}

export interface XapiErrorDoc {
  /** Parameter labels, printed one per line as `<label>: <value>` after the doc string. */
  readonly params: readonly string[];
  /**
   * Every known first line. For a given version, the first wording that lists it is what that version
   * prints; a later wording with the same tag is an older text of that era that is still recognised.
   */
  readonly wordings: readonly XapiErrorWording[];
}

const EVERY_VERSION: XapiVersions = ['pre-2021', '8.2', '8.3'];

const ERROR_TEXTS = {
  HOST_IS_SLAVE: {
    params: ['Master IP address'],
    wordings: [
      {
        text: 'You cannot make regular API calls directly on a slave. Please pass API calls via the master host.',
        versions: ['pre-2021'],
      },
      {
        text: 'You cannot make regular API calls directly on a pool member. Please pass API calls via the master host.',
        versions: ['8.2'],
      },
      {
        text: 'You cannot make regular API calls directly on a supporter. Please pass API calls via the coordinator host.',
        versions: ['8.3'],
      },
    ],
  },
  HOST_ITS_OWN_SLAVE: {
    params: [],
    wordings: [
      {
        text: 'The host is its own slave. Please use pool-emergency-transition-to-master or pool-emergency-reset-master.',
        versions: ['pre-2021'],
      },
      {
        text: 'The host is its own pool member. Please use pool-emergency-transition-to-master or pool-emergency-reset-master.',
        versions: ['8.2'],
      },
      {
        text: 'The host is its own supporter. Please use pool-emergency-transition-to-master or pool-emergency-reset-master.',
        versions: ['8.3'],
      },
    ],
  },
  HOST_STILL_BOOTING: {
    params: [],
    wordings: [{ text: 'The host toolstack is still initialising. Please wait.', versions: EVERY_VERSION }],
  },
  // Defined but never raised by current xapi (spec C.3); recognised in case an old build does.
  HOST_IN_EMERGENCY_MODE: {
    params: [],
    wordings: [{ text: 'Cannot perform operation as the host is running in emergency mode.', versions: EVERY_VERSION }],
  },
  HOST_NOT_LIVE: {
    params: [],
    wordings: [
      { text: 'This operation cannot be completed as the host is not live.', versions: ['pre-2021'] },
      { text: 'This operation cannot be completed as the server is not live.', versions: EVERY_VERSION },
    ],
  },
  HOST_OFFLINE: {
    params: ['host'],
    wordings: [
      {
        text: 'You attempted an operation which involves a host which could not be contacted.',
        versions: EVERY_VERSION,
      },
    ],
  },
  CANNOT_CONTACT_HOST: {
    params: ['host'],
    wordings: [
      {
        // Two spaces after the first sentence: that is how the 2019 source has it.
        text: 'Cannot forward messages because the host cannot be contacted.  The host may be switched off or there may be network connectivity problems.',
        versions: ['pre-2021'],
      },
      {
        text: 'Cannot forward messages because the server cannot be contacted. The server may be switched off or there may be network connectivity problems.',
        versions: EVERY_VERSION,
      },
    ],
  },
  HOST_HAS_NO_MANAGEMENT_IP: {
    params: [],
    wordings: [
      {
        text: 'The host failed to acquire an IP address on its management interface and therefore cannot contact the master.',
        versions: ['pre-2021'],
      },
      {
        text: 'The server failed to acquire an IP address on its management interface and therefore cannot contact the master.',
        versions: ['pre-2021', '8.2'],
      },
      {
        text: 'The server failed to acquire an IP address on its management interface and therefore cannot contact the coordinator.',
        versions: ['8.3'],
      },
    ],
  },
  HOST_MASTER_CANNOT_TALK_BACK: {
    params: ['ip'],
    wordings: [
      {
        text: 'The master reports that it cannot talk back to the slave on the supplied management IP address.',
        versions: ['pre-2021'],
      },
      {
        text: 'The master reports that it cannot talk back to the pool member on the supplied management IP address.',
        versions: ['8.2'],
      },
      {
        text: 'The coordinator reports that it cannot talk back to the supporter on the supplied management IP address.',
        versions: ['8.3'],
      },
    ],
  },
  HOST_UNKNOWN_TO_MASTER: {
    params: ['host'],
    wordings: [
      {
        text: "The master says the host is not known to it. Perhaps the Host was deleted from the master's database? Perhaps the slave is pointing to the wrong master?",
        versions: ['pre-2021'],
      },
      {
        text: "The master says the server is not known to it. Is the server in the master's database and pointing to the correct master? Are all servers using the same pool secret?",
        versions: ['pre-2021', '8.2'],
      },
      {
        text: "The coordinator says the server is not known to it. Is the server in the coordinator's database and pointing to the correct coordinator? Are all servers using the same pool secret?",
        versions: ['8.3'],
      },
    ],
  },
  HOST_BROKEN: {
    params: [],
    wordings: [
      {
        text: 'This host failed in the middle of an automatic failover operation and needs to retry the failover action',
        versions: ['pre-2021'],
      },
      {
        text: 'This server failed in the middle of an automatic failover operation and needs to retry the failover action.',
        versions: EVERY_VERSION,
      },
    ],
  },
  HA_IS_ENABLED: {
    params: [],
    // No final period in any version.
    wordings: [{ text: 'The operation could not be performed because HA is enabled on the Pool', versions: EVERY_VERSION }],
  },
  HA_NOT_ENABLED: {
    params: [],
    // host-emergency-ha-disable on a host whose HA is not armed (xapi_ha.ml emergency_ha_disable).
    wordings: [{ text: 'The operation could not be performed because HA is not enabled on the Pool', versions: EVERY_VERSION }],
  },
  HA_HOST_CANNOT_ACCESS_STATEFILE: {
    params: [],
    wordings: [
      {
        text: 'The host could not join the liveset because the HA daemon could not access the heartbeat disk.',
        versions: ['pre-2021'],
      },
      {
        text: 'The server could not join the liveset because the HA daemon could not access the heartbeat disk.',
        versions: EVERY_VERSION,
      },
    ],
  },
  HA_HEARTBEAT_DAEMON_STARTUP_FAILED: {
    params: [],
    wordings: [
      { text: 'The host could not join the liveset because the HA daemon failed to start.', versions: ['pre-2021'] },
      { text: 'The server could not join the liveset because the HA daemon failed to start.', versions: EVERY_VERSION },
    ],
  },
  HA_POOL_IS_ENABLED_BUT_HOST_IS_DISABLED: {
    params: [],
    wordings: [
      {
        text: 'This host cannot join the pool because the pool has HA enabled but this host has HA disabled.',
        versions: ['pre-2021'],
      },
      {
        text: 'This server cannot join the pool because the pool has HA enabled but this server has HA disabled.',
        versions: EVERY_VERSION,
      },
    ],
  },
  // The VM and host lifecycle after a host died (datamodel_errors.ml).
  HOST_IS_LIVE: {
    params: ['host'],
    wordings: [
      { text: 'This operation cannot be completed as the host is still live.', versions: ['pre-2021'] },
      { text: 'This operation cannot be completed because the server is still live.', versions: EVERY_VERSION },
    ],
  },
  HOST_HAS_RESIDENT_VMS: {
    params: ['host'],
    wordings: [
      { text: 'This host cannot be forgotten because there are some user VMs still running', versions: ['pre-2021'] },
      { text: 'This server cannot be forgotten because there are user VMs still running.', versions: EVERY_VERSION },
    ],
  },
  CANNOT_RESET_CONTROL_DOMAIN: {
    params: ['vm'],
    wordings: [{ text: 'The power-state of a control domain cannot be reset.', versions: EVERY_VERSION }],
  },
  DOMAIN_EXISTS: {
    params: ['vm', 'domid'],
    wordings: [{ text: 'The operation could not be performed because a domain still exists for the specified VM.', versions: EVERY_VERSION }],
  },
  VM_BAD_POWER_STATE: {
    params: ['vm', 'expected', 'actual'],
    wordings: [
      {
        // Two spaces after the first sentence until 2020.
        text: "You attempted an operation on a VM that was not in an appropriate power state at the time; for example, you attempted to start a VM that was already running.  The parameters returned are the VM's handle, and the expected and actual VM state at the time of the call.",
        versions: ['pre-2021'],
      },
      {
        text: "You attempted an operation on a VM that was not in an appropriate power state at the time; for example, you attempted to start a VM that was already running. The parameters returned are the VM's handle, and the expected and actual VM state at the time of the call.",
        versions: EVERY_VERSION,
      },
    ],
  },
  HOST_NOT_ENOUGH_FREE_MEMORY: {
    params: ['needed', 'available'],
    wordings: [
      { text: 'Not enough host memory is available to perform this operation', versions: ['pre-2021'] },
      { text: 'Not enough server memory is available to perform this operation.', versions: EVERY_VERSION },
    ],
  },
  VM_REQUIRES_SR: {
    params: ['vm', 'sr'],
    wordings: [
      {
        text: "You attempted to run a VM on a host which doesn't have access to an SR needed by the VM. The VM has at least one VBD attached to a VDI in the SR.",
        versions: EVERY_VERSION,
      },
    ],
  },
  // Raised only by host-emergency-management-reconfigure on a host that is not in emergency mode.
  POOL_NOT_IN_EMERGENCY_MODE: {
    params: [],
    wordings: [{ text: 'This pool is not in emergency mode.', versions: EVERY_VERSION }],
  },
  UUID_INVALID: {
    params: ['type', 'uuid'],
    wordings: [{ text: 'The uuid you supplied was invalid.', versions: EVERY_VERSION }],
  },
  INTERNAL_ERROR: {
    params: ['message'],
    wordings: [
      {
        // Two spaces after the first sentence: that is how the 2019 source has it.
        text: 'The server failed to handle your request, due to an internal error.  The given message may give details useful for debugging the problem.',
        versions: ['pre-2021'],
      },
      {
        text: 'The server failed to handle your request, due to an internal error. The given message may give details useful for debugging the problem.',
        versions: EVERY_VERSION,
      },
    ],
  },
} as const satisfies Record<string, XapiErrorDoc>;

export type XapiErrorCode = keyof typeof ERROR_TEXTS;

/** API error doc strings, as `xe` prints them on stderr (first line), keyed by API error code. */
export const XAPI_ERROR_TEXTS: Readonly<Record<XapiErrorCode, XapiErrorDoc>> = ERROR_TEXTS;

/** Fixed texts printed by the CLI server or the `xe` client itself (not API doc strings). */
export const XE_CLI_TEXTS = {
  usageHint: "For usage run: 'xe help'",
  forceRequired:
    'Error: This operation is dangerous and may cause data loss. This operation must be forced (use --force).',
  /** The Unix_error format of the client (`Error: <message> (calling <function> <argument>)`) when xapi is down. */
  xapiConnectionRefused: 'Error: Connection refused (calling connect )',
  connectionLost: 'Lost connection to the server.',
  serverUnreachable: 'Unable to contact server. Please check server and port settings.',
  noManagementAgent: 'Failed to contact a running management agent.',
  authenticationFailed: 'Authentication failed',
  credentialsRequired: 'Username/password must be specified',
  /** Printed on stdout with exit 0 by pool-emergency-transition-to-master on a master without --force. */
  alreadyMaster: "Host agent is already master. Use '--force' to execute the operation anyway.",
} as const;

export type ParamLabel<C extends XapiErrorCode> = (typeof ERROR_TEXTS)[C]['params'][number];

/**
 * The stderr text `xe` prints for an API error, as the given xapi version words it — for the lab simulator.
 * `paramValues` follow the order of `XAPI_ERROR_TEXTS[code].params`.
 */
export function formatXapiError(
  code: XapiErrorCode,
  version: XapiWordingVersion,
  paramValues: readonly string[],
): string {
  const doc = XAPI_ERROR_TEXTS[code];
  const wording = doc.wordings.find((candidate) => candidate.versions.includes(version));
  if (wording === undefined) throw new RangeError(`${code} has no wording for xapi ${version}`);
  if (paramValues.length !== doc.params.length) {
    throw new RangeError(`${code} takes ${doc.params.length} parameter(s), got ${paramValues.length}`);
  }
  const paramLines = doc.params.map((label, index) => `${label}: ${paramValues[index]}\n`);
  return `${wording.text}\n${paramLines.join('')}`;
}
