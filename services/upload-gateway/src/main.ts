import { exitOnConfigError } from '@mp/config';
import { runMigrations } from '@mp/db';
import { onShutdown } from '@mp/runtime';
import { loadGatewayConfig } from './config';
import { buildGateway } from './server';

try {
  const cfg = loadGatewayConfig();
  await runMigrations(cfg.DATABASE_URL);
  const gw = await buildGateway(cfg);
  await gw.app.listen({ port: cfg.PORT, host: cfg.HOST });
  gw.log.info({ port: cfg.PORT }, 'upload-gateway listening');
  onShutdown(gw.log, [['gateway', () => gw.close()]], cfg.SHUTDOWN_TIMEOUT_MS);
} catch (err) {
  exitOnConfigError(err);
}
