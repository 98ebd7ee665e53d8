import { z } from 'zod';
import { constraintViolation } from './errors';

// Request shapes of API version 2012-09-25 (botocore service-2.json), with the model's constraints.

const pattern = (re: RegExp) => z.string().regex(re, `Member must satisfy regular expression pattern: ${re.source}`);
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `Member must satisfy enum value set: [${values.join(', ')}]` });
const length = (min: number, max: number) =>
  z
    .string()
    .min(min, `Member must have length greater than or equal to ${min}`)
    .max(max, `Member must have length less than or equal to ${max}`);
const list = <T extends z.ZodType>(item: T, max: number) =>
  z.array(item).max(max, `Member must have length less than or equal to ${max}`);

/**
 * A key that names `..` as a whole path segment (`../x`, `a/../b`) climbs out of its folder wherever keys
 * become paths (a file-system S3, a relative URL). S3 itself allows it, so only whole segments are refused:
 * two dots inside a name (`a..b`, `..hidden`) are a name.
 */
export const hasDotDotSegment = (key: string) => key.split('/').includes('..');
const NO_DOT_DOT = "Member must not contain '..' as a path segment";
const objectKey = (min: number, max: number) => length(min, max).refine((k) => !hasDotDotSegment(k), NO_DOT_DOT);

export const Id = pattern(/^\d{13}-\w{6}$/);
const Bucket = pattern(/^(\w|\.|-){1,255}$/);
const Role = pattern(/^arn:aws:iam::\w{12}:role\/.+$/);
const SnsTopic = pattern(/(^$)|(^arn:aws:sns:.*:\w{12}:.+$)/);
const KeyArn = length(0, 255);

const base64 = pattern(/^$|(^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$)/);

const Encryption = z.object({
  Mode: pattern(/(^s3$)|(^s3-aws-kms$)|(^aes-cbc-pkcs7$)|(^aes-ctr$)|(^aes-gcm$)/).optional(),
  Key: pattern(/^$|(^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$)/).optional(),
  KeyMd5: pattern(/^$|(^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$)/).optional(),
  InitializationVector: length(0, 255).optional(),
});

export const Notifications = z.object({
  Progressing: SnsTopic.optional(),
  Completed: SnsTopic.optional(),
  Warning: SnsTopic.optional(),
  Error: SnsTopic.optional(),
});
export type PipelineNotifications = { Progressing: string; Completed: string; Warning: string; Error: string };

const Permission = z.object({
  GranteeType: oneOf(['Canonical', 'Email', 'Group']).optional(),
  Grantee: length(1, 255).optional(),
  Access: list(oneOf(['Read', 'ReadAcp', 'WriteAcp', 'FullControl']), 30).optional(),
});

export const OutputConfig = z.object({
  Bucket: Bucket.optional(),
  StorageClass: oneOf(['Standard', 'ReducedRedundancy']).optional(),
  Permissions: list(Permission, 30).optional(),
});
export type PipelineOutputConfig = z.infer<typeof OutputConfig>;

export const CreatePipelineRequest = z.object({
  Name: length(1, 40),
  InputBucket: Bucket,
  OutputBucket: Bucket.optional(),
  Role: Role,
  AwsKmsKeyArn: KeyArn.optional(),
  Notifications: Notifications.optional(),
  ContentConfig: OutputConfig.optional(),
  ThumbnailConfig: OutputConfig.optional(),
});
export type CreatePipelineRequest = z.infer<typeof CreatePipelineRequest>;

export const UpdatePipelineRequest = CreatePipelineRequest.omit({ OutputBucket: true }).partial();
export type UpdatePipelineRequest = z.infer<typeof UpdatePipelineRequest>;

export const UpdatePipelineNotificationsRequest = z.object({ Notifications: Notifications });
export const UpdatePipelineStatusRequest = z.object({ Status: oneOf(['Active', 'Paused']) });

export const TestRoleRequest = z.object({
  Role: Role,
  InputBucket: Bucket,
  OutputBucket: Bucket,
  Topics: list(SnsTopic, 30),
});

