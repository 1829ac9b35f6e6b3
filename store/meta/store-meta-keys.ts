/**
 * Longest flow (end_ms - start_ms) ever written. Time-window queries turn "overlaps
 * [from, to)" into a range on end_ms with it: end_ms < to + longest.
 */
export const MAX_FLOW_DURATION_KEY = 'max_flow_duration_ms';

/** Retention cursors (store/retention-step.ts): every row of the class up to this id is gone. */
export const RETENTION_OTHER_CURSOR_KEY = 'retention_other_cursor';
export const RETENTION_TUNNEL_CURSOR_KEY = 'retention_tunnel_cursor';

/**
 * SQLite's flow blocks: the widest spread of end times within one block ever written.
 * A window's blocks are then a range of the index on their earliest end time.
 */
export const MAX_BLOCK_SPAN_KEY = 'max_block_span_ms';
