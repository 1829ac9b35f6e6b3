// Template scoping (exporter, version, domain), withdrawal, TTL with a fake clock,
// snapshot → restore, the change list, and the memory limits.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { decodeDatagram } from '../../collector/wire/decode-datagram.js';
import { decodeIpfix } from '../../collector/wire/ipfix.js';
import { TemplateCache } from '../../collector/wire/template-cache.js';
import type { TemplateCacheChange, TemplateSnapshot } from '../../collector/wire/template-cache.js';
import { CORPUS_DIR } from '../produce/corpus-exports.js';
import {
  dataSet,
  ip,
  ipfixMessage,
  ipfixOptionsTemplateSet,
  ipfixTemplateSet,
  ipfixWithdrawalSet,
  u16,
  u32,
  v9Packet,
  v9TemplateFlowSet,
} from './datagram-builder.js';

// Two layouts under the same template id 256: addresses first, or counters first.
const addressesFirst = {
  id: 256,
  fields: [
    { id: 8, length: 4 },
    { id: 12, length: 4 },
    { id: 2, length: 4 },
  ],
};
const packetsFirst = {
  id: 256,
  fields: [
    { id: 2, length: 4 },
    { id: 8, length: 4 },
    { id: 12, length: 4 },
  ],
};
const recordA = Buffer.concat([ip('10.0.0.1'), ip('10.0.0.2'), u32(11)]);
const recordB = Buffer.concat([u32(22), ip('10.9.9.1'), ip('10.9.9.2')]);

class FakeClock {
  ms = 1_000_000;
  readonly now = (): number => this.ms;
}

describe('scoping', () => {
  test('two exporters with the same domain and template id do not mix', () => {
    const cache = new TemplateCache();
    decodeDatagram(ipfixMessage({}, [ipfixTemplateSet([addressesFirst])]), '192.0.2.1', cache);
    decodeDatagram(ipfixMessage({}, [ipfixTemplateSet([packetsFirst])]), '192.0.2.2', cache);
    const a = decodeDatagram(ipfixMessage({}, [dataSet(256, [recordA])]), '192.0.2.1', cache);
    const b = decodeDatagram(ipfixMessage({}, [dataSet(256, [recordB])]), '192.0.2.2', cache);
    expect(a.records[0]).toMatchObject({ src: '10.0.0.1', packets: 11 });
    expect(b.records[0]).toMatchObject({ src: '10.9.9.1', packets: 22 });
    const c = decodeDatagram(ipfixMessage({}, [dataSet(256, [recordA])]), '192.0.2.3', cache);
    expect(c.records).toEqual([]);
    expect(c.issues).toMatchObject([{ kind: 'template-missing', exporter: '192.0.2.3', templateId: 256 }]);
  });

  test('two observation domains of one exporter do not mix', () => {
    const cache = new TemplateCache();
    decodeDatagram(ipfixMessage({ domain: 1 }, [ipfixTemplateSet([addressesFirst])]), 'r1', cache);
    decodeDatagram(ipfixMessage({ domain: 2 }, [ipfixTemplateSet([packetsFirst])]), 'r1', cache);
    expect(
      decodeDatagram(ipfixMessage({ domain: 1 }, [dataSet(256, [recordA])]), 'r1', cache).records[0],
    ).toMatchObject({
      src: '10.0.0.1',
      packets: 11,
    });
    expect(
      decodeDatagram(ipfixMessage({ domain: 2 }, [dataSet(256, [recordB])]), 'r1', cache).records[0],
    ).toMatchObject({
      src: '10.9.9.1',
      packets: 22,
    });
    expect(
      decodeDatagram(ipfixMessage({ domain: 3 }, [dataSet(256, [recordA])]), 'r1', cache).records,
    ).toEqual([]);
  });

  test('v9 source ids and IPFIX domains are separate namespaces', () => {
    const cache = new TemplateCache();
    decodeDatagram(v9Packet({ count: 1, sourceId: 0 }, [v9TemplateFlowSet([packetsFirst])]), 'h', cache);
    decodeDatagram(ipfixMessage({ domain: 0 }, [ipfixTemplateSet([addressesFirst])]), 'h', cache);
    const v9 = decodeDatagram(v9Packet({ count: 1, sourceId: 0 }, [dataSet(256, [recordB])]), 'h', cache);
    const ipfix = decodeDatagram(ipfixMessage({ domain: 0 }, [dataSet(256, [recordA])]), 'h', cache);
    expect(v9.records[0]).toMatchObject({ src: '10.9.9.1', packets: 22 });
    expect(ipfix.records[0]).toMatchObject({ src: '10.0.0.1', packets: 11 });
  });

  test('an exporter that restarts on a new source port keeps its templates (keyed by address only)', () => {
    // decodeDatagram never sees ports: the key is the address the caller passes.
    const cache = new TemplateCache();
    decodeDatagram(ipfixMessage({}, [ipfixTemplateSet([addressesFirst])]), '192.0.2.1', cache);
    expect(
      decodeDatagram(ipfixMessage({}, [dataSet(256, [recordA])]), '192.0.2.1', cache).records,
    ).toHaveLength(1);
  });

  test('a re-announced template with a new layout replaces the old one', () => {
    const cache = new TemplateCache();
    decodeDatagram(ipfixMessage({}, [ipfixTemplateSet([addressesFirst])]), 'r', cache);
    const changed = decodeDatagram(
      ipfixMessage({}, [ipfixTemplateSet([packetsFirst]), dataSet(256, [recordB])]),
      'r',
      cache,
    );
    expect(changed.templatesLearned).toBe(1);
    expect(changed.records[0]).toMatchObject({ src: '10.9.9.1', packets: 22 });
    const same = decodeDatagram(ipfixMessage({}, [ipfixTemplateSet([packetsFirst])]), 'r', cache);
    expect([same.templatesLearned, same.templatesRefreshed]).toEqual([0, 1]);
  });
});

