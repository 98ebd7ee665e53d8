// docker compose's one-shot setup, after the migrations and once the S3 server and the transcoder API are
// healthy: the media bucket, the Elastic Transcoder pipeline and the first user. Safe to run again; it changes
// only what is missing.
import { exitOnConfigError } from '@mp/config';
import { createDb } from '@mp/db';
import { createLogger } from '@mp/logging';
import { ensureMediaBucket } from './bucket';
import { loadComposeInitConfig } from './config';
import { ensureFirstUser } from './first-user';
import { ensurePipeline } from './pipeline';

try {
  const config = loadComposeInitConfig();
  const log = createLogger('compose-init', config.LOG_LEVEL);

  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = config;
  if (AWS_ACCESS_KEY_ID && AWS_SECRET_ACCESS_KEY) {
    await ensureMediaBucket({ ...config, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY });
    log.info({ bucket: config.S3_BUCKET, endpoint: config.S3_ENDPOINT }, 'bucket ready');
  } else {
    log.info({ bucket: config.S3_BUCKET }, 'no S3 key pair (AWS_ACCESS_KEY_ID): the bucket is not made here');
  }

  const pipeline = await ensurePipeline(config);
  log.info(
    {
      pipelineId: pipeline.id,
      name: config.ET_PIPELINE_NAME,
      topicArn: config.ET_TOPIC_ARN,
      outcome: pipeline.outcome,
    },
    'pipeline ready',
  );

  const handle = createDb(config.DATABASE_URL, { max: 1 });
  try {
    const { user, created } = await ensureFirstUser(handle.db, config.INIT_DATA_DIR, config.FIRST_USER_NAME);
    log.info({ userId: user.id, name: user.name, created }, 'first user ready');
    // The token is printed on purpose: it is the development stack's way in (the page's sign-in field).
    process.stdout.write(`\nFirst user "${user.name}" (${user.id}) token: ${user.token}\n\n`);
  } finally {
    await handle.close();
  }
} catch (err) {
  exitOnConfigError(err);
}
