/**
 * BSM errno numbers (sys/bsm/audit_errno.h) with OpenBSM's names and texts (libbsm/bsm_errno.c), and the rule
 * that decides what praudit prints for a return token's status on each platform (bsm-format.md §10, §11.1).
 *
 * praudit maps the BSM number to the reading host's errno and prints `strerror()` only when that errno exists
 * there, so the set of numbers with a text, and the wording, depend on the platform. Sources per platform are
 * listed in docs/praudit-compat.md.
 */
import type { Platform } from './platform.js';

/** [BSM number, name, OpenBSM text]; no text = defined in the header but missing from OpenBSM's table. */
type Row = [number, string, string?];

const ROWS: Row[] = [
  [0, 'ESUCCESS', 'Success'],
  [1, 'EPERM', 'Operation not permitted'],
  [2, 'ENOENT', 'No such file or directory'],
  [3, 'ESRCH', 'No such process'],
  [4, 'EINTR', 'Interrupted system call'],
  [5, 'EIO', 'Input/output error'],
  [6, 'ENXIO', 'Device not configured'],
  [7, 'E2BIG', 'Argument list too long'],
  [8, 'ENOEXEC', 'Exec format error'],
  [9, 'EBADF', 'Bad file descriptor'],
  [10, 'ECHILD', 'No child processes'],
  [11, 'EAGAIN', 'Resource temporarily unavailable'],
  [12, 'ENOMEM', 'Cannot allocate memory'],
  [13, 'EACCES', 'Permission denied'],
  [14, 'EFAULT', 'Bad address'],
  [15, 'ENOTBLK', 'Block device required'],
  [16, 'EBUSY', 'Device busy'],
  [17, 'EEXIST', 'File exists'],
  [18, 'EXDEV', 'Cross-device link'],
  [19, 'ENODEV', 'Operation not supported by device'],
  [20, 'ENOTDIR', 'Not a directory'],
  [21, 'EISDIR', 'Is a directory'],
  [22, 'EINVAL', 'Invalid argument'],
  [23, 'ENFILE', 'Too many open files in system'],
  [24, 'EMFILE', 'Too many open files'],
  [25, 'ENOTTY', 'Inappropriate ioctl for device'],
  [26, 'ETXTBSY', 'Text file busy'],
  [27, 'EFBIG', 'File too large'],
  [28, 'ENOSPC', 'No space left on device'],
  [29, 'ESPIPE', 'Illegal seek'],
  [30, 'EROFS', 'Read-only file system'],
  [31, 'EMLINK', 'Too many links'],
  [32, 'EPIPE', 'Broken pipe'],
  [33, 'EDOM', 'Numerical argument out of domain'],
  [34, 'ERANGE', 'Result too large'],
  [35, 'ENOMSG', 'No message of desired type'],
  [36, 'EIDRM', 'Identifier removed'],
  [37, 'ECHRNG', 'Channel number out of range'],
  [38, 'EL2NSYNC', 'Level 2 not synchronized'],
  [39, 'EL3HLT', 'Level 3 halted'],
  [40, 'EL3RST', 'Level 3 reset'],
  [41, 'ELNRNG', 'Link number out of range'],
  [42, 'EUNATCH', 'Protocol driver not attached'],
  [43, 'ENOCSI', 'No CSI structure available'],
  [44, 'EL2HLT', 'Level 2 halted'],
  [45, 'EDEADLK', 'Resource deadlock avoided'],
  [46, 'ENOLCK', 'No locks available'],
  [47, 'ECANCELED', 'Operation canceled'],
  [48, 'ENOTSUP', 'Operation not supported'],
  [49, 'EDQUOT', 'Disc quota exceeded'],
  [50, 'EBADE', 'Invalid exchange'],
  [51, 'EBADR', 'Invalid request descriptor'],
  [52, 'EXFULL', 'Exchange full'],
  [53, 'ENOANO', 'No anode'],
  [54, 'EBADRQC', 'Invalid request descriptor'],
  [55, 'EBADSLT', 'Invalid slot'],
  [56, 'EDEADLOCK', 'Resource deadlock avoided'],
  [57, 'EBFONT', 'Bad font file format'],
  [58, 'EOWNERDEAD', 'Process died with the lock'],
  [59, 'ENOTRECOVERABLE', 'Lock is not recoverable'],
  [60, 'ENOSTR', 'Device not a stream'],
  [61, 'ENODATA'],
  [62, 'ETIME'],
  [63, 'ENOSR'],
  [64, 'ENONET', 'Machine is not on the network'],
  [65, 'ENOPKG', 'Package not installed'],
  [66, 'EREMOTE', 'Too many levels of remote in path'],
  [67, 'ENOLINK', 'Link has been severed'],
  [68, 'EADV', 'Advertise error'],
  [69, 'ESRMNT', 'srmount error'],
  [70, 'ECOMM', 'Communication error on send'],
  [71, 'EPROTO', 'Protocol error'],
  [72, 'ELOCKUNMAPPED', 'Locked lock was unmapped'],
  [73, 'ENOTACTIVE', 'Facility is not active'],
  [74, 'EMULTIHOP', 'Multihop attempted'],
  [77, 'EBADMSG', 'Bad message'],
  [78, 'ENAMETOOLONG', 'File name too long'],
  [79, 'EOVERFLOW', 'Value too large to be stored in data type'],
  [80, 'ENOTUNIQ', 'Given log name not unique'],
  [81, 'EBADFD', 'Given f.d. invalid for this operation'],
  [82, 'EREMCHG', 'Remote address changed'],
  [83, 'ELIBACC', 'Can\'t access a needed shared lib'],
  [84, 'ELIBBAD', 'Accessing a corrupted shared lib'],
  [85, 'ELIBSCN', '.lib section in a.out corrupted'],
  [86, 'ELIBMAX', 'Attempting to link in too many libs'],
  [87, 'ELIBEXEC', 'Attempting to exec a shared library'],
  [88, 'EILSEQ', 'Illegal byte sequence'],
  [89, 'ENOSYS', 'Function not implemented'],
  [90, 'ELOOP', 'Too many levels of symbolic links'],
  [91, 'ERESTART', 'Restart syscall'],
  [92, 'ESTRPIPE', 'If pipe/FIFO, don\'t sleep in stream head'],
  [93, 'ENOTEMPTY', 'Directory not empty'],
  [94, 'EUSERS', 'Too many users'],
  [95, 'ENOTSOCK', 'Socket operation on non-socket'],
  [96, 'EDESTADDRREQ', 'Destination address required'],
  [97, 'EMSGSIZE', 'Message too long'],
  [98, 'EPROTOTYPE', 'Protocol wrong type for socket'],
  [99, 'ENOPROTOOPT', 'Protocol not available'],
  [120, 'EPROTONOSUPPORT', 'Protocol not supported'],
  [121, 'ESOCKTNOSUPPORT', 'Socket type not supported'],
  [122, 'EOPNOTSUPP', 'Operation not supported'],
  [123, 'EPFNOSUPPORT', 'Protocol family not supported'],
  [124, 'EAFNOSUPPORT', 'Address family not supported by protocol family'],
  [125, 'EADDRINUSE', 'Address already in use'],
  [126, 'EADDRNOTAVAIL', 'Can\'t assign requested address'],
  [127, 'ENETDOWN', 'Network is down'],
  [128, 'ENETUNREACH'],
  [129, 'ENETRESET', 'Network dropped connection on reset'],
  [130, 'ECONNABORTED', 'Software caused connection abort'],
  [131, 'ECONNRESET', 'Connection reset by peer'],
  [132, 'ENOBUFS', 'No buffer space available'],
  [133, 'EISCONN', 'Socket is already connected'],
  [134, 'ENOTCONN', 'Socket is not connected'],
  [143, 'ESHUTDOWN', 'Can\'t send after socket shutdown'],
  [144, 'ETOOMANYREFS', 'Too many references: can\'t splice'],
  [145, 'ETIMEDOUT', 'Operation timed out'],
  [146, 'ECONNREFUSED', 'Connection refused'],
  [147, 'EHOSTDOWN', 'Host is down'],
  [148, 'EHOSTUNREACH', 'No route to host'],
  [149, 'EALREADY', 'Operation already in progress'],
  [150, 'EINPROGRESS', 'Operation now in progress'],
  [151, 'ESTALE', 'Stale NFS file handle'],
  [152, 'EQFULL'],
  [190, 'EPROCLIM', 'Too many processes'],
  [191, 'EBADRPC', 'RPC struct is bad'],
  [192, 'ERPCMISMATCH', 'RPC version wrong'],
  [193, 'EPROGUNAVAIL', 'RPC prog. not avail'],
  [194, 'EPROGMISMATCH', 'RPC version wrong'],
  [195, 'EPROCUNAVAIL', 'Bad procedure for program'],
  [196, 'EFTYPE', 'Inappropriate file type or format'],
  [197, 'EAUTH', 'Authenticateion error'],
  [198, 'ENEEDAUTH', 'Need authenticator'],
  [199, 'ENOATTR', 'Attribute not found'],
  [200, 'EDOOFUS', 'Programming error'],
  [201, 'EJUSTRETURN', 'Just return'],
  [202, 'ENOIOCTL', 'ioctl not handled by this layer'],
  [203, 'EDIRIOCTL', 'do direct ioctl in GEOM'],
  [204, 'EPWROFF', 'Device power is off'],
  [205, 'EDEVERR', 'Device error'],
  [206, 'EBADEXEC', 'Bad executable'],
  [207, 'EBADARCH', 'Bad CPU type in executable'],
  [208, 'ESHLIBVERS', 'Shared library version mismatch'],
  [209, 'EBADMACHO', 'Malformed Macho file'],
  [210, 'EPOLICY', 'Operation failed by policy'],
  [211, 'EDOTDOT', 'RFS specific error'],
  [212, 'EUCLEAN', 'Structure needs cleaning'],
  [213, 'ENOTNAM', 'Not a XENIX named type file'],
  [214, 'ENAVAIL', 'No XENIX semaphores available'],
  [215, 'EISNAM', 'Is a named type file'],
  [216, 'EREMOTEIO', 'Remote I/O error'],
  [217, 'ENOMEDIUM', 'No medium found'],
  [218, 'EMEDIUMTYPE', 'Wrong medium type'],
  [219, 'ENOKEY', 'Required key not available'],
  [220, 'EKEYEXPIRED', 'Key has expired'],
  [221, 'EKEYREVOKED', 'Key has been revoked'],
  [222, 'EKEYREJECTED', 'Key was rejected by service'],
  [223, 'ENOTCAPABLE', 'Capabilities insufficient'],
  [224, 'ECAPMODE', 'Not permitted in capability mode'],
  [225, 'EINTEGRITY', 'Integrity check failed'],
  [250, 'UNKNOWN'],
];

