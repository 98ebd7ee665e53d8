// S3 event notification, as S3 sends it to SNS, SQS or Lambda.
export interface S3EventRecord {
  eventVersion?: string;
  eventSource?: string;
  eventName: string;
  eventTime?: string;
  awsRegion?: string;
  s3: {
    s3SchemaVersion?: string;
    bucket: { name: string; arn?: string };
    /** URL-encoded, with `+` for spaces. */
    object: { key: string; size?: number; eTag?: string; sequencer?: string };
  };
}

export interface S3Event {
  Records?: S3EventRecord[];
  /** `s3:TestEvent` messages carry Event instead of Records. */
  Event?: string;
}

/** Decodes an S3 event key: URL-encoded with `+` for spaces. */
export function decodeS3EventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}
