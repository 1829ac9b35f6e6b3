// Child process of test/store/bucket-rollup.test.ts: runs bucket rollup steps on a
// database until killed, printing one line per committed step (the parent kills it with
// SIGKILL mid-rollup). Arguments: database path, fake now (epoch ms), stepRows.
import { openSqliteStore } from '../../store/sqlite/open-sqlite-store.js';
import { retentionConfigSchema } from '../../store/retention-config.js';
import { RetentionStepper } from '../../store/sqlite/retention-stepper.js';
import type { RetentionStep } from '../../store/retention-step.js';
import { createRetention } from '../../store/retention.js';

const [path, now, stepRows] = process.argv.slice(2);
const store = await openSqliteStore({ path: path! });
const stepper = new RetentionStepper(store.sqlite);
const retention = createRetention(
  retentionConfigSchema.parse({ stepRows: Number(stepRows), maxStepsPerRun: 1 }),
  {
    runner: {
      retentionStep: async (step: RetentionStep) => {
        const result = stepper.run(step);
        process.stdout.write(`step ${result.rolledUpBuckets ?? 0}\n`);
        return result;
      },
    },
    clock: () => Number(now),
  },
);
for (;;) {
  const result = await retention.runOnce();
  if (result.rolledUpBuckets === 0) break;
}
process.stdout.write('done\n');
await store.close();
