import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { startCollectorStack } from '../../cli/compose.js';
import { readCapture } from '../../collector/capture/read-capture.js';
import { silentLog, tempDir, testConfig } from './helpers.js';

const EXPORTS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');

test('tunnels, SAs, templates and counters survive a restart of the collector core', async () => {
  const config = testConfig(tempDir());
  const datagrams = readCapture(readFileSync(join(EXPORTS, 'b_rekey_v4', 'pmacct_ipfix.pcap'))).datagrams;
  const half = Math.ceil(datagrams.length / 2);

  const first = await startCollectorStack(config, silentLog, { listen: false });
  for (const d of datagrams.slice(0, half))
    await first.collector.handleOffline(d.payload, d.src, Date.now(), d.transport);
  const tunnels = first.collector
    .normalizer()
    .tunnels()
    .map((t) => t.id);
  const sas = first.collector
    .normalizer()
    .securityAssociations()
    .map((s) => [s.id, s.pairedSaId]);
  const counters = first.collector.counters.all().map((c) => ({ ...c }));
  await first.stop();
  expect(tunnels.length).toBeGreaterThan(0);

  const second = await startCollectorStack(config, silentLog, { listen: false });
  const { collector } = second;
  try {
    // Remembered before anything new arrives.
    expect(
      collector
        .normalizer()
        .tunnels()
        .map((t) => t.id),
    ).toEqual(tunnels);
    expect(
      collector
        .normalizer()
        .securityAssociations()
        .map((s) => [s.id, s.pairedSaId]),
    ).toEqual(sas);
    expect(collector.templates.snapshot().length).toBeGreaterThan(0);
    expect(collector.counters.all().map((c) => c.datagrams)).toEqual(counters.map((c) => c.datagrams));
    for (const d of datagrams.slice(half))
      await collector.handleOffline(d.payload, d.src, Date.now(), d.transport);
    const row = collector.counters.all()[0];
    expect(row?.datagrams).toBe(datagrams.length);
    expect(row?.missingTemplateRecords).toBe(0);
    expect(row?.sequenceGaps).toBe(0);
  } finally {
    await second.stop();
  }
});
