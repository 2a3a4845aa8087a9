/**
 * The lab's own ("server side") copy of the xapi error texts and fixed messages, per version.
 * Source: ../shared/xapi-behaviour.md (sections A.0, A.9, C.3). Deliberately independent of src/core/xe/
 * so the product's parsers can be tested against it.
 */

export type XapiVersion = 'pre-2021' | '8.2' | '8.3';
export const XAPI_VERSIONS: readonly XapiVersion[] = ['pre-2021', '8.2', '8.3'];

export interface XapiError {
  code: string;
  /** Parameter values, in the order of the error's parameter names. */
  params: string[];
}

interface ErrorDef {
  params: string[];
  text: Record<XapiVersion, string>;
}

function same(text: string): Record<XapiVersion, string> {
  return { 'pre-2021': text, '8.2': text, '8.3': text };
}

/** A text reworded in 2020 (before the 8.2 line): pre-2021 prints the 2019 one (v1.160.0). */
function since2020(old: string, text: string): Record<XapiVersion, string> {
  return { 'pre-2021': old, '8.2': text, '8.3': text };
}

/** Doc strings (first line printed by xe) and parameter names (C.3, A.9). */
const ERRORS: Record<string, ErrorDef> = {
  HOST_IS_SLAVE: {
    params: ['Master IP address'],
    text: {
      'pre-2021': 'You cannot make regular API calls directly on a slave. Please pass API calls via the master host.',
      '8.2': 'You cannot make regular API calls directly on a pool member. Please pass API calls via the master host.',
      '8.3': 'You cannot make regular API calls directly on a supporter. Please pass API calls via the coordinator host.',
    },
  },
  HOST_ITS_OWN_SLAVE: {
    params: [],
    // A.9 gives the changing fragment ("…its own slave." → "…its own pool member." → "…its own supporter. Please use …").
    // The leading "The host is" and the second sentence in the older versions are reconstructed (unconfirmed).
    text: {
      'pre-2021': 'The host is its own slave. Please use pool-emergency-transition-to-master or pool-emergency-reset-master.',
      '8.2': 'The host is its own pool member. Please use pool-emergency-transition-to-master or pool-emergency-reset-master.',
      '8.3': 'The host is its own supporter. Please use pool-emergency-transition-to-master or pool-emergency-reset-master.',
    },
  },
  HOST_STILL_BOOTING: { params: [], text: same('The host toolstack is still initialising. Please wait.') },
  HOST_IN_EMERGENCY_MODE: { params: [], text: same('Cannot perform operation as the host is running in emergency mode.') },
  HOST_NOT_LIVE: { params: [], text: same('This operation cannot be completed as the server is not live.') },
  HOST_OFFLINE: { params: ['host'], text: same('You attempted an operation which involves a host which could not be contacted.') },
  CANNOT_CONTACT_HOST: {
    params: ['host'],
    text: same(
      'Cannot forward messages because the server cannot be contacted. The server may be switched off or there may be network connectivity problems.',
    ),
  },
  HOST_HAS_NO_MANAGEMENT_IP: {
    params: [],
    text: {
      'pre-2021': 'The server failed to acquire an IP address on its management interface and therefore cannot contact the master.',
      '8.2': 'The server failed to acquire an IP address on its management interface and therefore cannot contact the master.',
      '8.3': 'The server failed to acquire an IP address on its management interface and therefore cannot contact the coordinator.',
    },
  },
  HOST_MASTER_CANNOT_TALK_BACK: {
    params: ['ip'],
    text: {
      // pre-2021 wording is an inference from the slave → pool member → supporter renaming (unconfirmed).
      'pre-2021': 'The master reports that it cannot talk back to the slave on the supplied management IP address.',
      '8.2': 'The master reports that it cannot talk back to the pool member on the supplied management IP address.',
      '8.3': 'The coordinator reports that it cannot talk back to the supporter on the supplied management IP address.',
    },
  },
  HOST_UNKNOWN_TO_MASTER: {
    params: ['host'],
    text: {
      'pre-2021':
        "The master says the server is not known to it. Is the server in the master's database and pointing to the correct master? Are all servers using the same pool secret?",
      '8.2':
        "The master says the server is not known to it. Is the server in the master's database and pointing to the correct master? Are all servers using the same pool secret?",
      '8.3':
        "The coordinator says the server is not known to it. Is the server in the coordinator's database and pointing to the correct coordinator? Are all servers using the same pool secret?",
    },
  },
  HOST_BROKEN: {
    params: [],
    text: same('This server failed in the middle of an automatic failover operation and needs to retry the failover action.'),
  },
  HA_IS_ENABLED: { params: [], text: same('The operation could not be performed because HA is enabled on the Pool') },
  HA_NOT_ENABLED: { params: [], text: same('The operation could not be performed because HA is not enabled on the Pool') },
  HA_POOL_IS_ENABLED_BUT_HOST_IS_DISABLED: {
    params: [],
    text: {
      'pre-2021': 'This host cannot join the pool because the pool has HA enabled but this host has HA disabled.',
      '8.2': 'This server cannot join the pool because the pool has HA enabled but this server has HA disabled.',
      '8.3': 'This server cannot join the pool because the pool has HA enabled but this server has HA disabled.',
    },
  },
  // VM and host lifecycle (datamodel_errors.ml, read from the xen-api sources).
  HOST_IS_LIVE: { params: ['host'], text: since2020('This operation cannot be completed as the host is still live.', 'This operation cannot be completed because the server is still live.') },
  HOST_HAS_RESIDENT_VMS: {
    params: ['host'],
    text: since2020('This host cannot be forgotten because there are some user VMs still running', 'This server cannot be forgotten because there are user VMs still running.'),
  },
  CANNOT_RESET_CONTROL_DOMAIN: { params: ['vm'], text: same('The power-state of a control domain cannot be reset.') },
  DOMAIN_EXISTS: { params: ['vm', 'domid'], text: same('The operation could not be performed because a domain still exists for the specified VM.') },
  VM_BAD_POWER_STATE: {
    params: ['vm', 'expected', 'actual'],
    text: since2020(
      "You attempted an operation on a VM that was not in an appropriate power state at the time; for example, you attempted to start a VM that was already running.  The parameters returned are the VM's handle, and the expected and actual VM state at the time of the call.",
      "You attempted an operation on a VM that was not in an appropriate power state at the time; for example, you attempted to start a VM that was already running. The parameters returned are the VM's handle, and the expected and actual VM state at the time of the call.",
    ),
  },
  HOST_NOT_ENOUGH_FREE_MEMORY: {
    params: ['needed', 'available'],
    text: since2020('Not enough host memory is available to perform this operation', 'Not enough server memory is available to perform this operation.'),
  },
  VM_REQUIRES_SR: {
    params: ['vm', 'sr'],
    text: same("You attempted to run a VM on a host which doesn't have access to an SR needed by the VM. The VM has at least one VBD attached to a VDI in the SR."),
  },
  POOL_NOT_IN_EMERGENCY_MODE: { params: [], text: same('This pool is not in emergency mode.') },
  UUID_INVALID: { params: ['type', 'uuid'], text: same('The uuid you supplied was invalid.') },
  INTERNAL_ERROR: {
    params: ['message'],
    text: same(
      'The server failed to handle your request, due to an internal error. The given message may give details useful for debugging the problem.',
    ),
  },
};

