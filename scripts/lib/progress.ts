// Progress for long steps: a start line, a heartbeat every 10 s, a done line
// with the duration. Also a logger in the shape snarkjs expects.

export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  console.log(`▸ ${name}`);
  const beat = setInterval(() => console.log(`  … ${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`), 10_000);
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
