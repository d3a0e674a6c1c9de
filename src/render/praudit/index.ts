export { createPrauditRenderer, latin1NoNul } from './renderer.js';
export type { EventDescriber, PrauditOptions, PrauditRenderer } from './renderer.js';
export { createCtime, defaultTimeZone, type Ctime } from './ctime.js';
export { ipv4, ipv6, ipEx } from './addr.js';
export { xmlExecString } from './xml-string.js';
export { createPrauditByteRenderer, type PrauditByteRenderer } from './byte-renderer.js';
export { createCtimeWriter, type CtimeWriter } from './ctime.js';
