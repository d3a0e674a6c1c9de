/** Where bsmkit's own data files and the host's audit configuration live. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export type Platform = 'openbsm' | 'macos';

/** The package root: two levels up from src/catalog/ (tsx) and from dist/catalog/ (built). */
export const packageRoot: string = fileURLToPath(new URL('../../', import.meta.url));

export function dataFile(platform: Platform, name: 'audit_event' | 'audit_class'): string {
  return join(packageRoot, 'data', platform, name);
}

/** libbsm's hard-coded location (bsm/libbsm.h). */
export const DEFAULT_CONFIG_DIR = '/etc/security';

/** The platform whose tables fit this host: macOS numbers its kernel events differently (config-files.md §4). */
export function hostPlatform(): Platform {
  return process.platform === 'darwin' ? 'macos' : 'openbsm';
}

/**
 * Configuration files are bytes; upstream ones are ASCII. Valid UTF-8 is decoded as such, anything else as latin1
 * so every byte survives (praudit prints descriptions byte for byte).
 */
export function decodeConfigBytes(buf: Uint8Array): string {
  return decodeConfig(buf).text;
}

/** decodeConfigBytes, also telling which encoding writes the text back to the same bytes. */
export function decodeConfig(buf: Uint8Array): { text: string; encoding: 'utf8' | 'latin1' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf), encoding: 'utf8' };
  } catch {
    return { text: Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1'), encoding: 'latin1' };
  }
}
