import { common, et, loadConfig, s3, z } from '@mp/config';

export const configSchema = z.object({
  DATABASE_URL: common.DATABASE_URL,
  LOG_LEVEL: common.LOG_LEVEL,
  /** The transcoder's Elastic Transcoder API. */
  ET_ENDPOINT: z.url(),
  /** ET_ACCOUNT_ID: account of the pipeline's IAM role ARN (the engine does not check roles). */
  ...et,
  ET_ACCESS_KEY_ID: z.string().min(1),
  ET_SECRET_ACCESS_KEY: z.string().min(1),
  /** transcode-dispatch finds the pipeline by this name. */
  ET_PIPELINE_NAME: z.string().min(1).max(40).default('media-pipeline'),
  /** SNS topic all four pipeline notifications go to (sns-ingest's subscription). */
  ET_TOPIC_ARN: z.string().regex(/^arn:aws:sns:[^:]+:\d{12}:[\w-]{1,256}$/, 'an SNS topic ARN'),
  /** The input and output bucket of the pipeline, and the S3 server it is made on. */
  ...s3,
  /** Unset (with AWS_SECRET_ACCESS_KEY): no bucket step, the bucket is made by whoever owns it (AWS, Kubernetes). */
  AWS_ACCESS_KEY_ID: s3.AWS_ACCESS_KEY_ID.optional(),
  AWS_SECRET_ACCESS_KEY: s3.AWS_SECRET_ACCESS_KEY.optional(),
  FIRST_USER_NAME: z.string().trim().min(1).max(100).default('admin'),
  /** Where the first user's token is kept: the server stores only its hash. */
  INIT_DATA_DIR: z.string().min(1).default('/data'),
});

export type ComposeInitConfig = z.infer<typeof configSchema>;

export const loadComposeInitConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(configSchema, e);