export const KNOWN_ERROR_CODES: readonly string[] = Object.keys(ERRORS);

/** Renders an API error the way `xe` prints it on stderr (A.0): doc string, then `<param>: <value>` lines. */
export function renderError(err: XapiError, version: XapiVersion): string {
  const def = ERRORS[err.code];
  if (!def) {
    // Unknown code (A.0): printed by the client.
    return `Error code: ${err.code}\nError parameters: ${err.params.join(', ')}\n`;
  }
  const lines = [def.text[version]];
  def.params.forEach((name, i) => lines.push(`${name}: ${err.params[i] ?? ''}`));
  return lines.join('\n') + '\n';
}

export function xapiError(code: string, ...params: string[]): XapiError {
  return { code, params };
}

/**
 * The exception text stored with INTERNAL_ERROR when a slave cannot reach its master at start-up (C.2). Issue 11
 * (row 13, read from the xen-api sources) says it reads `message: INTERNAL_ERROR: [ … ]`: the stored error is
 * itself an API error turned into a string (ExnHelper.string_of_exn: `CODE: [ p1; p2 ]`). What stands inside the
 * brackets is UNCONFIRMED; we keep the name of xapi's stunnel exception there.
 */
export const MASTER_UNREACHABLE_EXCEPTION = 'INTERNAL_ERROR: [ Stunnel.Stunnel_connection_failed ]';

