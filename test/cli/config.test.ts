import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../cli/load-config.js';
import { resolveConfig } from '../../cli/resolve-config.js';

const dir = mkdtempSync(join(tmpdir(), 'tunnelflow-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  test('defaults: the ports and addresses of the interface contract', () => {
    const c = resolveConfig({});
    expect(c.collector.netflowPort).toBe(2055);
    expect(c.collector.ipfixPort).toBe(4739);
    expect(c.http.host).toBe('127.0.0.1');
    expect(c.http.port).toBe(8080);
    expect(c.loss.ceilingRatio).toBe(0.5);
    expect(c.bucketSeconds).toBe(60);
    expect(Object.isFrozen(c.collector)).toBe(true);
  });

  test("DESIGN.md's example file is accepted, and flags override it", () => {
    const p = file(
      'design.yaml',
      `observationPoints:
  - exporter: 192.0.2.140
    near: 192.0.2.140
tunnels:
  - name: lossy path
    peerA: 192.0.2.140
    peerB: 198.51.100.150
    protectedSubnets: { a: [10.21.0.0/24], b: [10.22.0.0/24] }
loss:
  ceilingRatio: 0.5
collector:
  netflowPort: 9995
`,
    );
    const c = resolveConfig({ config: p, ipfixPort: 4740, http: '[::1]:9090', db: '/tmp/x.db' });
    expect(c.observationPoints[0]).toMatchObject({ exporter: '192.0.2.140', near: '192.0.2.140' });
    expect(c.tunnels[0]?.protectedSubnets.a).toEqual(['10.21.0.0/24']);
    expect(c.collector.netflowPort).toBe(9995);
    expect(c.collector.ipfixPort).toBe(4740);
    expect(c.http).toMatchObject({ host: '::1', port: 9090 });
    expect(c.store.path).toBe('/tmp/x.db');
  });

  test.each([
    ['unknown top-level key', 'los:\n  ceilingRatio: 0.5\n', /los: unknown key "los"|unknown key "los"/],
    ['misspelt nested key', 'loss:\n  ceiling: 0.5\n', /loss: unknown key "ceiling"/],
    ['wrong type', 'collector:\n  netflowPort: "x"\n', /collector\.netflowPort: /],
    ['port out of range', 'collector:\n  ipfixPort: 70000\n', /collector\.ipfixPort: /],
    [
      'bad address',
      'observationPoints:\n  - exporter: 300.1.1.1\n    near: 192.0.2.1\n',
      /observationPoints\.0\.exporter: .*not an IPv4 or IPv6 address/,
    ],
    [
      'bad subnet',
      'tunnels:\n  - name: t\n    peerA: 192.0.2.1\n    peerB: 192.0.2.2\n    protectedSubnets: { a: [10.0.0.0/33] }\n',
      /tunnels\.0\.protectedSubnets\.a\.0: /,
    ],
    ['ratio above 1', 'loss:\n  ceilingRatio: 2\n', /loss\.ceilingRatio: /],
    ['a list at the top', '- a\n- b\n', /top level must be a mapping/],
    ['YAML syntax error', 'loss: [\n', /.+/],
  ])('%s is refused with the key and what is wrong', (_name, text, pattern) => {
    const p = file(`bad-${Math.random().toString(36).slice(2)}.yaml`, text);
    const found = problems(() => resolveConfig({ config: p }));
    expect(found.join('\n')).toMatch(pattern);
  });

  test('a missing file says so', () => {
    expect(problems(() => resolveConfig({ config: join(dir, 'nope.yaml') })).join()).toMatch(
      /cannot read the file/,
    );
  });
});