describe('withdrawal (RFC 7011 §8.1)', () => {
  const second = { id: 257, fields: addressesFirst.fields };
  const options = {
    id: 258,
    scopeCount: 1,
    fields: [
      { id: 149, length: 4 },
      { id: 34, length: 4 },
    ],
  };

  test('a withdrawal record removes one template', () => {
    const cache = new TemplateCache();
    decodeDatagram(ipfixMessage({}, [ipfixTemplateSet([addressesFirst, second])]), 'r', cache);
    const w = decodeDatagram(ipfixMessage({}, [ipfixWithdrawalSet([256])]), 'r', cache);
    expect(w.templatesWithdrawn).toBe(1);
    const after = decodeDatagram(
      ipfixMessage({}, [dataSet(256, [recordA]), dataSet(257, [recordA])]),
      'r',
      cache,
    );
    expect(after.records).toHaveLength(1);
    // The withdrawn template's record length is remembered, so the loss estimate is exact.
    expect(after.issues).toMatchObject([
      { kind: 'template-missing', templateId: 256, estimatedRecords: 1, estimate: 'previous-definition' },
    ]);
  });

  test('template id 2 withdraws all templates, id 3 all options templates', () => {
    const cache = new TemplateCache();
    decodeDatagram(
      ipfixMessage({}, [ipfixTemplateSet([addressesFirst, second]), ipfixOptionsTemplateSet([options])]),
      'r',
      cache,
    );
    expect(decodeDatagram(ipfixMessage({}, [ipfixWithdrawalSet([2])]), 'r', cache).templatesWithdrawn).toBe(
      2,
    );
    const optionsData = dataSet(258, [Buffer.concat([u32(0), u32(10)])]);
    expect(decodeDatagram(ipfixMessage({}, [optionsData]), 'r', cache).optionsRecords).toHaveLength(1);
    expect(
      decodeDatagram(ipfixMessage({}, [ipfixWithdrawalSet([3], true)]), 'r', cache).templatesWithdrawn,
    ).toBe(1);
    expect(decodeDatagram(ipfixMessage({}, [optionsData]), 'r', cache).optionsRecords).toHaveLength(0);
  });

  test('withdrawing an unknown template changes nothing', () => {
    const cache = new TemplateCache();
    decodeDatagram(ipfixMessage({}, [ipfixTemplateSet([addressesFirst])]), 'r', cache);
    expect(decodeDatagram(ipfixMessage({}, [ipfixWithdrawalSet([999])]), 'r', cache).templatesWithdrawn).toBe(
      0,
    );
    expect(cache.templateCount).toBe(1);
  });
});

