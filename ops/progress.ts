// Progress for long steps: a start line, a heartbeat every 10 s, a done line
// with the duration. Also a logger in the shape snarkjs expects.

export async function step<T>(name: string, fn: () => Promise<T>, opts: { heartbeat?: boolean } = {}): Promise<T> {
  const t0 = Date.now();
  console.log(`▸ ${name}`);
  const beat = setInterval(() => opts.heartbeat !== false && console.log(`  … ${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`), 10_000);
  beat.unref();
  try {
    const out = await fn();
    console.log(`✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return out;
  } finally {
    clearInterval(beat);
  }
}

/** snarkjs logger: keeps its progress lines (info), drops its debug chatter. */
export const snarkLogger = {
  info: (m: string) => console.log(`  ${m}`),
  warn: (m: string) => console.log(`  warning: ${m}`),
  error: (m: string) => console.error(`  error: ${m}`),
  debug: () => {},
};

/**
 * A progress callback (share done 0..1, elapsed ms) that redraws one line on a
 * terminal and prints a line every 10 s otherwise (CI logs).
 */
export function progressBar(name: string): (done: number, elapsedMs: number) => void {
  let lastLine = 0;
  return (done, ms) => {
    const eta = done > 0 ? (ms / done - ms) / 1000 : NaN;
    const bar = "█".repeat(Math.round(done * 30)).padEnd(30, "·");
    const text = `  ${name} ${bar} ${(done * 100).toFixed(1).padStart(5)}%  ${(ms / 1000).toFixed(0)} s` + (done < 1 && Number.isFinite(eta) ? `, ~${eta.toFixed(0)} s left` : "");
    if (process.stdout.isTTY) {
      process.stdout.write(`\r${text}\x1b[K${done >= 1 ? "\n" : ""}`);
    } else if (done >= 1 || ms - lastLine >= 10_000) {
      lastLine = ms;
      console.log(text);
    }
  };
}
