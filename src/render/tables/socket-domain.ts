/**
 * BSM socket domains (sys/bsm/audit_domain.h; bsm-format.md §11.2): the values in socket_ex tokens, in
 * XNU-written socket-inet/-inet6 families and in the arg32 "domain" of socket records. These are BSM numbers,
 * not any host's AF_* values (Darwin AF_INET6 = 30 is BSM 26). 1–30 Solaris, 500–516 BSD/Darwin, 518–534 Linux.
 */
const ENTRIES: ReadonlyArray<readonly [number, string]> = [
  [0, 'UNSPEC'], [1, 'LOCAL'], [2, 'INET'], [3, 'IMPLINK'], [4, 'PUP'], [5, 'CHAOS'], [6, 'NS'], [7, 'NBS'],
  [8, 'ECMA'], [9, 'DATAKIT'], [10, 'CCITT'], [11, 'SNA'], [12, 'DECnet'], [13, 'DLI'], [14, 'LAT'],
  [15, 'HYLINK'], [16, 'APPLETALK'], [17, 'NIT'], [18, '802'], [19, 'OSI'], [20, 'X25'], [21, 'OSINET'],
  [22, 'GOSIP'], [23, 'IPX'], [24, 'ROUTE'], [25, 'LINK'], [26, 'INET6'], [27, 'KEY'], [28, 'NCA'],
  [29, 'POLICY'], [30, 'INET_OFFLOAD'],
  [500, 'NETBIOS'], [501, 'ISO'], [502, 'XTP'], [503, 'COIP'], [504, 'CNT'], [505, 'RTIP'], [506, 'SIP'],
  [507, 'PIP'], [508, 'ISDN'], [509, 'E164'], [510, 'NATM'], [511, 'ATM'], [512, 'NETGRAPH'], [513, 'SLOW'],
  [514, 'SCLUSTER'], [515, 'ARP'], [516, 'BLUETOOTH'],
  [518, 'AX25'], [519, 'ROSE'], [520, 'NETBEUI'], [521, 'SECURITY'], [522, 'PACKET'], [523, 'ASH'],
  [524, 'ECONET'], [525, 'ATMSVC'], [526, 'IRDA'], [527, 'PPPOX'], [528, 'WANPIPE'], [529, 'LLC'], [530, 'CAN'],
  [531, 'TIPC'], [532, 'IUCV'], [533, 'RXRPC'], [534, 'PHONET'],
  [700, 'UNKNOWN'],
];

/** BSM socket domain number → name (`INET`, `INET6`, `LOCAL`, …). */
export const SOCKET_DOMAINS: ReadonlyMap<number, string> = new Map(ENTRIES);

/** The BSM socket domain name, or undefined for a number the header does not define (e.g. 517). */
export function socketDomainName(bsmDomain: number): string | undefined {
  return SOCKET_DOMAINS.get(bsmDomain);
}
