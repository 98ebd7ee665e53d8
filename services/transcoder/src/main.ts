import { exitOnConfigError } from '@mp/config';
import { onShutdown } from '@mp/runtime';
import { loadTranscoderConfig } from './config';
import { migrate } from './db/client';
import { buildServer } from './server';

// Entry point of the API process (npm start / npm run start:api). Workers run from src/worker.ts.
try {
  const config = loadTranscoderConfig();
  await migrate(config.DATABASE_URL);
  const api = await buildServer(config);
  await api.app.listen({ port: config.PORT, host: config.HOST });
  api.log.info({ port: config.PORT }, 'transcoder API listening');
  onShutdown(api.log, [['api', () => api.close()]], config.SHUTDOWN_TIMEOUT_MS);
} catch (err) {
  exitOnConfigError(err);
}
