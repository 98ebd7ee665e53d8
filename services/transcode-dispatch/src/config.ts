import { common, env, loadConfig, s3, z } from '@mp/config';

export const configSchema = z.object({
  ...common,
  ...s3,
  /** Health and metrics. */
  PORT: env.port(3004),
  HOST: z.string().default('0.0.0.0'),
  ET_ENDPOINT: z.url(),
  ET_REGION: z.string().default('us-east-1'),
  ET_ACCESS_KEY_ID: z.string().min(1),
  ET_SECRET_ACCESS_KEY: z.string().min(1),
  /** Found by name with the ListPipelines paginator, as the original system did. */
  ET_PIPELINE_NAME: z.string().min(1).default('media-pipeline'),
  /** Optional JSON overriding the output profile per media kind (see profile.ts). */
  OUTPUT_PROFILE: z.string().optional(),
  CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  TMP_DIR: z.string().optional(),
  /** How often notify jobs left in the outbox (Redis was down, a crash) are queued again, and how old they must be. */
  OUTBOX_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  OUTBOX_MIN_AGE_MS: z.coerce.number().int().min(0).default(2000),
  /** How often deleted media are purged (their files, their engine job). */
  PURGE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  /** Next try of a purge that failed or waits for its engine job to end (its end notification wakes it sooner). */
  PURGE_RETRY_MS: z.coerce.number().int().min(100).default(60_000),
  /** How long a purged media's tombstone is kept, so that what arrives late for it is removed too. */
  PURGE_RETENTION_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 3600_000),
});

export type DispatchConfig = z.infer<typeof configSchema>;
export const loadDispatchConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(configSchema, e);
