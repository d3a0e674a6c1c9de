/**
 * Problems found in configuration files (audit_event, audit_class, audit_control, audit_user) are values, never
 * exceptions: a malformed line is reported with its file and line and the rest of the file is still used.
 */
export type CatalogDiagnosticCode =
  /** A line that cannot be used at all (skipped). */
  | 'CAT_E_SYNTAX'
  /** A number that is not a number, or out of range (line skipped). */
  | 'CAT_E_NUMBER'
  /** A field longer than libbsm accepts (audit_event: line skipped, as libbsm does; audit_class: kept). */
  | 'CAT_W_TOO_LONG'
  /** An empty field that libbsm's strtok() would collapse, shifting the fields after it. */
  | 'CAT_W_EMPTY_FIELD'
  /** More fields than the format has. */
  | 'CAT_W_EXTRA_FIELD'
  /** A class name not in audit_class (audit_event: the event's class becomes 0, as in libbsm). */
  | 'CAT_W_UNKNOWN_CLASS'
  /** The same number or name defined twice. */
  | 'CAT_W_DUPLICATE'
  /** A value libbsm or the kernel would refuse or clamp (e.g. filesz below 512K). */
  | 'CAT_W_VALUE'
  /** An unknown key (audit_control). */
  | 'CAT_W_UNKNOWN_KEY'
  /** A carriage return at a line end (CRLF file); it is removed. */
  | 'CAT_W_CRLF';

export interface CatalogDiagnostic {
  code: CatalogDiagnosticCode;
  severity: 'error' | 'warning';
  /** The file name as given to the parser. */
  file: string;
  /** 1-based line number. */
  line: number;
  message: string;
}

/** `file:line: message`, the form compilers and libbsm-minded users expect. */
export function formatCatalogDiagnostic(d: CatalogDiagnostic): string {
  return `${d.file}:${d.line}: ${d.severity}: ${d.message}`;
}

export function diag(
  code: CatalogDiagnosticCode,
  file: string,
  line: number,
  message: string,
  severity: 'error' | 'warning' = code.startsWith('CAT_E_') ? 'error' : 'warning',
): CatalogDiagnostic {
  return { code, severity, file, line, message };
}