// Presets.
const digits = (min: number, max: number) => pattern(new RegExp(`^\\d{${min},${max}}$`));
const autoOr = (re: string) => pattern(new RegExp(`(^auto$)|(^${re}$)`));
const Sizing = oneOf(['Fit', 'Fill', 'Stretch', 'Keep', 'ShrinkToFit', 'ShrinkToFill']);
const Padding = oneOf(['Pad', 'NoPad']);

export const AudioParameters = z.object({
  Codec: oneOf(['AAC', 'vorbis', 'mp3', 'mp2', 'pcm', 'flac']).optional(),
  SampleRate: oneOf(['auto', '22050', '32000', '44100', '48000', '96000', '192000']).optional(),
  BitRate: digits(1, 3).optional(),
  Channels: oneOf(['auto', '0', '1', '2']).optional(),
  AudioPackingMode: oneOf(['SingleTrack', 'OneChannelPerTrack', 'OneChannelPerTrackWithMosTo8Tracks']).optional(),
  CodecOptions: z
    .object({
      Profile: oneOf(['auto', 'AAC-LC', 'HE-AAC', 'HE-AACv2']).optional(),
      BitDepth: oneOf(['8', '16', '24', '32']).optional(),
      BitOrder: oneOf(['LittleEndian']).optional(),
      Signed: oneOf(['Unsigned', 'Signed']).optional(),
    })
    .optional(),
});

const PresetWatermark = z.object({
  Id: length(1, 40).optional(),
  MaxWidth: pattern(/^\d{1,3}(\.\d{0,5})?%$|^\d{2,4}?$/).optional(),
  MaxHeight: pattern(/^\d{1,3}(\.\d{0,5})?%$|^\d{2,4}?$/).optional(),
  SizingPolicy: oneOf(['Fit', 'Stretch', 'ShrinkToFit']).optional(),
  HorizontalAlign: oneOf(['Left', 'Right', 'Center']).optional(),
  HorizontalOffset: pattern(/^\d{1,3}(\.\d{0,5})?%$|^\d{1,4}?$/).optional(),
  VerticalAlign: oneOf(['Top', 'Bottom', 'Center']).optional(),
  VerticalOffset: pattern(/^\d{1,3}(\.\d{0,5})?%$|^\d{1,4}?$/).optional(),
  Opacity: pattern(/^\d{1,3}(\.\d{0,20})?$/).optional(),
  Target: oneOf(['Content', 'Frame']).optional(),
});

export const VideoParameters = z.object({
  Codec: oneOf(['H.264', 'vp8', 'vp9', 'mpeg2', 'gif']).optional(),
  CodecOptions: z
    .record(length(1, 255), length(0, 255))
    .refine((m) => Object.keys(m).length <= 30, 'Member must have length less than or equal to 30')
    .optional(),
  KeyframesMaxDist: digits(1, 6).optional(),
  FixedGOP: oneOf(['true', 'false']).optional(),
  BitRate: autoOr('\\d{2,5}').optional(),
  FrameRate: oneOf(['auto', '10', '15', '23.97', '24', '25', '29.97', '30', '50', '60']).optional(),
  MaxFrameRate: oneOf(['10', '15', '23.97', '24', '25', '29.97', '30', '50', '60']).optional(),
  Resolution: autoOr('\\d{1,5}x\\d{1,5}').optional(),
  AspectRatio: oneOf(['auto', '1:1', '4:3', '3:2', '16:9']).optional(),
  MaxWidth: autoOr('\\d{2,4}').optional(),
  MaxHeight: autoOr('\\d{2,4}').optional(),
  DisplayAspectRatio: oneOf(['auto', '1:1', '4:3', '3:2', '16:9']).optional(),
  SizingPolicy: Sizing.optional(),
  PaddingPolicy: Padding.optional(),
  Watermarks: list(PresetWatermark, 4).optional(),
});

export const Thumbnails = z.object({
  Format: oneOf(['jpg', 'png']).optional(),
  Interval: digits(1, 5).optional(),
  Resolution: pattern(/^\d{1,5}x\d{1,5}$/).optional(),
  AspectRatio: oneOf(['auto', '1:1', '4:3', '3:2', '16:9']).optional(),
  MaxWidth: autoOr('\\d{2,4}').optional(),
  MaxHeight: autoOr('\\d{2,4}').optional(),
  SizingPolicy: Sizing.optional(),
  PaddingPolicy: Padding.optional(),
});

