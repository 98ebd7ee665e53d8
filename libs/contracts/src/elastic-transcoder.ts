// Elastic Transcoder job notification (the `Message` of an SNS notification), API version 2012-09-25.
export type EtState = 'PROGRESSING' | 'COMPLETED' | 'WARNING' | 'ERROR';

/** A job's playlist in its notification: the request's members, lowerCamelCase, and its status. */
export interface EtNotificationPlaylist {
  name: string;
  format: string;
  outputKeys: string[];
  status: string;
  statusDetail?: string;
}

/** What a finished output measures, as the engine reports it: its notifications and its job records. */
export interface EtOutputMeasures {
  /** Seconds, rounded. */
  duration?: number;
  durationMillis?: number;
  width?: number;
  height?: number;
  fileSize?: number;
}

export interface EtNotificationOutput extends EtOutputMeasures {
  id: string;
  presetId: string;
  key: string;
  status: 'Submitted' | 'Progressing' | 'Complete' | 'Warning' | 'Error' | 'Canceled';
  statusDetail?: string;
  errorCode?: number;
  thumbnailPattern?: string;
  [k: string]: unknown;
}

export interface EtNotification {
  state: EtState;
  version: string;
  jobId: string;
  pipelineId: string;
  input?: { key?: string; [k: string]: unknown };
  inputCount?: number;
  outputKeyPrefix?: string;
  outputs?: EtNotificationOutput[];
  playlists?: EtNotificationPlaylist[];
  userMetadata?: Record<string, string>;
  errorCode?: number;
  messageDetails?: string;
  /** Extension: 0..100 while PROGRESSING. */
  progress?: number;
}

/** The three presets the original system used. */
export const SeedPresets = {
  wav: '1351620000001-300300',
  flac: '1351620000001-300110',
  aacMp4: '1351620000001-100110',
} as const;

export const EtSubject = {
  PROGRESSING: (jobId: string) => `Amazon Elastic Transcoder has scheduled job ${jobId} for transcoding.`,
  COMPLETED: (jobId: string) => `Amazon Elastic Transcoder has finished transcoding job ${jobId}.`,
  ERROR: (jobId: string) => `The Amazon Elastic Transcoder job ${jobId} has failed.`,
  WARNING: (jobId: string) => `Amazon Elastic Transcoder has finished transcoding job ${jobId} with warnings.`,
} as const;

/** UserMetadata keys the dispatch worker sets on every job. */
export const MetadataKey = { mediaId: 'mediaId', userId: 'userId' } as const;
