import path from 'node:path';
import { ConfigError, common, env, loadConfig, z } from '@mp/config';

const dir = z
  .string()
  .min(1)
  .transform((p) => path.resolve(p));
const optionalDir = z
  .string()
  .optional()
  .transform((p) => (p ? path.resolve(p) : undefined));

export const configSchema = z.object({
  LOG_LEVEL: common.LOG_LEVEL,
  /** The folder watched; only regular files at its top level are taken. */
  DROP_DIR: dir,
  /** Outputs land in OUT_DIR/<source base name>/. */
  OUT_DIR: dir,
  /** Files that could not be processed, each with `<name>.error.txt`. */
  FAILED_DIR: dir,
  /** When set, processed sources are moved here instead of deleted. */
  ARCHIVE_DIR: optionalDir,
  /** Default: DROP_DIR/.drop-state.json. */
  STATE_FILE: optionalDir,
  GATEWAY_URL: z.url(),
  NOTIFIER_URL: z.url(),
  /** The user's API token, as given by POST /v1/users. */
  API_TOKEN: env.secret(16),
  /** A file whose size and mtime stay unchanged this long is completely written. */
  STABLE_MS: env.int(2000).pipe(z.number().min(0)),
  POLL_MS: env.int(1000).pipe(z.number().min(10)),
  /** Tries of one step (upload, download) before the file is moved aside. */
  MAX_ATTEMPTS: env.int(3).pipe(z.number().min(1).max(100)),
  RETRY_BASE_MS: env.int(2000).pipe(z.number().min(0)),
  RETRY_MAX_MS: env.int(60_000).pipe(z.number().min(0)),
  /** From the upload's acceptance: a media not complete by then is reported as failed. */
  COMPLETION_TIMEOUT_MS: env.int(3_600_000).pipe(z.number().min(1)),
  /** Files larger than this go through the gateway's resumable (tus) uploads, and resume after a restart. */
  RESUMABLE_THRESHOLD_BYTES: env.int(64 * 1024 * 1024).pipe(z.number().min(0)),
  /** On SIGTERM, how long the step under way may take to finish before it is cut short. */
  SHUTDOWN_TIMEOUT_MS: env.int(10_000).pipe(z.number().min(0)),
});

export type DropFolderConfig = Omit<z.infer<typeof configSchema>, 'STATE_FILE'> & { STATE_FILE: string };

export function loadDropFolderConfig(e: NodeJS.ProcessEnv = process.env): DropFolderConfig {
  const c = loadConfig(configSchema, e);
  // Moving a file into the drop folder itself would pick it up again.
  for (const key of ['OUT_DIR', 'FAILED_DIR', 'ARCHIVE_DIR'] as const) {
    if (c[key] === c.DROP_DIR) throw new ConfigError(`config: ${key} is invalid (must not be DROP_DIR itself)`);
  }
  return { ...c, STATE_FILE: c.STATE_FILE ?? path.join(c.DROP_DIR, '.drop-state.json') };
}
