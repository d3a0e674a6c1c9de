/**
 * The small enumerations of bsm-format.md §11.5: IPC object types and the data token's print formats and units.
 * Arrays indexed by the recorded value; an index past the end (or a hole) means "not defined".
 */

/** AT_IPC_* (sys/bsm/audit.h): 1 msg, 2 sem, 3 shm. Index 0 is not defined. */
export const IPC_TYPES: ReadonlyArray<string | undefined> = [undefined, 'msg', 'sem', 'shm'];

/** The IPC object type name, or undefined. */
export function ipcTypeName(ipcType: number): string | undefined {
  return IPC_TYPES[ipcType];
}

/** Data token `how_to_print` (AUP_*): 0 binary, 1 octal, 2 decimal, 3 hex, 4 string. */
export const DATA_FORMATS: ReadonlyArray<string> = ['binary', 'octal', 'decimal', 'hex', 'string'];

/** The data print format name, or undefined for a value other than 0–4. */
export function dataFormatName(howToPrint: number): string | undefined {
  return DATA_FORMATS[howToPrint];
}

/** Data token `unit` (AUR_*): 0 byte, 1 short, 2 int32, 3 int64. */
export const DATA_UNITS: ReadonlyArray<string> = ['byte', 'short', 'int32', 'int64'];
/** Size in bytes of one item of each data unit, indexed like DATA_UNITS. */
export const DATA_UNIT_SIZES: ReadonlyArray<number> = [1, 2, 4, 8];

/** The data unit name, or undefined for a value other than 0–3 (which libbsm refuses to parse). */
export function dataUnitName(unit: number): string | undefined {
  return DATA_UNITS[unit];
}

/** Item size in bytes of a data unit, or 0 when the unit is not defined. */
export function dataUnitSize(unit: number): number {
  return DATA_UNIT_SIZES[unit] ?? 0;
}
