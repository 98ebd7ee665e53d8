import { exitOnConfigError } from '@mp/config';
import { onShutdown } from '@mp/runtime';
import { loadTranscoderConfig } from './config';
import { migrate } from './db/client';
import { startWorker } from './worker.service';

// Entry point of a transcoder worker process (npm run start:worker); run as many as you like.
try {
  const config = loadTranscoderConfig();
  await migrate(config.DATABASE_URL);
  const worker = await startWorker(config);
  onShutdown(worker.log, [['worker', () => worker.close()]], config.SHUTDOWN_TIMEOUT_MS);
} catch (err) {
  exitOnConfigError(err);
}
