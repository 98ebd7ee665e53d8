import type { EtNotification, EtNotificationOutput, EtNotificationPlaylist, EtState } from '@mp/contracts';
import type { JobPlaylist } from '../db/schema';
import { EtSubject } from '@mp/contracts';
import type { JobRecord, OutputRow } from '../et/wire';

// The job notification as the service published it (notifications.md): lowerCamelCase copies of the job
// settings, per-output status, and a Jackson-style pretty-printed body.

export const API_VERSION = '2012-09-25';

export function jobNotification(state: EtState, job: JobRecord, extra: { progress?: number } = {}): EtNotification {
  const message: EtNotification = {
    state,
    version: API_VERSION,
    jobId: job.id,
    pipelineId: job.pipelineId,
    input: lowerCamel(job.input) as EtNotification['input'],
    inputCount: 1,
    ...(job.outputKeyPrefix ? { outputKeyPrefix: job.outputKeyPrefix } : {}),
    outputs: job.outputs.map((o) => outputEntry(state, o)),
    playlists: job.playlists.map((p) => playlistEntry(state, p)),
    ...(job.userMetadata && Object.keys(job.userMetadata).length > 0 ? { userMetadata: job.userMetadata } : {}),
  };
  if (state === 'ERROR' && job.errorCode !== null) {
    message.errorCode = job.errorCode;
    message.messageDetails = job.errorDetail ?? '';
  }
  if (extra.progress !== undefined) message.progress = extra.progress;
  return reorder(message);
}

function playlistEntry(state: EtState, p: JobPlaylist): EtNotificationPlaylist {
  const status = state === 'PROGRESSING' ? 'Progressing' : p.Status;
  return {
    name: p.Name,
    format: p.Format,
    outputKeys: p.OutputKeys,
    status,
    ...(status === 'Error' && p.StatusDetail ? { statusDetail: p.StatusDetail } : {}),
  };
}

function outputEntry(state: EtState, o: OutputRow): EtNotificationOutput {
  const status =
    state === 'PROGRESSING'
      ? 'Progressing'
      : o.status === 'Complete'
        ? 'Complete'
        : o.status === 'Error'
          ? 'Error'
          : o.status;
  const entry: EtNotificationOutput = {
    id: o.outputId,
    presetId: o.presetId,
    key: o.key,
    ...(lowerCamel(o.spec) as object),
    // A number in the service's messages ("segmentDuration" : 10.0), a string in the request.
    ...(o.spec.SegmentDuration !== undefined ? { segmentDuration: Number(o.spec.SegmentDuration) } : {}),
    status,
  };
  if (status === 'Error') {
    if (o.statusDetail) entry.statusDetail = o.statusDetail;
    if (o.errorCode !== null) entry.errorCode = o.errorCode;
  }
  if (status === 'Complete') {
    if (o.statusDetail) entry.statusDetail = o.statusDetail;
    if (o.duration !== null) entry.duration = o.duration;
    if (o.width !== null) entry.width = o.width;
    if (o.height !== null) entry.height = o.height;
    // Extension: the service's messages carried no size; subscribers that record outputs need it.
    if (o.fileSize !== null) entry.fileSize = o.fileSize;
    if (o.durationMillis !== null) entry.durationMillis = o.durationMillis;
  }
  return entry;
}

// Key order of the real messages: state, errorCode, messageDetails, version, jobId, …
const ORDER = [
  'state',
  'errorCode',
  'messageDetails',
  'version',
  'jobId',
  'pipelineId',
  'input',
  'inputCount',
  'outputKeyPrefix',
  'outputs',
  'playlists',
  'userMetadata',
  'progress',
];

function reorder(m: EtNotification): EtNotification {
  const out: Record<string, unknown> = {};
  for (const k of ORDER) if (k in m) out[k] = (m as unknown as Record<string, unknown>)[k];
  return out as unknown as EtNotification;
}

export function subjectFor(state: EtState, jobId: string): string {
  return EtSubject[state](jobId);
}

/** Job settings as the message spells them: the same members, first letter lower-cased, recursively. */
export function lowerCamel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerCamel);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k.charAt(0).toLowerCase() + k.slice(1), lowerCamel(v)]),
    );
  }
  return value;
}

/** Jackson's default pretty printer: 2-space objects, `" : "` separators, arrays inline as `[ a, b ]`. */
export function jacksonPretty(value: unknown, depth = 0): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    return `[ ${value.map((v) => jacksonPretty(v, depth)).join(', ')} ]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{ }';
  const pad = '  '.repeat(depth + 1);
  const body = entries.map(([k, v]) => `${pad}${JSON.stringify(k)} : ${jacksonPretty(v, depth + 1)}`).join(',\n');
  return `{\n${body}\n${'  '.repeat(depth)}}`;
}
