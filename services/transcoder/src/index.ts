import { loadTranscoderConfig, type TranscoderConfig } from './config';
import { migrate } from './db/client';
import { buildServer, type TranscoderApi } from './server';
import { startWorker, type TranscoderWorker } from './worker.service';

export { loadTranscoderConfig, buildServer, startWorker, migrate };
export type { TranscoderConfig, TranscoderApi, TranscoderWorker };

/**
 * Starts the engine in-process (migrations, API listening on config.PORT, workers), as another service's
 * integration tests do. `workers: 0` starts the API alone.
 */
export async function startTranscoder(
  config: TranscoderConfig,
  opts: { workers?: number; listen?: boolean } = {},
): Promise<{ api: TranscoderApi; workers: TranscoderWorker[]; url: string; close(): Promise<void> }> {
  await migrate(config.DATABASE_URL);
  const api = await buildServer(config);
  let url = config.ET_PUBLIC_URL;
  if (opts.listen !== false) {
    const address = await api.app.listen({ port: config.PORT, host: config.HOST });
    url = address.replace('0.0.0.0', '127.0.0.1');
  }
  // With PORT=0 the links in delivered messages must carry the port actually bound.
  const workerConfig = config.ET_PUBLIC_URL.endsWith(':0') ? { ...config, ET_PUBLIC_URL: url } : config;
  const workers: TranscoderWorker[] = [];
  for (let i = 0; i < (opts.workers ?? 1); i++) workers.push(await startWorker(workerConfig));
  return {
    api,
    workers,
    url,
    async close() {
      for (const w of workers) await w.close();
      await api.close();
    },
  };
}