const NAMES: (string | undefined)[] = new Array(256);
const TEXTS: (string | undefined)[] = new Array(256);
for (const [n, name, text] of ROWS) {
  NAMES[n] = name;
  TEXTS[n] = text;
}

/** Name and OpenBSM text of a BSM errno (either may be absent). For NDJSON and other structured output. */
export function bsmErrno(n: number): { name?: string; text?: string } {
  const out: { name?: string; text?: string } = {};
  const name = NAMES[n];
  const text = TEXTS[n];
  if (name !== undefined) out.name = name;
  if (text !== undefined) out.text = text;
  return out;
}

/** Inclusive ranges of BSM numbers given as `[from, to]` pairs → a 256-entry membership table. */
function ranges(...r: [number, number][]): boolean[] {
  const set = new Array<boolean>(256).fill(false);
  for (const [a, b] of r) for (let i = a; i <= b; i++) set[i] = true;
  return set;
}

/**
 * BSM numbers whose errno exists on each platform (and that have an OpenBSM table entry).
 * linux: the reference praudit's output (conformance README). freebsd / macos: the errno names each system's
 * userland <errno.h> defines (kernel-only pseudo errnos such as ERESTART, EJUSTRETURN excluded).
 */
const HAS_TEXT: Record<Platform, boolean[]> = {
  linux: ranges([0, 60], [64, 71], [74, 74], [77, 99], [120, 127], [129, 134], [143, 151], [211, 222]),
  freebsd: ranges([0, 36], [45, 49], [58, 59], [66, 67], [71, 71], [74, 74], [77, 79], [88, 90], [93, 99],
    [120, 127], [129, 134], [143, 151], [190, 200], [223, 225]),
  macos: ranges([0, 36], [45, 49], [58, 60], [66, 67], [71, 71], [74, 74], [77, 79], [88, 90], [93, 99],
    [120, 127], [129, 134], [143, 151], [190, 199], [204, 209]),
};