describe('TTL with an injected clock', () => {
  test('a template not re-announced within the TTL is forgotten; a refresh extends it', () => {
    const clock = new FakeClock();
    const cache = new TemplateCache({ now: clock.now, templateTtlMs: 60_000 });
    decodeDatagram(v9Packet({ count: 1 }, [v9TemplateFlowSet([addressesFirst])]), 'r', cache);
    clock.ms += 50_000;
    expect(
      decodeDatagram(v9Packet({ count: 1 }, [dataSet(256, [recordA])]), 'r', cache).records,
    ).toHaveLength(1);
    decodeDatagram(v9Packet({ count: 1 }, [v9TemplateFlowSet([addressesFirst])]), 'r', cache); // refresh
    clock.ms += 50_000;
    expect(
      decodeDatagram(v9Packet({ count: 1 }, [dataSet(256, [recordA])]), 'r', cache).records,
    ).toHaveLength(1);
    clock.ms += 10_001;
    const expired = decodeDatagram(
      v9Packet({ count: 3 }, [dataSet(256, [recordA, recordA, recordA])]),
      'r',
      cache,
    );
    expect(expired.records).toEqual([]);
    expect(expired.issues).toMatchObject([
      { kind: 'template-missing', templateId: 256, estimatedRecords: 3, estimate: 'previous-definition' },
    ]);
  });

  test('templates learned over TCP do not expire (RFC 7011 §8), over UDP they do', () => {
    const clock = new FakeClock();
    const cache = new TemplateCache({ now: clock.now, templateTtlMs: 1_000 });
    decodeIpfix(
      ipfixMessage({ domain: 1 }, [ipfixTemplateSet([addressesFirst])]),
      'r',
      cache,
      undefined,
      'tcp',
    );
    decodeIpfix(
      ipfixMessage({ domain: 2 }, [ipfixTemplateSet([addressesFirst])]),
      'r',
      cache,
      undefined,
      'udp',
    );
    clock.ms += 10_000;
    expect(cache.sweep()).toBe(1);
    const tcp = decodeIpfix(
      ipfixMessage({ domain: 1 }, [dataSet(256, [recordA])]),
      'r',
      cache,
      undefined,
      'tcp',
    );
    expect(tcp.records).toHaveLength(1);
    expect(cache.snapshot().map((s) => [s.kind, s.domainId, s.kind === 'template' && s.expires])).toEqual([
      ['template', 1, false],
    ]);
  });

  test('sweep() drops expired templates without a lookup', () => {
    const clock = new FakeClock();
    const cache = new TemplateCache({ now: clock.now, templateTtlMs: 1_000 });
    decodeDatagram(ipfixMessage({}, [ipfixTemplateSet([addressesFirst])]), 'r', cache);
    expect(cache.sweep()).toBe(0);
    clock.ms += 1_001;
    expect(cache.sweep()).toBe(1);
    expect(cache.templateCount).toBe(0);
  });
});

