/** The trail follower: auditd's trail files as a RecordSource (kernel-audit-pipe.md §13.7). */
export { followTrail, type FollowTrailOptions, type TrailFileEvent, type TrailFollower, type TrailItem, type TrailMeta } from './follow.js';
export { parseTrailCursor, type TrailCursor } from './cursor.js';
export { parseTrailName, trailPrefix, trailTime, trailTimestamp, PREFIX_LEN, type TrailName, type TrailState } from './names.js';
export { readCursorFile, writeCursorFile } from './cursor-file.js';
