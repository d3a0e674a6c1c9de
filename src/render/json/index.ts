/** NDJSON rendering of BSM records (docs/json-format.md). */
export { recordToJson, createJsonRenderer } from './record-json.js';
export type { JsonOptions, JsonRenderer, EventDescriber } from './record-json.js';
export { addrText, ipv4Text, ipv6Text } from './addr-text.js';
export { createJsonByteRenderer } from './byte-json.js';
export type { JsonByteRenderer } from './byte-json.js';
