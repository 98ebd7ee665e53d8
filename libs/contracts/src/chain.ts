import type { z } from 'zod';
import { EtDeliverJob, EtTranscodeJob, JobName, NotifyJob, TranscodeJob } from './jobs';
import { QueueName, queuePolicies, type QueuePolicy } from './queues';

// A media's whole path through the services, as data: every queue and every HTTP, SNS and socket hop, with who
// produces it, who consumes it, what it carries and where its code is. docs/architecture.md is rendered from it.

export const Service = {
  client: 'client',
  gateway: 'upload-gateway',
  dispatch: 'transcode-dispatch',
  transcoderApi: 'transcoder (API)',
  transcoderWorker: 'transcoder (worker)',
  snsIngest: 'sns-ingest',
  notifier: 'notifier',
  dropFolder: 'drop-folder',
  s3: 'S3',
  sns: 'SNS',
} as const;
export type Service = (typeof Service)[keyof typeof Service];

export interface QueueLink {
  via: 'queue';
  queue: QueueName;
  job: JobName;
  payload: z.ZodType;
  /** The payload's name in contracts (jobs.ts). */
  payloadName: string;
  producers: Service[];
  consumer: Service;
  /** Config settings that override the policy table for this queue's worker. */
  configured?: Partial<Record<'concurrency' | 'lockDuration' | 'stalledInterval', string>>;
  what: string;
  /** Where the job is added and where it is handled. */
  code: { produce: string[]; consume: string };
}

export interface HopLink {
  via: 'http' | 'sns' | 's3' | 'socket.io' | 'postgres';
  /** The request, topic or table: `POST /v1/media`, `ObjectCreated`, `media_tombstones`. */
  name: string;
  /** The message type in contracts (or the wire format) it carries. */
  message: string;
  producers: Service[];
  consumer: Service;
  what: string;
  code: { produce: string[]; consume: string };
}

export type ChainLink = QueueLink | HopLink;

const queue = (link: Omit<QueueLink, 'via'>): QueueLink => ({ via: 'queue', ...link });

/** In the order a media travels them. */
export const chain: readonly ChainLink[] = [
  {
    via: 'http',
    name: 'POST /v1/media',
    message: 'multipart upload',
    producers: [Service.client, Service.dropFolder],
    consumer: Service.gateway,
    what: 'an upload, streamed to S3 under `media/<user>/<media>/` while it is hashed and sniffed',
    code: {
      produce: ['services/drop-folder/src/drop-folder.ts'],
      consume: 'services/upload-gateway/src/routes/media.ts',
    },
  },
  {
    via: 's3',
    name: 'ObjectCreated (via SNS)',
    message: 'S3EventRecord',
    producers: [Service.s3],
    consumer: Service.snsIngest,
    what: 'an object put straight into S3 under `media/`: recorded as a media of its user',
    code: { produce: [], consume: 'services/sns-ingest/src/ingest.service.ts' },
  },
  queue({
    queue: QueueName.transcode,
    job: JobName.transcode,
    payload: TranscodeJob,
    payloadName: 'TranscodeJob',
    producers: [Service.gateway, Service.snsIngest],
    consumer: Service.dispatch,
    configured: { concurrency: 'CONCURRENCY' },
    what: 'a media to transcode: one engine job for audio and video, a resize here for images',
    code: {
      produce: [
        'libs/runtime/src/queue.ts (enqueueTranscode)',
        'services/upload-gateway/src/media.service.ts',
        'services/sns-ingest/src/ingest.service.ts',
      ],
      consume: 'services/transcode-dispatch/src/jobs/transcode.job.ts',
    },
  }),
  {
    via: 'http',
    name: 'POST /2012-09-25/jobs',
    message: 'Elastic Transcoder CreateJob (SigV4)',
    producers: [Service.dispatch],
    consumer: Service.transcoderApi,
    what: "the media's outputs as Elastic Transcoder presets, with the media id in UserMetadata",
    code: {
      produce: ['services/transcode-dispatch/src/engine.ts'],
      consume: 'services/transcoder/src/routes/jobs.routes.ts',
    },
  },
  queue({
    queue: QueueName.etTranscode,
    job: JobName.etTranscode,
    payload: EtTranscodeJob,
    payloadName: 'EtTranscodeJob',
    producers: [Service.transcoderApi, Service.transcoderWorker],
    consumer: Service.transcoderWorker,
    configured: { concurrency: 'WORKER_CONCURRENCY', lockDuration: 'ET_LEASE_MS', stalledInterval: 'ET_LEASE_MS' },
    what: 'an Elastic Transcoder job for ffmpeg (the worker sweep re-queues one whose entry was lost)',
    code: {
      produce: ['services/transcoder/src/queues.ts', 'services/transcoder/src/routes/jobs.routes.ts'],
      consume: 'services/transcoder/src/jobs/engine-job.job.ts',
    },
  }),
  queue({
    queue: QueueName.etDeliver,
    job: JobName.etDeliver,
    payload: EtDeliverJob,
    payloadName: 'EtDeliverJob',
    producers: [Service.transcoderWorker],
    consumer: Service.transcoderWorker,
    what: "one state change notification (Progressing, Completed, Error, Warning) to one of the pipeline's targets",
    code: { produce: ['services/transcoder/src/queues.ts'], consume: 'services/transcoder/src/jobs/deliver.job.ts' },
  }),
  {
    via: 'sns',
    name: 'POST /sns',
    message: 'SnsEnvelope with an Elastic Transcoder notification',
    producers: [Service.sns, Service.transcoderWorker],
    consumer: Service.snsIngest,
    what: 'a job state change: SNS Publish, or the engine POSTs the same signed envelope itself',
    code: {
      produce: ['services/transcoder/src/jobs/deliver.job.ts'],
      consume: 'services/sns-ingest/src/routes/sns.routes.ts',
    },
  },
  queue({
    queue: QueueName.notify,
    job: JobName.notify,
    payload: NotifyJob,
    payloadName: 'NotifyJob',
    producers: [Service.snsIngest, Service.dispatch],
    consumer: Service.notifier,
    what: "what happened to a media, written to the notify outbox in the state change's transaction, then queued",
    code: {
      produce: [
        'libs/db/src/notify-outbox.ts',
        'services/sns-ingest/src/ingest.service.ts',
        'services/transcode-dispatch/src/jobs/transcode.job.ts',
      ],
      consume: 'services/notifier/src/jobs/notify.job.ts',
    },
  }),
  {
    via: 'socket.io',
    name: 'notification, media:status',
    message: 'NotificationDto, MediaStatusEvent',
    producers: [Service.notifier],
    consumer: Service.client,
    what: "to the owner's sockets only, on whichever replica they are connected",
    code: { produce: ['services/notifier/src/user-events.ts'], consume: 'services/upload-gateway/public/app.js' },
  },
  {
    via: 'postgres',
    name: 'media_tombstones',
    message: 'a deleted media and its engine job',
    producers: [Service.gateway],
    consumer: Service.dispatch,
    what: 'a media deleted through the API: dispatch cancels its engine job and purges what the job still writes',
    code: {
      produce: ['services/upload-gateway/src/media.service.ts'],
      consume: 'services/transcode-dispatch/src/purge.ts',
    },
  },
];