/**
 * Where the host's strerror() wording differs from OpenBSM's table. Linux: the reference build prints OpenBSM's
 * wording throughout. FreeBSD: lib/libc/gen/errlst.c. macOS: Darwin's strerror (Libc errlst).
 */
const WORDING: Record<Platform, Record<number, string>> = {
  linux: {},
  freebsd: {
    58: 'Previous owner died',
    59: 'State not recoverable',
    194: 'Program version wrong',
    197: 'Authentication error',
  },
  macos: {
    16: 'Resource busy',
    58: 'Previous owner died',
    59: 'State not recoverable',
    60: 'Not a STREAM',
    67: 'ENOLINK (Reserved)',
    74: 'EMULTIHOP (Reserved)',
    122: 'Operation not supported on socket',
    194: 'Program version wrong',
    197: 'Authentication error',
    206: 'Bad executable (or shared library)',
    209: 'Malformed Mach-o file',
  },
};

/** The text praudit prints for BSM errno `n` on `platform`, or undefined when it prints "Unknown error". */
export function errnoText(n: number, platform: Platform): string | undefined {
  if (!HAS_TEXT[platform][n]) return undefined;
  return WORDING[platform][n] ?? TEXTS[n];
}

const STATUS_CACHE: Partial<Record<Platform, string[]>> = {};

/**
 * praudit's return-status field: `success`, `failure : <text>` or `failure: Unknown error: <n>` (the missing
 * space before the colon is praudit's). Built once per platform; `n` is the status byte (0-255).
 */
export function returnStatusTable(platform: Platform): readonly string[] {
  let t = STATUS_CACHE[platform];
  if (!t) {
    t = new Array<string>(256);
    for (let n = 0; n < 256; n++) {
      const text = errnoText(n, platform);
      t[n] = n === 0 ? 'success' : text !== undefined ? `failure : ${text}` : `failure: Unknown error: ${n}`;
    }
    STATUS_CACHE[platform] = t;
  }
  return t;
}
