export { Spool, SpoolFullError, FLAG_PIPE_ONLY, writeFileAtomic, writePrivateJson, type SpoolOptions, type SpoolAppend, type SpoolRecovery, type SpoolCheckpoints } from './spool.js';
export { recordId, contentHash, stableSourceKey } from './record-id.js';
export { materialize, packRecords, concatRaw, type RawBatch } from './raw-batch.js';
