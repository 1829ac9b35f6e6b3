/**
 * Progress on long work, on stderr: a rewritten line on a terminal, a line every few
 * seconds otherwise (so CI logs and pipes are not flooded).
 */
export function progressLine(label: string): {
  update(done: number, total: number, unit: string, extra?: string): void;
  done(): void;
} {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let printed = false;
  let lastText = '';
  return {
    update(done, total, unit, extra) {
      const now = Date.now();
      if (now - last < (tty ? 200 : 5000) && done < total) return;
      last = now;
      const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '100.0';
      const text = `${label}: ${pct}% (${done}/${total} ${unit})${extra ? ` ${extra}` : ''}`;
      if (text === lastText) return;
      lastText = text;
      process.stderr.write(tty ? `\r${text}\x1b[K` : `${text}\n`);
      printed = true;
    },
    done() {
      if (tty && printed) process.stderr.write('\n');
    },
  };
}
