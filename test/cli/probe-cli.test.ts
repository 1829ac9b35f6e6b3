import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

/** `tunnelflow probe` as a user meets it: help, and one clear line with exit 2 when live capture cannot run. */

const exec = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

async function run(
  args: string[],
  wrap: string[] = [],
): Promise<{ code: number; stderr: string; stdout: string }> {
  const [cmd, ...pre] = wrap.length > 0 ? wrap : [process.execPath];
  const argv = wrap.length > 0 ? [...pre, process.execPath, CLI, ...args] : [CLI, ...args];
  try {
    const { stdout, stderr } = await exec(cmd!, argv);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('tunnelflow probe', () => {
  test('--help names the inputs, the export and what is exported', async () => {
    const r = await run(['probe', '--help']);
    expect(r.code).toBe(0);
    for (const s of [
      '--pcap',
      '--interface',
      '--export',
      '--transport',
      '--metrics',
      'ipSecSPI',
      'PEN 32473',
    ]) {
      expect(r.stdout).toContain(s);
    }
  });

  test('no tcpdump: one line, exit 2', async () => {
    const r = await run([
      'probe',
      '--interface',
      'lo',
      '--export',
      '127.0.0.1:9',
      '--tcpdump',
      '/nonexistent/tcpdump',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "tunnelflow probe: tcpdump not found (/nonexistent/tcpdump): install Debian's tcpdump package",
    ]);
  });

  test('no capture permission: one line, exit 2', async () => {
    // As root, drop to nobody without capabilities; any other user has no capture rights already.
    const asNobody =
      process.getuid?.() === 0
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all']
        : [];
    const r = await run(['probe', '--interface', 'lo', '--export', '127.0.0.1:9'], asNobody);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tunnelflow probe: no permission to capture on lo/);
  });

  test('neither --pcap nor --interface: exit 2', async () => {
    const r = await run(['probe', '--export', '127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give exactly one of --pcap FILE and --interface IF');
  });
});
