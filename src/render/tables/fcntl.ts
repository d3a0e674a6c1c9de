/**
 * BSM fcntl commands (sys/bsm/audit_fcntl.h; bsm-format.md §11.4): the `cmd` arg32 of fcntl records, as the
 * kernels translate it with au_fcntl_cmd_to_bsm(). 341–415 are Darwin-specific; 0xFFFF is UNKNOWN.
 */
const ENTRIES: Array<[number, string]> = [
  [0, 'DUPFD'], [1, 'GETFD'], [2, 'SETFD'], [3, 'GETFL'], [4, 'SETFL'], [5, 'O_GETLK'], [6, 'SETLK'],
  [7, 'SETLKW'], [8, 'CHKFL'], [9, 'DUP2FD'], [10, 'ALLOCSP'], [11, 'FREESP'], [13, 'ISSTREAM'], [14, 'GETLK'],
  [15, 'PRIV'], [16, 'NPRIV'], [17, 'QUOTACTL'], [18, 'BLOCKS'], [19, 'BLKSIZE'], [23, 'GETOWN'], [24, 'SETOWN'],
  [25, 'REVOKE'], [26, 'HASREMOTELOCKS'], [27, 'FREESP64'], [28, 'ALLOCSP64'],
  [33, 'GETLK64'], [34, 'SETLK64'], [35, 'SETLKW64'], [40, 'SHARE'], [41, 'UNSHARE'], [42, 'SETLK_NBMAND'],
  [43, 'SHARE_NBMAND'], [44, 'SETLK64_NBMAND'], [45, 'GETXFL'], [46, 'BADFD'],
  [107, 'OGETLK'], [108, 'OSETLK'], [109, 'OSETLKW'], [114, 'SETLK_REMOTE'], [210, 'SETSIG'], [211, 'GETSIG'],
  [341, 'CHKCLEAN'], [342, 'PREALLOCATE'], [343, 'SETSIZE'], [344, 'RDADVISE'], [345, 'RDAHEAD'],
  [346, 'READBOOTSTRAP'], [347, 'WRITEBOOTSTRAP'], [348, 'NOCACHE'], [349, 'LOG2PHYS'], [350, 'GETPATH'],
  [351, 'FULLFSYNC'], [352, 'PATHPKG_CHECK'], [353, 'FREEZE_FS'], [354, 'THAW_FS'], [355, 'GLOBAL_NOCACHE'],
  [356, 'OPENFROM'], [357, 'UNLINKFROM'], [358, 'CHECK_OPENEVT'], [359, 'ADDSIGS'], [360, 'MARKDEPENDENCY'],
  [361, 'BARRIERFSYNC'], [362, 'PUNCHHOLE'], [363, 'TRIM_ACTIVE_FILE'], [364, 'SPECULATIVE_READ'],
];
for (let i = 0; i <= 15; i++) ENTRIES.push([400 + i, `FS_SPECIFIC_${i}`]);
ENTRIES.push([0xffff, 'UNKNOWN']);

/** BSM fcntl command number → name without the `F_` prefix (`DUPFD`, `FULLFSYNC`, …). */
export const FCNTL_COMMANDS: ReadonlyMap<number, string> = new Map(ENTRIES);

/** The BSM fcntl command name, or undefined for an undefined number. */
export function fcntlCommandName(bsmCmd: number): string | undefined {
  return FCNTL_COMMANDS.get(bsmCmd);
}
