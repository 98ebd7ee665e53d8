// The embedded S3 in a process of its own, so that benchmarks do not share its event loop.
import { startEmbeddedS3 } from '@mp/testbed/s3';

const s3 = await startEmbeddedS3();
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey })}\n`);
const stop = () => void s3.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