export const FUSE_TEXT = '10.'; // OCaml string_of_float 10. (A.0)
export const MSG = {
  connectionRefused: 'Error: Connection refused (calling connect )\n',
  lostConnection: 'Lost connection to the server.\n',
  usageLine: "For usage run: 'xe help'\n",
  unknownCommand: (name: string): string => `Unknown command: ${name}\nFor usage run: 'xe help'\n`,
  requiredParam: (p: string): string => `Required parameter not found: ${p}\nFor usage run: 'xe help'\n`,
  unknownSwitch: (s: string): string => `Unknown switch: ${s}\nFor usage run: 'xe help'\n`,
  transitionToMaster: `Host agent will restart and transition to master in ${FUSE_TEXT} seconds...\n`,
  alreadyMaster: "Host agent is already master. Use '--force' to execute the operation anyway.\n",
  becomeSlave: (addr: string): string => `Host agent will restart and become slave of ${addr} in ${FUSE_TEXT} seconds...\n`,
  mustForce: 'Error: This operation is dangerous and may cause data loss. This operation must be forced (use --force).\n',
  readOnly: (f: string): string => `Error: Field '${f}' is read-only.\n`,
  unknownField: (f: string): string => `Error: Unknown field '${f}'\n`,
  keyNotFound: (k: string): string => `Error: Key ${k} not found in map\n`,
  noMatchingHosts: 'Error: No matching hosts found\n',
  hostNotFound: (name: string): string => `Error: Host ${name} not found\n`,
  // cli_operations.ml host_forget: printed before xe asks for 'yes'. What xe does when no answer comes (an SSH
  // command has no terminal) is unconfirmed; the lab refuses, the harsher choice.
  hostForgetWarnings:
    "WARNING: A host should only be forgotten if it is physically unrecoverable;\nWARNING: if possible, Hosts should be 'ejected' from the Pool instead.\nWARNING: Once a host has been forgotten it will have to be re-installed.\nWARNING: This operation is irreversible.\nType 'yes' to continue\n",
  authFailed: "Authentication failed\nFor usage run: 'xe help'\n",
  credentialsNeeded: "Username/password must be specified\nFor usage run: 'xe help'\n",
  missingParamCode: (name: string): string => `Error code: Missing parameter\nError parameters: ${name}\n`,
  // xe-toolstack-restart prints these two lines (the script echoes "Executing $FILENAME" and "done."); unconfirmed by the notes.
  toolstackRestart: 'Executing xe-toolstack-restart\ndone.\n',
  // xe with no arguments: usage on stderr, exit 0 (A.0). The real text is long; this is its first lines (abbreviated).
  usage:
    'Usage: xe <cmd> [-s server] [-p port] ([-u username] [-pw password] or [-pwf <password file>]) [--traceback] <other arguments>\n' +
    '\n' +
    'A full list of commands can be obtained by running \n' +
    '\txe help -s <server> -p <port>\n',
};
