// The embedded S3 as a process: S3RVER_PORT, S3RVER_DIR (objects persist there).
import { startEmbeddedS3 } from './s3rver-server';

const port = Number(process.env.S3RVER_PORT ?? 4569);
const s3 = await startEmbeddedS3({ port, directory: process.env.S3RVER_DIR });
process.stdout.write(
  `${JSON.stringify({ endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey })}\n`,
);
const stop = () => void s3.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
