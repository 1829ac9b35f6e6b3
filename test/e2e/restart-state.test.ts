import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createCore } from '../../cli/core.js';
import { readCapture } from '../../collector/capture/read-capture.js';
import { silentLog, tempDir, testConfig } from './helpers.js';

const EXPORTS = join(import.meta.dirname, '..', 'fixtures', 'corpus', 'exports');

test('tunnels, SAs, templates and counters survive a restart of the collector core', async () => {
  const config = testConfig(tempDir());
  const datagrams = readCapture(readFileSync(join(EXPORTS, 'b_rekey_v4', 'pmacct_ipfix.pcap'))).datagrams;
  const half = Math.ceil(datagrams.length / 2);

  const first = await createCore(config, silentLog);
  for (const d of datagrams.slice(0, half))
    await first.pipeline.handleOffline(d.payload, d.src, Date.now(), d.transport);
  const tunnels = first.normalizer.tunnels().map((t) => t.id);
  const sas = first.normalizer.securityAssociations().map((s) => [s.id, s.pairedSaId]);
  const counters = first.counters.all().map((c) => ({ ...c }));
  await first.stop();
  expect(tunnels.length).toBeGreaterThan(0);

  const second = await createCore(config, silentLog);
  try {
    // Remembered before anything new arrives.
    expect(second.normalizer.tunnels().map((t) => t.id)).toEqual(tunnels);
    expect(second.normalizer.securityAssociations().map((s) => [s.id, s.pairedSaId])).toEqual(sas);
    expect(second.templates.snapshot().length).toBeGreaterThan(0);
    expect(second.counters.all().map((c) => c.datagrams)).toEqual(counters.map((c) => c.datagrams));
    for (const d of datagrams.slice(half))
      await second.pipeline.handleOffline(d.payload, d.src, Date.now(), d.transport);
    const row = second.counters.all()[0];
    expect(row?.datagrams).toBe(datagrams.length);
    expect(row?.missingTemplateRecords).toBe(0);
    expect(row?.sequenceGaps).toBe(0);
  } finally {
    await second.stop();
  }
});
