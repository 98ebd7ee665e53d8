import { z } from 'zod';
import { EtDeliverJob, EtTranscodeJob, JobName, NotifyJob, TranscodeJob } from './jobs';
import { QueueName, queuePolicies, type QueuePolicy } from './queues';
import chainTable from './chain.json' with { type: 'json' };

// A media's whole path through the services, as data (chain.json): every queue and every HTTP, SNS and socket
// hop, with who produces it, who consumes it, what it carries and where its code is. docs/architecture.md is
// rendered from it.

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

const PAYLOADS = { TranscodeJob, NotifyJob, EtTranscodeJob, EtDeliverJob };

const values = <T extends Record<string, string>>(o: T) => Object.values(o) as [T[keyof T], ...T[keyof T][]];
const common = {
  producers: z.array(z.enum(values(Service))).min(1),
  consumer: z.enum(values(Service)),
  what: z.string().min(1),
  code: z.object({ produce: z.array(z.string()), consume: z.string() }),
};
const Link = z.discriminatedUnion('via', [
  z.strictObject({
    via: z.literal('queue'),
    queue: z.enum(values(QueueName)),
    job: z.enum(values(JobName)),
    payloadName: z.enum(Object.keys(PAYLOADS) as [keyof typeof PAYLOADS]),
    configured: z.partialRecord(z.enum(['concurrency', 'lockDuration', 'stalledInterval']), z.string()).optional(),
    ...common,
  }),
  z.strictObject({
    via: z.enum(['http', 'sns', 's3', 'socket.io', 'postgres']),
    name: z.string().min(1),
    message: z.string().min(1),
    ...common,
  }),
]);

/** In the order a media travels them: chain.json, checked as it loads, each queue with its payload schema. */
export const chain: readonly ChainLink[] = z
  .array(Link)
  .parse(chainTable)
  .map((l) => (l.via === 'queue' ? { ...l, payload: PAYLOADS[l.payloadName] } : l));

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