export const PresetContainers = [
  'mp4',
  'ts',
  'webm',
  'mp3',
  'flac',
  'oga',
  'ogg',
  'fmp4',
  'mpg',
  'flv',
  'gif',
  'mxf',
  'wav',
  'mp2',
] as const;

export const CreatePresetRequest = z.object({
  Name: length(1, 40),
  Description: length(0, 255).optional(),
  Container: oneOf(PresetContainers),
  Video: VideoParameters.optional(),
  Audio: AudioParameters.optional(),
  Thumbnails: Thumbnails.optional(),
});
export type CreatePresetRequest = z.infer<typeof CreatePresetRequest>;

// Jobs.
const TimeSpan = z.object({
  StartTime: pattern(
    /(^\d{1,5}(\.\d{0,3})?$)|(^([0-1]?[0-9]:|2[0-3]:)?([0-5]?[0-9]:)?[0-5]?[0-9](\.\d{0,3})?$)/,
  ).optional(),
  Duration: pattern(
    /(^\d{1,5}(\.\d{0,3})?$)|(^([0-1]?[0-9]:|2[0-3]:)?([0-5]?[0-9]:)?[0-5]?[0-9](\.\d{0,3})?$)/,
  ).optional(),
});

export const JobInput = z.object({
  Key: objectKey(1, 1024),
  FrameRate: pattern(/(^auto$)|(^10$)|(^15$)|(^23.97$)|(^24$)|(^25$)|(^29.97$)|(^30$)|(^50$)|(^60$)/).optional(),
  Resolution: autoOr('\\d{1,5}x\\d{1,5}').optional(),
  AspectRatio: oneOf(['auto', '1:1', '4:3', '3:2', '16:9']).optional(),
  Interlaced: oneOf(['auto', 'true', 'false']).optional(),
  Container: oneOf([
    'auto',
    '3gp',
    'aac',
    'asf',
    'avi',
    'divx',
    'flv',
    'm4a',
    'mkv',
    'mov',
    'mp3',
    'mp4',
    'mpeg',
    'mpeg-ps',
    'mpeg-ts',
    'mxf',
    'ogg',
    'vob',
    'wav',
    'webm',
  ]).optional(),
  Encryption: Encryption.optional(),
  TimeSpan: TimeSpan.optional(),
  InputCaptions: z.record(z.string(), z.unknown()).optional(),
});
export type JobInputSpec = z.infer<typeof JobInput>;

export const CreateJobOutput = z.object({
  Key: objectKey(1, 255),
  ThumbnailPattern: pattern(/(^$)|(^.*\{count\}.*$)/)
    .refine((k) => !hasDotDotSegment(k), NO_DOT_DOT)
    .optional(),
  ThumbnailEncryption: Encryption.optional(),
  Rotate: oneOf(['auto', '0', '90', '180', '270']).optional(),
  PresetId: Id,
  SegmentDuration: pattern(/^\d{1,5}(\.\d{0,5})?$/).optional(),
  Watermarks: list(
    z.object({
      PresetWatermarkId: length(1, 40).optional(),
      InputKey: objectKey(1, 1024).optional(),
      Encryption: Encryption.optional(),
    }),
    4,
  ).optional(),
  AlbumArt: z.record(z.string(), z.unknown()).optional(),
  Composition: z.array(z.unknown()).optional(),
  Captions: z.record(z.string(), z.unknown()).optional(),
  Encryption: Encryption.optional(),
});
export type CreateJobOutputSpec = z.infer<typeof CreateJobOutput>;

export const PlaylistFormats = ['HLSv3', 'HLSv4', 'Smooth', 'MPEG-DASH'] as const;

