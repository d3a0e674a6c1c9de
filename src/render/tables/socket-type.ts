/**
 * BSM socket types (sys/bsm/audit_socket_type.h; bsm-format.md §11.3). These are Solaris numbers:
 * STREAM = 2 and DGRAM = 1, the reverse of BSD/Linux, so never read them as local SOCK_* values.
 */
export const SOCKET_TYPES: ReadonlyMap<number, string> = new Map([
  [1, 'DGRAM'],
  [2, 'STREAM'],
  [4, 'RAW'],
  [5, 'RDM'],
  [6, 'SEQPACKET'],
  [500, 'UNKNOWN'],
]);

/** The BSM socket type name, or undefined for an undefined number. */
export function socketTypeName(bsmType: number): string | undefined {
  return SOCKET_TYPES.get(bsmType);
}
