import type { EtPreset } from '../engine/types';
import type { jobOutputs, jobs, pipelines, presets } from '../db/schema';
import { arn, type ArnScope } from './ids';

// Rows → the JSON members of API 2012-09-25. Numbers stay JSON numbers; absent (null) members are left out.

export type PipelineRow = typeof pipelines.$inferSelect;
export type PresetRow = typeof presets.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type OutputRow = typeof jobOutputs.$inferSelect;
export interface JobRecord extends JobRow {
  outputs: OutputRow[];
}

export function pipelineToWire(p: PipelineRow, scope: ArnScope) {
  return compact({
    Id: p.id,
    Arn: arn(scope, 'pipeline', p.id),
    Name: p.name,
    Status: p.status,
    InputBucket: p.inputBucket,
    OutputBucket: p.outputBucket,
    Role: p.role,
    AwsKmsKeyArn: p.awsKmsKeyArn,
    Notifications: p.notifications,
    ContentConfig: { Permissions: [], ...p.contentConfig },
    ThumbnailConfig: { Permissions: [], ...p.thumbnailConfig },
  });
}

export function customPresetToWire(p: PresetRow, scope: ArnScope): EtPreset {
  return compact({
    Id: p.id,
    Arn: arn(scope, 'preset', p.id),
    Name: p.name,
    Description: p.description,
    Container: p.container,
    Audio: p.audio,
    Video: p.video,
    Thumbnails: p.thumbnails,
    Type: 'Custom',
  });
}

export function outputToWire(o: OutputRow) {
  return compact({
    Id: o.outputId,
    ...o.spec,
    Status: o.status,
    StatusDetail: o.statusDetail,
    Duration: o.duration,
    Width: o.width,
    Height: o.height,
    FrameRate: o.frameRate,
    FileSize: o.fileSize,
    DurationMillis: o.durationMillis,
  });
}

export function jobToWire(j: JobRecord, scope: ArnScope) {
  const input = compact({ ...j.input, DetectedProperties: j.detected });
  const outputs = j.outputs.map(outputToWire);
  return compact({
    Id: j.id,
    Arn: arn(scope, 'job', j.id),
    PipelineId: j.pipelineId,
    Input: input,
    Inputs: [input],
    Output: outputs[0],
    Outputs: outputs,
    OutputKeyPrefix: j.outputKeyPrefix,
    Playlists: j.playlists.map(({ KeyGenerated: _generated, ...p }) =>
      compact({ ...p, Status: playlistStatus(j.status, p.Status) }),
    ),
    Status: j.status,
    UserMetadata: j.userMetadata,
    Timing: compact({
      SubmitTimeMillis: j.submitTimeMillis,
      StartTimeMillis: j.startTimeMillis,
      FinishTimeMillis: j.finishTimeMillis,
    }),
    // Extension: how far a Progressing job has got, 0-100 (README).
    progress: j.status === 'Progressing' ? (j.progress ?? 0) : j.status === 'Complete' ? 100 : undefined,
  });
}

/** A playlist is written at the job's end: until then it has the job's status. */
function playlistStatus(job: JobRow['status'], playlist: JobRow['status']): JobRow['status'] {
  return playlist === 'Submitted' && (job === 'Progressing' || job === 'Canceled') ? job : playlist;
}

/** Drops members whose value is null or undefined: on the wire they are absent, never null. */
export function compact<T extends object>(obj: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };
}
