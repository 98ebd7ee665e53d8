// The embedded S3 as a process bound to one address of this machine's (or a network namespace's) interfaces:
// S3RVER_ADDRESS, S3RVER_PORT, S3RVER_DIR. startEmbeddedS3 binds loopback, which another host cannot reach.
import { createRequire } from 'node:module';
import { startEmbeddedS3 } from './s3rver-server';

const address = process.env.S3RVER_ADDRESS;
if (!address) {
  console.error('config: S3RVER_ADDRESS is required: the address to listen on');
  process.exit(1);
}
const port = Number(process.env.S3RVER_PORT ?? 4569);

// The same module instance startEmbeddedS3 constructs (the require cache is shared): its listen address is taken
// from the options at run(), so it is set there, before the server listens.
type Run = (this: { serverOptions: { address: string } }, ...args: unknown[]) => Promise<unknown>;
const S3rver = createRequire(import.meta.url)('s3rver') as { prototype: { run: Run } };
const run = S3rver.prototype.run;
S3rver.prototype.run = function (this: { serverOptions: { address: string } }, ...args: unknown[]) {
  this.serverOptions.address = address;
  return run.apply(this, args);
};

const s3 = await startEmbeddedS3({ port, directory: process.env.S3RVER_DIR });
process.stdout.write(`${JSON.stringify({ endpoint: `http://${address}:${port}`, accessKeyId: s3.accessKeyId })}\n`);
const stop = () => void s3.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
