import { common, env, loadConfig, s3, z } from '@mp/config';

/** The development default of PLAYBACK_TOKEN_SECRET: the gateway warns at start while it is in use. */
export const DEV_PLAYBACK_SECRET = 'dev-playback-secret-change-me';

export const configSchema = z.object({
  ...common,
  ...s3,
  PORT: env.port(3000),
  HOST: z.string().default('0.0.0.0'),
  /** Guards POST /v1/users. */
  ADMIN_TOKEN: env.secret(16),
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 1024 ** 3),
  /** Multipart part size for the S3 upload; also bounds memory per upload (x queue size). */
  UPLOAD_PART_BYTES: z.coerce
    .number()
    .int()
    .min(5 * 1024 ** 2)
    .default(8 * 1024 ** 2),
  UPLOAD_QUEUE_SIZE: z.coerce.number().int().min(1).max(16).default(4),
  PRESIGN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .default(300),
  /** How often unqueued uploads are re-queued, and how old they must be. */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  SWEEP_MIN_AGE_MS: z.coerce.number().int().min(0).default(2000),
  /** Time a client has to send a request's headers, then its body (uploads excepted); slower ones get 408. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(50).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(50).default(30_000),
  /** An upload that keeps moving may take as long as it needs; one with no byte for this long is cut. */
  UPLOAD_IDLE_TIMEOUT_MS: z.coerce.number().int().min(50).default(60_000),
  /** Open connections one client address may hold (behind a proxy, every client has the proxy's). */
  MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(64),
  /** Resumable (tus) uploads: an unfinished one is removed this long after its creation (fractions allowed). */
  UPLOAD_EXPIRY_HOURS: z.coerce.number().positive().default(24),
  /** Bytes of unfinished resumable uploads one user may have at once (the sum of their Upload-Length). */
  UPLOADS_QUOTA_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(20 * 1024 ** 3),
  /** How often expired resumable uploads are looked for and removed. */
  UPLOAD_EXPIRY_SWEEP_MS: z.coerce.number().int().min(100).default(60_000),
  /** URL of the notifier for the web page's socket (same origin when empty). */
  NOTIFIER_PUBLIC_URL: z.string().default(''),
  /** The gateway's and S3's addresses as browsers reach them; empty: the page's own origin, and S3_ENDPOINT. */
  GATEWAY_PUBLIC_URL: z.union([z.literal(''), z.url()]).default(''),
  S3_PUBLIC_URL: z.union([z.literal(''), z.url()]).default(''),
  /** Signs the playback tokens of stream URLs (HMAC-SHA256); the development default is only warned of. */
  PLAYBACK_TOKEN_SECRET: env.secret(16).default(DEV_PLAYBACK_SECRET),
  /** At start, give a bucket with no CORS configuration a rule for GET from any origin (the page's player). */
  S3_PLAYBACK_CORS: env.bool(true),
  /** Lifetime of a stream's playlist and segment URLs, in seconds. */
  STREAM_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(30)
    .max(24 * 3600)
    .default(900),
});

export type GatewayConfig = z.infer<typeof configSchema>;

export const loadGatewayConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(configSchema, e);
