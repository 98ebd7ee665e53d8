import { exitOnConfigError } from '@mp/config';
import { createLogger } from '@mp/logging';
import { onShutdown } from '@mp/runtime';
import { loadNotifierConfig } from './config';
import { startNotifier } from './server';

try {
  const config = loadNotifierConfig();
  const logger = createLogger('notifier', config.LOG_LEVEL);
  const notifier = await startNotifier(config, logger);
  onShutdown(logger, [['notifier', () => notifier.close()]], config.SHUTDOWN_TIMEOUT_MS);
} catch (err) {
  exitOnConfigError(err);
}
