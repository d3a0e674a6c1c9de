/** bsmkit public API. */
export * from './format/token-ids.js';
export type * from './format/types.js';
export { decodeToken } from './format/decode-token.js';
export { BsmkitError, UsageError } from './errors.js';
