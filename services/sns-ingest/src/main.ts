import { exitOnConfigError } from '@mp/config';
import { onShutdown } from '@mp/runtime';
import { loadSnsIngestConfig } from './config';
import { buildSnsIngest, migrateSnsIngest } from './server';

try {
  const cfg = loadSnsIngestConfig();
  await migrateSnsIngest(cfg.DATABASE_URL);
  const svc = await buildSnsIngest(cfg);
  await svc.app.listen({ port: cfg.PORT, host: cfg.HOST });
  svc.log.info({ port: cfg.PORT }, 'sns-ingest listening');
  onShutdown(svc.log, [['sns-ingest', () => svc.close()]], cfg.SHUTDOWN_TIMEOUT_MS);
} catch (err) {
  exitOnConfigError(err);
}
