/**
 * Operational failures (a missing device, a bad option, an unwritable file) throw a BsmkitError with a stable
 * `code`. Damage in the data is never thrown: it becomes a Diagnostic value (format/types.ts).
 * The Symbol.for brand keeps `instanceof` working across duplicate copies of the package.
 */
const kBrand = Symbol.for('bsmkit.error');

export class BsmkitError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'BsmkitError';
    (this as unknown as Record<symbol, boolean>)[kBrand] = true;
  }
  static override [Symbol.hasInstance](x: unknown): boolean {
    // Subclasses use ordinary prototype checks; only the base class matches by brand.
    if (this !== BsmkitError) return Function.prototype[Symbol.hasInstance].call(this, x);
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[kBrand] === true;
  }
}

/** A command-line usage error: exit status 1. */
export class UsageError extends BsmkitError {
  constructor(message: string) {
    super('BSMKIT_E_USAGE', message);
    this.name = 'UsageError';
  }
}
