// Where the collector's CPU goes, stage by stage (issue 11). Runs the compiled collector
// pinned to one CPU under `node --cpu-prof` (one .cpuprofile per thread: the receiving
// thread, the writer worker, the checkpoint worker), sends IPFIX over UDP loopback from
// the other CPU at a rate it holds, and prints per stage the µs of CPU per record and the
// share of the total, then the top self-time functions.
//
// The profiles give each thread's shares (samples inside the load window, by the nearest
// project frame on the stack); /proc/PID/task/TID/stat gives each thread's CPU time over
// the same window. Stage µs = thread CPU × stage's share of that thread's busy samples
// ÷ records sent. Samples where a thread waits (`(idle)`, `(program)` with nothing on the
// stack) are left out of the shares.
//
//   npm run build && node --import tsx test/bench/profile.ts [--rate 100000] [--seconds 8]
//   npm run bench -- --only profile
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { raiseReceiveBufferCap, sendLoad, startTunnelflow, waitExit } from './e2e.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '8' },
    'collector-cpu': { type: 'string', default: '0' },
    'sender-cpu': { type: 'string', default: '1' },
    top: { type: 'string', default: '25' },
    keep: { type: 'boolean', default: false },
    // Thread CPU per record only, without the profiler (for A/B runs of two versions).
    'no-profile': { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const collectorCpu = Number(values['collector-cpu']);
const senderCpu = Number(values['sender-cpu']);
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
  /** Self samples by source line (1-based), for splitting a function's time. */
  readonly positionTicks?: ReadonlyArray<{ readonly line: number; readonly ticks: number }>;
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The stages of issue 11's table, in order. */
const STAGES = [
  'receive/decode',
  'produce',
  'normalize',
  'pipeline bookkeeping',
  'encode + hand-off',
  'writer: pack blocks (JS)',
  'writer: SQLite insert + indexes',
  'writer: commit (WAL write)',
  'writer: other JS',
  'checkpoint',
  'GC',
  'other (main, writer)',
  'other threads (V8 helpers, checkpoint, libuv)',
  'profiler threads (only when profiling)',
] as const;
type Stage = (typeof STAGES)[number];

/** The stage of a project source file (dist path), or null for a frame outside the project. */
function stageOfUrl(url: string): Stage | null {
  const i = url.indexOf('/dist/');
  if (i < 0) return null;
  const p = url.slice(i + '/dist/'.length);
  if (p.startsWith('collector/wire/') || p.startsWith('collector/listen/')) return 'receive/decode';
  if (p.startsWith('collector/produce/')) return 'produce';
  if (p.startsWith('collector/normalize/')) return 'normalize';
  if (p.startsWith('collector/')) return 'pipeline bookkeeping';
  if (p.startsWith('store/writer/flow-batch-codec') || p.startsWith('store/writer/flow-writer'))
    return 'encode + hand-off';
  if (p.startsWith('store/sqlite/checkpoint')) return 'checkpoint';
  if (p.startsWith('store/sqlite/flow-block-')) return 'writer: pack blocks (JS)';
  if (p.startsWith('store/')) return 'writer: other JS';
  return 'other (main, writer)';
}

const sourceLines = new Map<string, string[]>();
/** Line `line` (1-based) of a file:// script, '' when it cannot be read. */
function sourceLine(url: string, line: number): string {
  let lines = sourceLines.get(url);
  if (lines === undefined) {
    try {
      lines = readFileSync(fileURLToPath(url), 'utf8').split('\n');
    } catch {
      lines = [];
    }
    sourceLines.set(url, lines);
  }
  return lines[line - 1] ?? '';
}

/**
 * better-sqlite3's native calls get no frame of their own: their time is the self time of
 * the JS line that calls them. In the SQLite sink a statement's `.run(` is SQLite inserting
 * the rows into the table and its indexes (and binding them); in better-sqlite3's
 * transaction wrapper `after.run()` is the COMMIT, i.e. the WAL write.
 */
function nativeStageOfLine(frame: CallFrame, text: string): Stage | null {
  if (frame.url.includes('better-sqlite3/lib/methods/transaction'))
    return /after\.run\(/.test(text) ? 'writer: commit (WAL write)' : 'writer: other JS';
  if (frame.url.includes('/store/sqlite/') && /\.run\(/.test(text)) return 'writer: SQLite insert + indexes';
  return null;
}

/**
 * Stage of one sample: the nearest project frame on its stack decides; a native call made
 * from the SQLite sink is split by what it is (a statement's run = insert + indexes, the
 * transaction's COMMIT = the WAL write).
 */
function classify(chain: readonly CallFrame[], thread: string): Stage {
  const leaf = chain[0]!;
  if (leaf.functionName === '(garbage collector)') return 'GC';
  if (thread === 'checkpoint') return 'checkpoint';
  let native: CallFrame | null = null;
  for (const frame of chain) {
    const stage = stageOfUrl(frame.url);
    if (stage === null) {
      if (native === null && frame.url === '' && frame.functionName !== '') native = frame;
      continue;
    }
    if (
      frame.url.includes('/store/sqlite/sqlite-sink') ||
      frame.url.includes('/store/sqlite/flow-block-writer')
    ) {
      if (native?.functionName === 'run') return 'writer: SQLite insert + indexes';
      if (native !== null && /^(exec|commit|transaction)/i.test(native.functionName))
        return 'writer: commit (WAL write)';
      if (native === null && frame.url.includes('/store/sqlite/flow-block-'))
        return 'writer: pack blocks (JS)';
      return native === null ? 'writer: other JS' : 'writer: SQLite insert + indexes';
    }
    if (stage === 'encode + hand-off' && thread === 'writer') return 'writer: other JS';
    return stage;
  }
  // No project frame: Node internals (dgram's receive path, MessagePort delivery).
  if (chain.some((f) => f.url.includes('dgram') || f.functionName === 'onMessage'))
    return thread === 'main' ? 'receive/decode' : 'writer: other JS';
  return 'other (main, writer)';
}

interface ThreadResult {
  thread: string;
  busyUs: number;
  stageUs: Map<Stage, number>;
  selfUs: Map<string, number>;
}

function analyse(profile: CpuProfile, thread: string, fromUs: number, toUs: number): ThreadResult {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const stageOf = new Map<number, Stage | 'idle'>();
  const chainOf = (id: number): CallFrame[] => {
    const out: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      out.push(byId.get(at)!.callFrame);
    return out;
  };
  const result: ThreadResult = { thread, busyUs: 0, stageUs: new Map(), selfUs: new Map() };
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t > toUs || dt <= 0) continue;
    const id = profile.samples[i]!;
    let stage = stageOf.get(id);
    const frame = byId.get(id)!.callFrame;
    if (stage === undefined) {
      const idle =
        frame.functionName === '(idle)' ||
        (frame.functionName === '(program)' && parent.get(id) !== undefined && chainOf(id).length <= 2);
      stage = idle ? 'idle' : classify(chainOf(id), thread);
      stageOf.set(id, stage);
    }
    if (stage === 'idle') continue;
    result.busyUs += dt;
    const name = `${thread}: ${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/dist\//, '').replace(/^.*\/node_modules\//, '')}:${frame.lineNumber + 1}`;
    // Split the sample over the function's lines by its position ticks where a line is a
    // native call (see nativeStageOfLine); the rest keeps the function's stage.
    const node = byId.get(id)!;
    const ticks = node.positionTicks ?? [];
    const total = ticks.reduce((n, p) => n + p.ticks, 0);
    let rest = dt;
    if (total > 0) {
      for (const p of ticks) {
        const text = sourceLine(frame.url, p.line);
        const native = nativeStageOfLine(frame, text);
        if (native === null) continue;
        const share = (dt * p.ticks) / total;
        rest -= share;
        result.stageUs.set(native, (result.stageUs.get(native) ?? 0) + share);
        const lineName = `${name} line ${p.line}: ${text.trim().slice(0, 60)}`;
        result.selfUs.set(lineName, (result.selfUs.get(lineName) ?? 0) + share);
      }
    }
    if (rest > 0) {
      result.stageUs.set(stage, (result.stageUs.get(stage) ?? 0) + rest);
      result.selfUs.set(name, (result.selfUs.get(name) ?? 0) + rest);
    }
  }
  return result;
}

/** CPU µs of every thread of a process (Linux /proc), by thread id, with its name. */
function threadCpu(pid: number): Map<number, { comm: string; us: number }> {
  const out = new Map<number, { comm: string; us: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { comm, us: ((Number(f[11]) + Number(f[12])) * 1_000_000) / 100 });
    } catch {
      // the thread ended
    }
  }
  return out;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tunnelflow-profile-'));
  const profileDir = join(dir, 'profiles');
  const restore = raiseReceiveBufferCap(32 << 20);
  try {
    const { child, port } = await startTunnelflow(
      join(dir, 'bench.db'),
      { collectorCpu },
      values['no-profile'] ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir],
    );
    const pid = child.pid!;
    await new Promise((r) => setTimeout(r, 1000)); // the workers are up, the JIT settled
    const before = threadCpu(pid);
    const fromUs = nowUs();
    const sent = await sendLoad(port, rate, seconds, { senderCpu });
    const toUs = nowUs();
    const after = threadCpu(pid);
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGTERM');
    await waitExit(child);
    const db = new Database(join(dir, 'bench.db'), { readonly: true });
    const stored = (db.prepare('SELECT coalesce(sum(rows), 0) AS n FROM flow_blocks').get() as { n: number })
      .n;
    db.close();

    const threads: Array<{ tid: number; comm: string; us: number }> = [];
    for (const [tid, a] of after) threads.push({ tid, comm: a.comm, us: a.us - (before.get(tid)?.us ?? 0) });
    const processUs = threads.reduce((s, t) => s + t.us, 0);
    const mainUs = threads.find((t) => t.tid === pid)?.us ?? 0;

    // Which profile is which thread: by the modules it ran.
    const results: ThreadResult[] = [];
    const files = values['no-profile'] ? [] : readdirSync(profileDir);
    for (const file of files.filter((f) => f.endsWith('.cpuprofile'))) {
      const text = readFileSync(join(profileDir, file), 'utf8');
      const profile = JSON.parse(text) as CpuProfile;
      const thread = text.includes('writer-worker.js')
        ? 'writer'
        : text.includes('checkpoint-worker.js')
          ? 'checkpoint'
          : 'main';
      results.push(analyse(profile, thread, fromUs, toUs));
    }
    // Thread CPU: the main thread is the pid; the writer worker the busiest of the others
    // that the profiles name; the rest (V8's GC and compiler helpers, libuv, the
    // checkpoint worker) is counted as "other threads".
    const others = threads.filter((t) => t.tid !== pid).sort((a, b) => b.us - a.us);
    const writerUs = others[0]?.us ?? 0;
    const cpuOf: Record<string, number> = { main: mainUs, writer: writerUs };
    const stageUs = new Map<Stage, number>();
    const top: Array<{ name: string; us: number }> = [];
    for (const r of results) {
      const cpu = cpuOf[r.thread];
      if (cpu === undefined || r.busyUs === 0) continue;
      const scale = cpu / r.busyUs;
      for (const [s, us] of r.stageUs) stageUs.set(s, (stageUs.get(s) ?? 0) + us * scale);
      for (const [name, us] of r.selfUs) top.push({ name, us: us * scale });
    }
    const otherThreadsUs = processUs - mainUs - writerUs;
    const profilerUs = others.filter((t) => t.comm.startsWith('v8:Prof')).reduce((n, t) => n + t.us, 0);
    stageUs.set('profiler threads (only when profiling)', profilerUs);
    stageUs.set('other threads (V8 helpers, checkpoint, libuv)', otherThreadsUs - profilerUs);
    const perRecord = (us: number) => Number((us / sent.records).toFixed(3));
    print({
      bench: 'profile',
      rate,
      seconds: Number(sent.seconds.toFixed(2)),
      sent: sent.records,
      stored,
      lossRatio: Number((1 - stored / sent.records).toFixed(5)),
      cpuUsPerRecord: perRecord(processUs),
      mainThreadUsPerRecord: perRecord(mainUs),
      writerThreadUsPerRecord: perRecord(writerUs),
      otherThreadsUsPerRecord: perRecord(otherThreadsUs),
      withoutProfilerUsPerRecord: perRecord(processUs - profilerUs),
      threads: threads
        .filter((t) => t.us > 0)
        .sort((a, b) => b.us - a.us)
        .map((t) => ({ tid: t.tid === pid ? 'main' : t.tid, comm: t.comm, usPerRecord: perRecord(t.us) })),
      profiles: results.map((r) => ({ thread: r.thread, busySampledMs: Math.round(r.busyUs / 1000) })),
      ...restore.info,
    });
    for (const s of STAGES) {
      const us = stageUs.get(s) ?? 0;
      print({
        bench: 'profile-stage',
        stage: s,
        usPerRecord: perRecord(us),
        percent: Number(((100 * us) / processUs).toFixed(1)),
      });
    }
    top.sort((a, b) => b.us - a.us);
    for (const f of top.slice(0, Number(values.top)))
      print({
        bench: 'profile-self',
        function: f.name,
        usPerRecord: perRecord(f.us),
        percent: Number(((100 * f.us) / processUs).toFixed(1)),
      });
    if (values.keep) print({ bench: 'profile', profiles: profileDir });
  } finally {
    restore.undo();
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
