import { exitOnConfigError } from '@mp/config';
import { runMigrations } from '@mp/db';
import { onShutdown } from '@mp/runtime';
import { loadDispatchConfig } from './config';
import { buildDispatch } from './server';

try {
  const cfg = loadDispatchConfig();
  await runMigrations(cfg.DATABASE_URL);
  const d = await buildDispatch(cfg);
  await d.app.listen({ port: cfg.PORT, host: cfg.HOST });
  d.log.info({ port: cfg.PORT }, 'transcode-dispatch running');
  onShutdown(d.log, [['dispatch', () => d.close()]], cfg.SHUTDOWN_TIMEOUT_MS);
} catch (err) {
  exitOnConfigError(err);
}
