import os from 'node:os';
import path from 'node:path';
import { common, env, et, loadConfig, s3, z } from '@mp/config';

const { S3_BUCKET: _bucket, ...s3Fields } = s3;

const credentialPairs = z
  .string()
  .min(1)
  .transform((value, ctx) => {
    const pairs = new Map<string, string>();
    for (const item of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const at = item.indexOf(':');
      const id = item.slice(0, at);
      const secret = item.slice(at + 1);
      if (at <= 0 || !/^[A-Za-z0-9]{1,128}$/.test(id) || secret.length < 1) {
        ctx.addIssue({ code: 'custom', message: 'AKID:SECRET[,AKID2:SECRET2]' });
        return z.NEVER;
      }
      pairs.set(id, secret);
    }
    if (pairs.size === 0) ctx.addIssue({ code: 'custom', message: 'at least one AKID:SECRET pair' });
    return pairs;
  });

const topicArn = z.string().regex(/^arn:aws:sns:[^:]+:\d{12}:.+$/, 'an SNS topic ARN');

const subscriptions = z
  .string()
  .default('{}')
  .transform((value, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'JSON: { "<topicArn>": ["http://host/path"] }' });
      return z.NEVER;
    }
  })
  .pipe(z.record(topicArn, z.array(z.url({ protocol: /^https?$/ })).min(1)));

const pem = (label: string) => z.string().includes(`-----BEGIN ${label}`, { message: `a PEM ${label}` });

export const configSchema = z
  .object({
    ...common,
    ...s3Fields,
    PORT: env.port(3003),
    HOST: z.string().default('0.0.0.0'),
    /** Key pairs that may sign requests: AKID:SECRET[,AKID2:SECRET2]. */
    ET_CREDENTIALS: credentialPairs,
    ...et,
    /** Jobs of one pipeline transcoding at once, across all workers. */
    PIPELINE_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(2),
    /** Jobs one worker process runs at once. */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    /** How long a worker's claim on a job lasts without a heartbeat; a killed worker's job is picked up after it. */
    ET_LEASE_MS: z.coerce.number().int().min(1000).default(30_000),
    /** Smallest gap between two progress updates of one job. */
    ET_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(100).default(2000),
    /** How often a worker re-queues jobs and deliveries that lost their queue entry. */
    ET_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
    ET_TMP_DIR: z.string().default(path.join(os.tmpdir(), 'transcoder')),
    FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
    FFPROBE_PATH: z.string().min(1).default('ffprobe'),
    /**
     * Runs ffmpeg and ffprobe in a bubblewrap sandbox that sees only the job's scratch directory: 'auto' when
     * bwrap works here, 'bwrap' always (the worker refuses to start without it), 'off' never.
     */
    FFMPEG_SANDBOX: z.enum(['auto', 'bwrap', 'off']).default('auto'),
    BWRAP_PATH: z.string().min(1).default('bwrap'),
    /**
     * Audio jobs of several outputs from inputs at least this long decode once and run their encoders side by
     * side, one process each (on machines of 2+ cores); 'off' keeps one ffmpeg per job.
     */
    ET_FAN_OUT_MIN_SECONDS: z.union([z.literal('off'), z.coerce.number().min(0)]).default(15),
    /** Base URL this server is reached at by subscribers: SigningCertURL, SubscribeURL, UnsubscribeURL. */
    ET_PUBLIC_URL: z.url().optional(),
    /** SNS endpoint (AWS or LocalStack) to Publish notifications to; unset = no SNS publishing. */
    SNS_ENDPOINT: z.url().optional(),
    SNS_REGION: z.string().optional(),
    /** Direct HTTP delivery, SNS-style: { "<topicArn>": ["http://host/sns"] }. */
    ET_DELIVERY_SUBSCRIPTIONS: subscriptions,
    ET_SIGNING_KEY_PEM: pem('PRIVATE KEY').optional(),
    ET_SIGNING_CERT_PEM: pem('CERTIFICATE').optional(),
    /** Time a client has to send a request's headers, then its body; slower ones get 408. */
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(50).default(10_000),
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(50).default(30_000),
  })
  .refine((c) => Boolean(c.ET_SIGNING_KEY_PEM) === Boolean(c.ET_SIGNING_CERT_PEM), {
    path: ['ET_SIGNING_CERT_PEM'],
    message: 'ET_SIGNING_KEY_PEM and ET_SIGNING_CERT_PEM go together',
  })
  .transform((c) => ({
    ...c,
    ET_PUBLIC_URL: (c.ET_PUBLIC_URL ?? `http://127.0.0.1:${c.PORT}`).replace(/\/+$/, ''),
    SNS_REGION: c.SNS_REGION ?? c.ET_REGION,
  }));

export type TranscoderConfig = z.infer<typeof configSchema>;

export const loadTranscoderConfig = (e: NodeJS.ProcessEnv = process.env): TranscoderConfig =>
  loadConfig(configSchema as unknown as z.ZodObject, e) as TranscoderConfig;