describe('snapshot and restore', () => {
  test('templates and options state survive a JSON round trip into a new cache, data decodes at once', () => {
    const clock = new FakeClock();
    const first = new TemplateCache({ now: clock.now });
    const base = readFileSync(`${CORPUS_DIR}malformed/valid_ipfix_base.bin`);
    const before = decodeDatagram(base, '127.0.0.1', first);
    expect(before.records).toHaveLength(4);
    const stored = JSON.parse(JSON.stringify(first.snapshot())) as TemplateSnapshot[];
    expect(stored.filter((s) => s.kind === 'template')).toHaveLength(5);
    expect(stored.filter((s) => s.kind === 'options-state')).toHaveLength(1);

    const second = new TemplateCache({ now: clock.now });
    expect(second.restore(stored)).toEqual({ restored: 6, skipped: 0 });
    expect(second.drainChanges()).toEqual([]);
    // The same datagram without its template set: only data (and options data) sets.
    const dataOnly = stripTemplateSets(base);
    const after = decodeDatagram(dataOnly, '127.0.0.1', second);
    expect(after.issues).toEqual([]);
    expect(after.records).toEqual(before.records);
    expect(second.domainOptions('127.0.0.1', 10, 0)).toMatchObject({
      systemInitMs: 1710234007250,
      defaultSamplingRate: 1,
    });
  });

  test('restore skips expired, malformed and uncompilable entries', () => {
    const clock = new FakeClock();
    const cache = new TemplateCache({ now: clock.now, templateTtlMs: 1_000 });
    const good: TemplateSnapshot = {
      kind: 'template',
      key: 't|10|0|256|r',
      exporter: 'r',
      version: 10,
      domainId: 0,
      templateId: 256,
      options: false,
      scopeFieldCount: 0,
      fields: [{ elementId: 8, length: 4, enterprise: 0 }],
      learnedMs: clock.ms,
      refreshedMs: clock.ms,
      expires: true,
    };
    const entries = [
      good,
      { ...good, templateId: 257, refreshedMs: clock.ms - 5_000 },
      { ...good, templateId: 100 },
      { ...good, templateId: 258, fields: [{ elementId: 8, length: 0, enterprise: 0 }] },
      { ...good, templateId: 259, fields: 'nope' },
      { ...good, version: 8 },
      {
        ...good,
        templateId: 260,
        fields: new Array(20_000).fill({ elementId: 2, length: 1, enterprise: 0 }),
      },
      null,
    ] as unknown as TemplateSnapshot[];
    expect(cache.restore(entries)).toEqual({ restored: 1, skipped: 7 });
    expect(cache.templateCount).toBe(1);
  });

  test('changes are reported once per key (onChange and drainChanges), refreshes only now and then', () => {
    const clock = new FakeClock();
    const seen: TemplateCacheChange[] = [];
    const cache = new TemplateCache({ now: clock.now, templateTtlMs: 40_000, onChange: (c) => seen.push(c) });
    const announce = ipfixMessage({}, [ipfixTemplateSet([addressesFirst])]);
    decodeDatagram(announce, 'r', cache);
    decodeDatagram(announce, 'r', cache);
    expect(seen.map((c) => c.type)).toEqual(['upsert']);
    clock.ms += 11_000; // more than TTL / 4 since it was last reported
    decodeDatagram(announce, 'r', cache);
    expect(seen.map((c) => c.type)).toEqual(['upsert', 'upsert']);
    decodeDatagram(ipfixMessage({}, [ipfixWithdrawalSet([256])]), 'r', cache);
    const removed = {
      type: 'remove',
      key: 't|10|0|256|r',
      exporter: 'r',
      version: 10,
      domainId: 0,
      templateId: 256,
    };
    expect(seen.at(-1)).toEqual(removed);
    expect(cache.drainChanges()).toEqual([removed]);
    expect(cache.drainChanges()).toEqual([]);
  });
});

describe('limits', () => {
  test('templates beyond the per-domain limit are refused and counted', () => {
    const cache = new TemplateCache({ maxTemplatesPerDomain: 2 });
    const templates = [256, 257, 258].map((id) => ({ id, fields: addressesFirst.fields }));
    const out = decodeDatagram(ipfixMessage({}, [ipfixTemplateSet(templates)]), 'r', cache);
    expect(out.templatesLearned).toBe(2);
    expect(out.issues).toMatchObject([{ kind: 'template-limit', templateId: 258 }]);
  });

  test('domains beyond the limit learn nothing', () => {
    const cache = new TemplateCache({ maxDomains: 1 });
    decodeDatagram(ipfixMessage({ domain: 1 }, [ipfixTemplateSet([addressesFirst])]), 'r', cache);
    const out = decodeDatagram(ipfixMessage({ domain: 2 }, [ipfixTemplateSet([addressesFirst])]), 'r', cache);
    expect(out.issues).toMatchObject([{ kind: 'template-limit', domainId: 2 }]);
  });
});

/** Rebuilds an IPFIX message keeping only its data sets (set id >= 256). */
function stripTemplateSets(message: Buffer): Buffer {
  const sets: Buffer[] = [];
  for (let pos = 16; pos < message.readUInt16BE(2);) {
    const length = message.readUInt16BE(pos + 2);
    if (message.readUInt16BE(pos) >= 256) sets.push(message.subarray(pos, pos + length));
    pos += length;
  }
  const body = Buffer.concat(sets);
  return Buffer.concat([message.subarray(0, 2), u16(16 + body.length), message.subarray(4, 16), body]);
}
