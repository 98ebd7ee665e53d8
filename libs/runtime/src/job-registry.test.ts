import { randomBytes } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobName, QueueName, jobOptions, queuePolicies } from '@mp/contracts';
import { createLogger } from '@mp/logging';
import { checkHandlers, createWorker, type JobHandlers } from './job-registry';
import { producerConnection, workerConnection } from './queue';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `mpt-registry-${randomBytes(4).toString('hex')}`;
const logger = createLogger('job-registry-test', 'silent');
const producer = producerConnection(redisUrl);
let notify: Queue;

beforeAll(() => {
  notify = new Queue(QueueName.notify, { connection: producer, prefix });
});

afterAll(async () => {
  await notify.obliterate({ force: true }).catch(() => {});
  await notify.close();
  producer.disconnect();
});

const noop = async () => 'done';

describe('a worker refuses to start', () => {
  it('does not compile without exactly one handler per job name of its queue (checked by tsc)', () => {
    // @ts-expect-error media.notify has no handler
    const missing: JobHandlers<'notify'> = {};
    // @ts-expect-error media.transcode is not a job of the notify queue
    const unknown: JobHandlers<'notify'> = { [JobName.notify]: noop, [JobName.transcode]: noop };
    expect([missing, unknown]).toHaveLength(2);
  });

  it('without a handler for one of its queue’s job names', () => {
    const connection = workerConnection(redisUrl);
    try {
      expect(() =>
        createWorker({ queue: QueueName.notify, connection, prefix, logger, handlers: {} as JobHandlers<'notify'> }),
      ).toThrow('worker for queue notify: no handler for media.notify');
    } finally {
      connection.disconnect();
    }
  });

  it('with a handler for a job name its queue does not carry', () => {
    const handlers = { [JobName.notify]: noop, [JobName.transcode]: noop } as unknown as JobHandlers<'notify'>;
    const connection = workerConnection(redisUrl);
    try {
      expect(() => createWorker({ queue: QueueName.notify, connection, prefix, logger, handlers })).toThrow(
        'worker for queue notify: handlers for unknown jobs media.transcode',
      );
    } finally {
      connection.disconnect();
    }
  });

  it('checks every queue’s job names one for one', () => {
    expect(() => checkHandlers('et-transcode', { 'et.transcode': noop })).not.toThrow();
    expect(() => checkHandlers('et-deliver', { 'et.transcode': noop })).toThrow(
      'worker for queue et-deliver: no handler for et.deliver; handlers for unknown jobs et.transcode',
    );
  });
});

describe('a running worker', () => {
  it('fails a job of an unknown name at once, without a retry, and still runs its own jobs', async () => {
    const connection = workerConnection(redisUrl);
    const handled: string[] = [];
    const worker = createWorker({
      queue: QueueName.notify,
      connection,
      prefix,
      logger,
      handlers: {
        [JobName.notify]: async (job) => {
          handled.push(job.data.mediaId);
          return 'ok';
        },
      },
    });
    try {
      const failed = new Promise<Job>((resolve) => worker.on('failed', (job) => job && resolve(job)));
      // The policy allows 10 attempts: an ordinary failure would be retried.
      const stray = await notify.add(
        'media.unknown',
        { mediaId: 'x' },
        jobOptions(QueueName.notify, `stray-${prefix}`),
      );
      const mediaId = '00000000-0000-4000-8000-000000000001';
      const known = await notify.add(JobName.notify, { mediaId, kind: 'media.complete' }, jobOptions(QueueName.notify));

      const job = await failed;
      expect(job.id).toBe(stray.id);
      expect(job.failedReason).toBe('no handler for job media.unknown on queue notify');
      await expect.poll(() => notify.getJobState(stray.id!)).toBe('failed');
      expect((await notify.getJob(stray.id!))?.attemptsMade).toBe(1);
      await expect.poll(() => notify.getJobState(known.id!)).toBe('completed');
      expect(handled).toEqual([mediaId]);
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });

  it('takes its options from the queue’s policy, with a service’s configured values over them', async () => {
    const connection = workerConnection(redisUrl);
    const handlers = { [JobName.etTranscode]: noop };
    const fromPolicy = createWorker({ queue: QueueName.etTranscode, connection, prefix, logger, handlers });
    const configured = createWorker({
      queue: QueueName.etTranscode,
      connection,
      prefix,
      logger,
      handlers,
      overrides: { concurrency: 5, lockDuration: 45_000, stalledInterval: undefined },
    });
    try {
      const policy = queuePolicies['et-transcode'];
      expect(fromPolicy.opts).toMatchObject({
        concurrency: policy.concurrency,
        lockDuration: policy.lockDuration,
        stalledInterval: policy.stalledInterval,
        maxStalledCount: policy.maxStalledCount,
      });
      expect(configured.opts).toMatchObject({
        concurrency: 5,
        lockDuration: 45_000,
        stalledInterval: policy.stalledInterval,
      });
    } finally {
      await Promise.all([fromPolicy.close(), configured.close()]);
      connection.disconnect();
    }
  });
});
