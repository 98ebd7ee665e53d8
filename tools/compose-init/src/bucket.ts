import { createS3Client, ensureBucket, s3SettingsFromConfig } from '@mp/storage';
import type { ComposeInitConfig } from './config';

type BucketSettings = Pick<ComposeInitConfig, 'S3_ENDPOINT' | 'S3_REGION' | 'S3_FORCE_PATH_STYLE' | 'S3_BUCKET'> & {
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
};

/**
 * The media bucket (uploads under media/, outputs under transcoded/), before the pipeline that names it:
 * the S3 server starts empty. Made once; an existing bucket, the server's own or one LocalStack's init hook
 * made, is left as it is.
 */
export async function ensureMediaBucket(c: BucketSettings): Promise<void> {
  const s3 = createS3Client(s3SettingsFromConfig(c));
  try {
    await ensureBucket(s3, c.S3_BUCKET);
  } finally {
    s3.destroy();
  }
}
