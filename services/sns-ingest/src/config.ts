import { common, env, loadConfig, s3, z } from '@mp/config';

export const configSchema = z.object({
  ...common,
  ...s3,
  PORT: env.port(3002),
  HOST: z.string().default('0.0.0.0'),
  /** Topics whose messages are accepted; anything else is refused with 403. */
  SNS_ALLOWED_TOPIC_ARNS: env.list('').refine((l) => l.length > 0, 'at least one topic ARN'),
  /**
   * Hosts (host or host:port) trusted for SigningCertURL and SubscribeURL besides
   * sns.<region>.amazonaws.com: LocalStack, or the transcoder's own SNS delivery.
   */
  SNS_ALLOWED_CERT_HOSTS: env.list(''),
  /** Refuse http:// certificate and subscribe URLs, even on the extra hosts. */
  SNS_REQUIRE_HTTPS: env.bool(true),
  SNS_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),
  /** Oldest message Timestamp accepted. */
  SNS_MAX_AGE_SECONDS: z.coerce.number().int().min(1).default(3600),
  SNS_CERT_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(3600),
  /** Time limit for fetching a certificate or confirming a subscription. */
  SNS_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  /** How often notify jobs left in the outbox (Redis was down) are queued again, and how old they must be. */
  OUTBOX_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  OUTBOX_MIN_AGE_MS: z.coerce.number().int().min(0).default(2000),
  /** Time a client has to send a request's headers, then its body; slower ones get 408. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(50).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(50).default(30_000),
});

export type SnsIngestConfig = z.infer<typeof configSchema>;

export const loadSnsIngestConfig = (e: NodeJS.ProcessEnv = process.env) => loadConfig(configSchema, e);
