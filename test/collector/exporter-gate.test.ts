import { Registry } from 'prom-client';
import { expect, test } from 'vitest';
import { ExporterGate } from '../../collector/listen/exporter-gate.js';

test.each([
  ['192.0.2.7', true],
  ['192.0.3.7', false],
  ['2001:db8::1', true],
  ['2001:db9::1', false],
  ['198.51.100.1', true],
  ['198.51.100.2', false],
  ['not an address', false],
])('with [192.0.2.0/24, 2001:db8::/32, 198.51.100.1/32], %s is admitted: %s', (source, admitted) => {
  const gate = new ExporterGate(['192.0.2.0/24', '2001:db8::/32', '198.51.100.1/32'], new Registry());
  expect(gate.admitDatagram(source, 1)).toBe(admitted);
  expect(gate.admitConnection(source, 2)).toBe(admitted);
  expect(gate.refused()).toEqual(admitted ? [] : [{ source, datagrams: 1, connections: 1, lastSeenMs: 2 }]);
});

test('an empty list admits everyone and counts nothing', () => {
  const gate = new ExporterGate([], new Registry());
  expect(gate.admitDatagram('203.0.113.9', 1)).toBe(true);
  expect(gate.refused()).toEqual([]);
});

test('past 1000 refused sources, the rest are counted together as "other" (bounded memory and labels)', async () => {
  const registry = new Registry();
  const gate = new ExporterGate(['192.0.2.0/24'], registry);
  for (let i = 0; i < 1500; i++) gate.admitDatagram(`10.0.${i >> 8}.${i & 255}`, i);
  const refused = gate.refused();
  expect(refused).toHaveLength(1001);
  expect(refused[0]).toEqual({ source: 'other', datagrams: 500, connections: 0, lastSeenMs: 1499 });
  expect(await registry.getSingleMetricAsString('tunnelflow_refused_datagrams_total')).toContain(
    'tunnelflow_refused_datagrams_total{source="other"} 500',
  );
});
