import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FLOW_INTEGER_COLUMNS,
  FLOW_TEXT_COLUMNS,
  INTEGER_COUNT,
  TEXT_COUNT,
} from '../../store/flows/flow-columns.js';
import { MAX_STORED_INTEGER } from '../../store/bigint-policy.js';
import { encodeBlock, encodeBlockTransient, FlowBlock } from '../../store/sqlite/flow-block-codec.js';
import { encodedText, encodeFlows } from '../../store/writer/flow-batch-codec.js';
import type { EncodedFlows } from '../../store/writer/flow-batch-codec.js';
import { corpusFlows } from './corpus-flows.js';
import { syntheticFlows } from './synthetic-flows.js';

/**
 * Blocks of earlier formats and their rows: format 1 written by the encoder of commit
 * 587d507, format 2 by that of 8cb895a.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/flow-blocks', import.meta.url));

const column = (name: (typeof FLOW_INTEGER_COLUMNS)[number]) => FLOW_INTEGER_COLUMNS.indexOf(name);

/** Every value of every row of a block, as the batch's encoding holds them. */
function expectSame(block: FlowBlock, flows: EncodedFlows, rows: readonly number[]): void {
  expect(block.rows).toBe(rows.length);
  rows.forEach((source, r) => {
    for (let c = 0; c < INTEGER_COUNT; c += 1) {
      expect({ r, c, v: block.integer(c, r) }).toEqual({
        r,
        c,
        v: flows.integers[source * INTEGER_COUNT + c],
      });
    }
    for (let c = 0; c < TEXT_COUNT; c += 1) {
      expect({ r, c, v: block.string(c, r) }).toEqual({ r, c, v: encodedText(flows, source, c) });
    }
  });
}

/**
 * A fixture block and its rows as the reader returns them; `expected` (the .json) was
 * printed from the block by the encoder that wrote it, so the rows must equal it.
 */
function readFixture(name: string, firstId: number) {
  const blob = readFileSync(join(FIXTURES, `${name}.bin`));
  const expected = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Array<
    Record<string, unknown>
  >;
  const block = new FlowBlock(firstId, new Uint8Array(blob));
  const rows = Array.from({ length: block.rows }, (_, r) => {
    const row: Record<string, unknown> = { id: block.id(r) };
    FLOW_INTEGER_COLUMNS.forEach((c, i) => {
      const v = block.integer(i, r);
      row[c] = Number.isNaN(v) ? null : v;
    });
    FLOW_TEXT_COLUMNS.forEach((c, i) => (row[c] = block.string(i, r)));
    return row;
  });
  expect(rows).toEqual(expected);
  return { blob, block, rows };
}

