/** The praudit flavour to imitate: each platform's praudit prints errno texts and names differently (§10). */
export type Platform = 'linux' | 'freebsd' | 'macos';

export const PLATFORMS: readonly Platform[] = ['linux', 'freebsd', 'macos'];

/** The platform bsmkit runs on; anything that is neither macOS nor FreeBSD prints like the Linux reference. */
export function hostPlatform(): Platform {
  if (process.platform === 'darwin') return 'macos';
  if (process.platform === 'freebsd') return 'freebsd';
  return 'linux';
}

/** Parses a platform name as given on a command line (`linux`, `freebsd`, `macos`; `darwin` is accepted). */
export function parsePlatform(s: string): Platform | undefined {
  const v = s.toLowerCase();
  if (v === 'darwin' || v === 'macos') return 'macos';
  if (v === 'linux' || v === 'freebsd') return v;
  return undefined;
}