export const CreateJobPlaylist = z.object({
  Name: objectKey(1, 255),
  Format: oneOf(PlaylistFormats),
  OutputKeys: list(length(1, 255), 30),
  HlsContentProtection: z
    .object({
      Method: pattern(/(^aes-128$)/).optional(),
      Key: base64.optional(),
      KeyMd5: base64.optional(),
      InitializationVector: length(0, 255).optional(),
      LicenseAcquisitionUrl: length(0, 512).optional(),
      KeyStoragePolicy: pattern(/(^NoStore$)|(^WithVariantPlaylists$)/).optional(),
    })
    .optional(),
  PlayReadyDrm: z.record(z.string(), z.unknown()).optional(),
});
export type HlsContentProtectionSpec = NonNullable<z.infer<typeof CreateJobPlaylist>['HlsContentProtection']>;
export type CreateJobPlaylistSpec = z.infer<typeof CreateJobPlaylist>;

export const CreateJobRequest = z
  .object({
    PipelineId: Id,
    Input: JobInput.optional(),
    Inputs: list(JobInput, 200).optional(),
    Output: CreateJobOutput.optional(),
    Outputs: list(CreateJobOutput, 30).optional(),
    OutputKeyPrefix: objectKey(1, 255).optional(),
    Playlists: list(CreateJobPlaylist, 30).optional(),
    // Up to 10 pairs of at most 256 characters each (job-settings.md, "User Metadata").
    UserMetadata: z
      .record(
        length(1, 256),
        z
          .string({ error: 'Member must be of type string' })
          .max(256, 'Member must have length less than or equal to 256'),
      )
      .refine((m) => Object.keys(m).length <= 10, 'Member must have length less than or equal to 10')
      .optional(),
  })
  .superRefine(noDotDotAfterPrefix);
export type CreateJobRequest = z.infer<typeof CreateJobRequest>;

/** Each member may be clean and their join not: OutputKeyPrefix `a/.` and Key `./b` make `a/../b`. */
function noDotDotAfterPrefix(req: CreateJobRequest, ctx: z.RefinementCtx): void {
  const prefix = req.OutputKeyPrefix;
  if (!prefix) return;
  const check = (value: string | undefined, path: PropertyKey[], member: string) => {
    if (value === undefined || !hasDotDotSegment(`${prefix}${value}`)) return;
    ctx.addIssue({
      code: 'custom',
      path,
      input: value,
      message: `OutputKeyPrefix + ${member} must not contain '..' as a path segment`,
    });
  };
  const outputs: Array<[CreateJobOutputSpec, PropertyKey[]]> = [
    ...(req.Output ? [[req.Output, ['Output']] as [CreateJobOutputSpec, PropertyKey[]]] : []),
    ...(req.Outputs ?? []).map((o, i): [CreateJobOutputSpec, PropertyKey[]] => [o, ['Outputs', i]]),
  ];
  for (const [o, at] of outputs) {
    check(o.Key, [...at, 'Key'], 'Key');
    check(o.ThumbnailPattern, [...at, 'ThumbnailPattern'], 'ThumbnailPattern');
  }
  req.Playlists?.forEach((p, n) => check(p.Name, ['Playlists', n, 'Name'], 'Name'));
}

export const JobStatus = oneOf(['Submitted', 'Progressing', 'Complete', 'Canceled', 'Error']);

/** Parses a request member by member; the first violation becomes the service's ValidationException. */
export function parseRequest<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw constraintViolation(memberPath(issue.path), issue.input, constraintOf(issue));
}

/** AWS's member path: lowerCamel names, 1-based list positions as `N.member`. */
export function memberPath(path: readonly PropertyKey[]): string {
  const parts: string[] = [];
  for (const segment of path) {
    if (typeof segment === 'number') parts.push(`${segment + 1}.member`);
    else {
      const name = String(segment);
      parts.push(name.charAt(0).toLowerCase() + name.slice(1));
    }
  }
  return parts.join('.') || 'body';
}

function constraintOf(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'custom' && (issue.input === undefined || issue.input === null)) return 'Member must not be null';
  if (issue.code === 'invalid_type') return `Member must be of type ${issue.expected}`;
  if (issue.code === 'unrecognized_keys') return `Unknown member ${issue.keys.join(', ')}`;
  return issue.message;
}
