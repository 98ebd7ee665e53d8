import type { Logger } from '@mp/logging';

/**
 * Runs the closers in order on SIGTERM/SIGINT, each bounded by the timeout, then exits.
 * Returns a function that runs them on demand (tests).
 */
export function onShutdown(logger: Logger, closers: Array<[string, () => Promise<unknown>]>, timeoutMs = 25_000) {
  let running: Promise<void> | null = null;
  const run = () => {
    running ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      for (const [name, close] of closers) {
        const left = Math.max(100, deadline - Date.now());
        try {
          await Promise.race([
            close(),
            new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), left).unref()),
          ]);
        } catch (err) {
          logger.warn({ step: name, err: (err as Error).message }, 'shutdown step did not finish');
        }
      }
    })();
    return running;
  };
  const onSignal = (sig: string) => {
    logger.info({ sig }, 'shutting down');
    void run().then(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return run;
}