describe('flow blocks', () => {
  test('real flows come back value for value, in the order given, with consecutive ids', () => {
    const flows = encodeFlows([
      ...corpusFlows('h_multi_tunnel_mixed', 'pmacct_ipfix'),
      ...corpusFlows('e_frag_mtu_v4', 'softflowd_ipfix'),
      ...corpusFlows('g_cleartext_leak_v4', 'softflowd_ipfix'),
    ]);
    const rows = Array.from({ length: flows.rows }, (_, i) => flows.rows - 1 - i);
    const block = new FlowBlock(1000, encodeBlock(flows, rows));
    expectSame(block, flows, rows);
    expect(block.id(0)).toBe(1000);
    expect(block.id(rows.length - 1)).toBe(1000 + rows.length - 1);
  });

  test('extremes: 2^53 - 1 and its negative, spans past 32 bits, nulls in some rows, all rows, one row', () => {
    const base = corpusFlows('a_healthy_v4', 'softflowd_ipfix')[0]!;
    const flows = encodeFlows([
      { ...base, octets: 2 ** 64, packets: 0, rawOctets: -(2 ** 60), srcPort: null, tos: 7 },
      { ...base, octets: 1, packets: 2 ** 40, rawOctets: 5, srcPort: 65535, tos: 7 },
      { ...base, octets: 0, packets: 3, rawOctets: 0, srcPort: 0, tos: 7, tunnelId: null },
    ]);
    for (const rows of [[0, 1, 2], [2], [1, 0]])
      expectSame(new FlowBlock(1, encodeBlock(flows, rows)), flows, rows);
    const block = new FlowBlock(1, encodeBlock(flows, [0, 1, 2]));
    expect(block.integer(INTEGER_COUNT - 1, 0)).toBeNaN();
    expect([block.integer(column('octets'), 0), block.integer(column('raw_octets'), 0)]).toEqual([
      MAX_STORED_INTEGER,
      -MAX_STORED_INTEGER,
    ]);
  });

  test('ids given as offsets (legacy rows with gaps) are kept', () => {
    const flows = encodeFlows(syntheticFlows(10, { seed: 3 }));
    const rows = [0, 1, 2, 3, 4];
    const block = new FlowBlock(500, encodeBlock(flows, rows, [0, 1, 5, 6, 900]));
    expect(rows.map((r) => block.id(r))).toEqual([500, 501, 505, 506, 1400]);
  });

  test('blocks of 1 and 20,000 rows, rows in any order, come back value for value', () => {
    const flows = encodeFlows(syntheticFlows(20_000, { seed: 8, tunnelShare: 0.3 }));
    const shuffled = Array.from({ length: flows.rows }, (_, i) => (i * 7919) % flows.rows);
    for (const rows of [shuffled, [12_345], shuffled.slice(0, 300)])
      expectSame(new FlowBlock(1, encodeBlock(flows, rows)), flows, rows);
  });

  test('a transient block equals the kept one until the next call; kept blocks stay as they were', () => {
    const a = encodeFlows(syntheticFlows(3000, { seed: 12 }));
    const b = encodeFlows(syntheticFlows(50, { seed: 13 }));
    const rowsA = Array.from({ length: a.rows }, (_, i) => i);
    const rowsB = [49, 0, 7];
    const kept = encodeBlock(a, rowsA);
    expect(Buffer.from(encodeBlockTransient(a, rowsA)).equals(Buffer.from(kept))).toBe(true);
    const keptB = encodeBlock(b, rowsB, [0, 4, 9]);
    expect(Buffer.from(encodeBlockTransient(b, rowsB, [0, 4, 9])).equals(Buffer.from(keptB))).toBe(true);
    expectSame(new FlowBlock(1, kept), a, rowsA);
    expectSame(new FlowBlock(1, keptB), b, rowsB);
  });

  test("the packer gives a block's time bounds and longest flow, over the rows it packs only", () => {
    const flows = encodeFlows(syntheticFlows(500, { seed: 14 }));
    const rows = [400, 3, 250, 17, 499];
    const at = (row: number, name: (typeof FLOW_INTEGER_COLUMNS)[number]) =>
      flows.integers[row * INTEGER_COUNT + column(name)]!;
    const bounds = { minEndMs: 0, maxEndMs: 0, minStartMs: 0, maxReceivedMs: 0, maxDurationMs: 0 };
    encodeBlockTransient(flows, rows, undefined, bounds);
    expect(bounds).toEqual({
      minEndMs: Math.min(...rows.map((r) => at(r, 'end_ms'))),
      maxEndMs: Math.max(...rows.map((r) => at(r, 'end_ms'))),
      minStartMs: Math.min(...rows.map((r) => at(r, 'start_ms'))),
      maxReceivedMs: Math.max(...rows.map((r) => at(r, 'received_ms'))),
      maxDurationMs: Math.max(0, ...rows.map((r) => at(r, 'end_ms') - at(r, 'start_ms'))),
    });
  });

  test('a BLOB that does not start on an 8-byte boundary reads the same', () => {
    const flows = encodeFlows(syntheticFlows(3000, { seed: 11 }));
    const rows = Array.from({ length: flows.rows }, (_, i) => i);
    const blob = encodeBlock(flows, rows);
    const shifted = new Uint8Array(blob.length + 3);
    shifted.set(blob, 3);
    expectSame(new FlowBlock(1, shifted.subarray(3)), flows, rows);
  });

  test('packs a typical batch to a fraction of its encoding', () => {
    const flows = encodeFlows(syntheticFlows(8192, { seed: 5 }));
    const blob = encodeBlock(
      flows,
      Array.from({ length: flows.rows }, (_, i) => i),
    );
    // The batch encoding: 8 bytes per integer column, 4 per text column.
    const encoded = flows.rows * (INTEGER_COUNT * 8 + TEXT_COUNT * 4);
    expect(blob.length).toBeLessThan(encoded / 4);
  });

  test('IPv4 and IPv6 addresses side by side come back as sent, and only IPv6 ones are dictionary strings', () => {
    const base = syntheticFlows(1, { seed: 4 })[0]!;
    const flows = encodeFlows([
      { ...base, src: '10.0.0.1', dst: '2001:db8::2' },
      { ...base, src: '2001:db8::3', dst: '198.51.100.7' },
      { ...base, src: '0.0.0.0', dst: '255.255.255.255' },
    ]);
    const block = new FlowBlock(1, encodeBlock(flows, [2, 0, 1]));
    expectSame(block, flows, [2, 0, 1]);
    for (const address of ['10.0.0.1', '198.51.100.7', '0.0.0.0', '255.255.255.255'])
      expect(block.strings).not.toContain(address);
    expect(block.strings).toEqual(expect.arrayContaining(['2001:db8::2', '2001:db8::3']));
    const src = FLOW_TEXT_COLUMNS.indexOf('src');
    expect([block.ipv4(src, 0), block.ipv4(src, 1), block.ipv4(src, 2)]).toEqual([0, 0x0a000001, -1]);
  });

  test('a block written before addresses were numbers (format 1) reads as it was written', () => {
    const { blob, block, rows } = readFixture('format-1', 7000);
    expect(blob[0]).toBe(1);
    expect(rows.map((r) => r.src)).toContain('2001:db8::7');
    expect(block.ipv4(FLOW_TEXT_COLUMNS.indexOf('src'), 0)).toBe(-1);
  });

  test('a block of format 2 (JSON dictionary, IPv4 address columns) reads as it was written', () => {
    const { blob, block, rows } = readFixture('format-2', 9000);
    expect(blob[0]).toBe(2);
    // Ids with gaps, IPv6 next to IPv4, null ports and tunnels, a value past 32 bits.
    expect(rows.map((r) => r.id)).toContain(9047);
    expect(rows.map((r) => r.src)).toEqual(expect.arrayContaining(['2001:db8:8f::53', '10.0.0.1']));
    expect(rows.some((r) => r.src_port === null && r.tunnel_id === null)).toBe(true);
    expect(block.ipv4(FLOW_TEXT_COLUMNS.indexOf('src'), 0)).toBe(0x0a000001);
  });

  test('refuses a block of an unknown format instead of misreading it', () => {
    const flows = encodeFlows(syntheticFlows(2, { seed: 1 }));
    const blob = encodeBlock(flows, [0, 1]);
    blob[0] = 99;
    expect(() => new FlowBlock(1, blob)).toThrow(/format 99/);
  });
});
