/** Presentation tables for BSM constants (bsm-format.md §11.2–§11.5). The errno table lives in render/errno.ts. */
export { SOCKET_DOMAINS, socketDomainName } from './socket-domain.js';
export { SOCKET_TYPES, socketTypeName } from './socket-type.js';
export { FCNTL_COMMANDS, fcntlCommandName } from './fcntl.js';
export {
  IPC_TYPES, ipcTypeName, DATA_FORMATS, dataFormatName, DATA_UNITS, DATA_UNIT_SIZES, dataUnitName, dataUnitSize,
} from './small-enums.js';
