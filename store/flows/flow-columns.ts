/**
 * The order in which the writer encodes and inserts a flow's columns. The encoder
 * (writer/flow-batch-codec.ts) and the INSERT statement (writer/sqlite-sink.ts) both
 * follow these lists; a test checks that together they cover every `flows` column.
 */
export const FLOW_INTEGER_COLUMNS = [
  'domain_id',
  'version',
  'template_id',
  'received_ms',
  'start_ms',
  'end_ms',
  'ip_version',
  'proto',
  'src_port',
  'dst_port',
  'spi',
  'packets',
  'octets',
  'raw_packets',
  'raw_octets',
  'sampling_rate',
  'tcp_flags',
  'tos',
  'icmp_type',
  'icmp_code',
  'fragment_id',
  'fragment_offset',
  'fragment_flags',
  'in_if',
  'out_if',
  'flow_direction',
  'reported_loss',
  'esp_seq_first',
  'esp_seq_last',
  'validated_loss',
] as const;

export const FLOW_TEXT_COLUMNS = [
  'exporter',
  'src',
  'dst',
  'kind',
  'tunnel_id',
  'sa_id',
  'tunnel_direction',
  'loss_cleared_reason',
] as const;

/** Derived by the writer: the tunnel key from `tunnel_id` (store/flows/tunnel-key.ts). */
export const FLOW_KEY_COLUMNS = ['tunnel_key'] as const;

/**
 * Columns of `flows` no longer written (NULL in new rows) and never read. The address
 * keys cost the writer ~12 % of its time per row (two BLOBs bound, a parse and a cache
 * lookup per address) while only `net` filters used them, which now compare the address
 * text (store/filter/compile-filter.ts). They stay in the table: SQLite drops a column
 * by rewriting every row, which on a large store would hold the collector's start.
 */
export const FLOW_RETIRED_COLUMNS = ['src_key', 'dst_key'] as const;

export const FLOW_INSERT_COLUMNS = [
  ...FLOW_INTEGER_COLUMNS,
  ...FLOW_TEXT_COLUMNS,
  ...FLOW_KEY_COLUMNS,
] as const;

export const INTEGER_COUNT = FLOW_INTEGER_COLUMNS.length;
export const TEXT_COUNT = FLOW_TEXT_COLUMNS.length;

/** Positions used by the sink, checked against the lists by a test. */
export const RECEIVED_MS_INDEX = FLOW_INTEGER_COLUMNS.indexOf('received_ms');
export const START_MS_INDEX = FLOW_INTEGER_COLUMNS.indexOf('start_ms');
export const END_MS_INDEX = FLOW_INTEGER_COLUMNS.indexOf('end_ms');
export const SRC_TEXT_INDEX = FLOW_TEXT_COLUMNS.indexOf('src');
export const DST_TEXT_INDEX = FLOW_TEXT_COLUMNS.indexOf('dst');
export const TUNNEL_TEXT_INDEX = FLOW_TEXT_COLUMNS.indexOf('tunnel_id');

/**
 * The text columns that may hold an IPv4 address as a number (FlowColumnsView.ipv4), in
 * the order of their slots: a batch's `ipv4[row * ADDRESS_COUNT + slot]`, a block's
 * address columns.
 */
export const ADDRESS_TEXT_INDEXES: readonly number[] = [SRC_TEXT_INDEX, DST_TEXT_INDEX];
export const ADDRESS_COUNT = ADDRESS_TEXT_INDEXES.length;

/** The IPv4 slot of a text column, or -1 for a column that is no address. */
export function addressSlotOf(column: number): number {
  return ADDRESS_TEXT_INDEXES.indexOf(column);
}

/** Columns declared NOT NULL: a row missing one is rejected by the writer, not the whole batch. */
export const FLOW_REQUIRED_INTEGER_COLUMNS = [
  'domain_id',
  'version',
  'received_ms',
  'start_ms',
  'end_ms',
  'ip_version',
  'proto',
  'packets',
  'octets',
  'raw_packets',
  'raw_octets',
  'sampling_rate',
] as const;

export const FLOW_REQUIRED_TEXT_COLUMNS = ['exporter', 'src', 'dst', 'kind'] as const;