export const queueLinks = (): QueueLink[] => chain.filter((l): l is QueueLink => l.via === 'queue');

const seconds = (ms: number) => `${ms / 1000} s`;
const duration = (s: number) => (s % 86400 === 0 ? `${s / 86400} d` : s % 3600 === 0 ? `${s / 3600} h` : `${s} s`);

function policyCells(p: QueuePolicy, configured: QueueLink['configured'] = {}): string[] {
  const backoff = `${p.backoff.type} ${seconds(p.backoff.delay)}${p.backoff.jitter ? `, jitter ${p.backoff.jitter}` : ''}`;
  const withSetting = (value: string, setting?: string) => (setting ? `${value} (\`${setting}\`)` : value);
  return [
    String(p.attempts),
    backoff,
    withSetting(String(p.concurrency), configured.concurrency),
    withSetting(
      `${seconds(p.lockDuration)}, ${p.maxStalledCount} stall${p.maxStalledCount === 1 ? '' : 's'}`,
      configured.lockDuration,
    ),
    p.priority === undefined ? 'FIFO' : String(p.priority),
    `${p.removeOnComplete.count} / ${duration(p.removeOnComplete.age)}; ${p.removeOnFail.count} / ${duration(p.removeOnFail.age)}`,
  ];
}

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

/** docs/architecture.md's chain tables, from `chain` and `queuePolicies`. */
export function renderChainMarkdown(): string {
  const hops = [
    row(['#', 'via', 'queue / request', 'carries', 'from', 'to', 'what']),
    row(['---', '---', '---', '---', '---', '---', '---']),
    ...chain.map((l, i) =>
      row([
        String(i + 1),
        l.via,
        l.via === 'queue' ? `\`${l.queue}\` (\`${l.job}\`)` : `\`${l.name}\``,
        l.via === 'queue' ? `\`${l.payloadName}\`` : l.message,
        l.producers.join(', '),
        l.consumer,
        l.what,
      ]),
    ),
  ];
  const policies = [
    row(['queue', 'attempts', 'backoff', 'concurrency', 'lock (time limit)', 'priority', 'kept: complete; failed']),
    row(['---', '---', '---', '---', '---', '---', '---']),
    ...queueLinks().map((l) => row([`\`${l.queue}\``, ...policyCells(queuePolicies[l.queue], l.configured)])),
  ];
  const code = [
    row(['#', 'produced in', 'consumed in']),
    row(['---', '---', '---']),
    ...chain.map((l, i) =>
      row([
        String(i + 1),
        l.code.produce.map((p) => `\`${p}\``).join(', ') || '(outside the project)',
        `\`${l.code.consume}\``,
      ]),
    ),
  ];
  return [hops.join('\n'), policies.join('\n'), code.join('\n')].join('\n\n') + '\n';
}
