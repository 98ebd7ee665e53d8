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
});

export type DispatchConfig = z.infer<typeof configSchema>;
export const loadDispatchConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(configSchema, e);
