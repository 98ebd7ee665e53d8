// npm start: the whole system on this machine. Ctrl-C stops it cleanly.
import path from 'node:path';
import { loadConfig, z } from '@mp/config';
import { repoRoot, startStack } from './stack';

const cfg = loadConfig(
  z.object({
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .default('postgres://postgres@127.0.0.1:5432/postgres'),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// URL')
      .default('redis://127.0.0.1:6379'),
    STACK_DATA_DIR: z.string().default(path.join(repoRoot, '.data')),
    STACK_BASE_PORT: z.coerce.number().int().min(1024).max(65000).default(3000),
    QUEUE_PREFIX: z.string().default('mp'),
    S3_BUCKET: z.string().default('media'),
    LOG_LEVEL: z.string().default('info'),
  }),
);

const stack = await startStack({
  dataDir: cfg.STACK_DATA_DIR,
  databaseUrl: cfg.DATABASE_URL,
  redisUrl: cfg.REDIS_URL,
  basePort: cfg.STACK_BASE_PORT,
  queuePrefix: cfg.QUEUE_PREFIX,
  bucket: cfg.S3_BUCKET,
  logLevel: cfg.LOG_LEVEL,
  stdio: 'inherit',
});

const lines = [
  '',
  'Media pipeline is running.',
  `  web page and API   ${stack.urls.gateway}/   (OpenAPI: ${stack.urls.gateway}/docs)`,
  `  notifier           ${stack.urls.notifier}`,
  `  sns-ingest         ${stack.urls.snsIngest}/sns`,
  `  transcoder (ET)    ${stack.urls.transcoder}`,
  `  dispatch health    ${stack.urls.dispatch}/healthz`,
  `  S3 (s3rver)        ${stack.urls.s3}   bucket ${cfg.S3_BUCKET}, data in ${cfg.STACK_DATA_DIR}`,
  `                     signed requests only (SigV4 or presigned URL), key pair ${stack.env.AWS_ACCESS_KEY_ID}/${stack.env.AWS_SECRET_ACCESS_KEY}`,
  '',
  `  user "${stack.user.name}" token: ${stack.user.token}`,
  `  admin token (POST /v1/users): ${stack.adminToken}`,
  '',
  'Ctrl-C stops everything.',
  '',
];
process.stdout.write(lines.join('\n'));

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  void stack.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
