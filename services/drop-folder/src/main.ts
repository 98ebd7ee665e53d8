import { exitOnConfigError } from '@mp/config';
import { createLogger } from '@mp/logging';
import { loadDropFolderConfig } from './config';
import { startDropFolder } from './drop-folder';

try {
  const cfg = loadDropFolderConfig();
  const log = createLogger('drop-folder', cfg.LOG_LEVEL);
  const df = await startDropFolder(cfg, log);
  log.info(
    { dropDir: cfg.DROP_DIR, outDir: cfg.OUT_DIR, failedDir: cfg.FAILED_DIR, archiveDir: cfg.ARCHIVE_DIR ?? null },
    'watching',
  );
  const stop = (sig: string) => {
    log.info({ sig }, 'shutting down');
    df.stop(cfg.SHUTDOWN_TIMEOUT_MS).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (err) {
  exitOnConfigError(err);
}
