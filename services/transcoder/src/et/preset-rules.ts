import { validationError } from './errors';
import type { CreatePresetRequest } from './shapes';

// The service's cross-member rules for CreatePreset (preset-settings.md: container ↔ codec table and the
// settings each codec needs). Member formats are checked by the request schema before this runs.

interface ContainerRule {
  audio: readonly string[];
  video: readonly string[];
}

const CONTAINERS: Record<CreatePresetRequest['Container'], ContainerRule> = {
  flac: { audio: ['flac'], video: [] },
  flv: { audio: ['AAC', 'mp3'], video: ['H.264'] },
  fmp4: { audio: ['AAC'], video: ['H.264'] },
  gif: { audio: [], video: ['gif'] },
  mp2: { audio: ['mp2'], video: [] },
  mp3: { audio: ['mp3'], video: [] },
  mp4: { audio: ['AAC', 'mp3'], video: ['H.264'] },
  mpg: { audio: ['mp2'], video: ['mpeg2'] },
  mxf: { audio: ['pcm'], video: ['mpeg2'] },
  oga: { audio: ['flac', 'vorbis'], video: [] },
  ogg: { audio: ['flac', 'vorbis'], video: [] },
  ts: { audio: ['AAC', 'mp3'], video: ['H.264'] },
  wav: { audio: ['pcm'], video: [] },
  webm: { audio: ['vorbis'], video: ['vp8', 'vp9'] },
};

const BIT_DEPTHS: Record<string, readonly string[]> = { pcm: ['8', '16', '24', '32'], flac: ['16', '24'] };
const H264_PROFILES = ['baseline', 'main', 'high', 'high10', 'high422', 'high444'];
const H264_LEVELS = ['1', '1b', '1.1', '1.2', '1.3', '2', '2.1', '2.2', '3', '3.1', '3.2', '4', '4.1'];

/** Throws the ValidationException the service answers for a preset whose members contradict each other. */
export function checkPresetRules(p: CreatePresetRequest): void {
  const rule = CONTAINERS[p.Container];
  if (!p.Audio && !p.Video) throw validationError('[A preset must have Audio settings, Video settings, or both.]');
  if (p.Audio) checkAudio(p.Container, rule, p.Audio);
  if (p.Video) checkVideo(p.Container, rule, p.Video);
  if (p.Thumbnails) checkThumbnails(p.Thumbnails);
}

function checkAudio(container: string, rule: ContainerRule, a: NonNullable<CreatePresetRequest['Audio']>): void {
  if (rule.audio.length === 0)
    throw validationError(`[Container ${container} does not support audio; remove the Audio settings.]`);
  if (!a.Codec) throw validationError('[Audio:Codec is required.]');
  if (!rule.audio.includes(a.Codec)) {
    throw validationError(
      `[Audio:Codec ${a.Codec} is not valid for container ${container}; use ${rule.audio.join(' or ')}.]`,
    );
  }
  if (!a.SampleRate) throw validationError('[Audio:SampleRate is required.]');
  if (!a.Channels) throw validationError('[Audio:Channels is required.]');
  const lossless = a.Codec === 'pcm' || a.Codec === 'flac';
  if (!lossless && !a.BitRate) throw validationError(`[Audio:BitRate is required for codec ${a.Codec}.]`);
  if (a.BitRate && (Number(a.BitRate) < 8 || Number(a.BitRate) > 320)) {
    throw validationError('[Audio:BitRate must be between 8 and 320.]');
  }
  const options = a.CodecOptions ?? {};
  if (options.Profile && a.Codec !== 'AAC')
    throw validationError('[Audio:CodecOptions:Profile is only valid for codec AAC.]');
  if (options.BitDepth) {
    const depths = BIT_DEPTHS[a.Codec];
    if (!depths) throw validationError(`[Audio:CodecOptions:BitDepth is not valid for codec ${a.Codec}.]`);
    if (!depths.includes(options.BitDepth)) {
      throw validationError(`[Audio:CodecOptions:BitDepth must be ${depths.join(', ')} for codec ${a.Codec}.]`);
    }
  }
  if ((options.Signed || options.BitOrder) && a.Codec !== 'pcm') {
    throw validationError('[Audio:CodecOptions:Signed and BitOrder are only valid for codec pcm.]');
  }
}

function checkVideo(container: string, rule: ContainerRule, v: NonNullable<CreatePresetRequest['Video']>): void {
  if (rule.video.length === 0)
    throw validationError(`[Container ${container} does not support video; remove the Video settings.]`);
  if (!v.Codec) throw validationError('[Video:Codec is required.]');
  if (!rule.video.includes(v.Codec)) {
    throw validationError(
      `[Video:Codec ${v.Codec} is not valid for container ${container}; use ${rule.video.join(' or ')}.]`,
    );
  }
  if (v.Resolution && (v.MaxWidth || v.MaxHeight)) {
    throw validationError('[Video:Resolution and Video:MaxWidth/MaxHeight are mutually exclusive.]');
  }
  checkEvenSize('Video:MaxWidth', v.MaxWidth, 128, 4096);
  checkEvenSize('Video:MaxHeight', v.MaxHeight, 96, 3072);
  if (v.Codec !== 'gif') {
    for (const member of ['BitRate', 'FrameRate', 'KeyframesMaxDist', 'FixedGOP'] as const) {
      if (!v[member]) throw validationError(`[Video:${member} is required for codec ${v.Codec}.]`);
    }
  }
  if (v.Codec === 'H.264') {
    const options = v.CodecOptions ?? {};
    if (!options.Profile || !H264_PROFILES.includes(options.Profile)) {
      throw validationError(`[Video:CodecOptions:Profile must be one of ${H264_PROFILES.join(', ')} for codec H.264.]`);
    }
    if (options.Level !== undefined && !H264_LEVELS.includes(options.Level)) {
      throw validationError(`[Video:CodecOptions:Level must be one of ${H264_LEVELS.join(', ')}.]`);
    }
    if (options.MaxReferenceFrames !== undefined && !/^([0-9]|1[0-6])$/.test(options.MaxReferenceFrames)) {
      throw validationError('[Video:CodecOptions:MaxReferenceFrames must be between 0 and 16.]');
    }
  }
}

function checkThumbnails(t: NonNullable<CreatePresetRequest['Thumbnails']>): void {
  if (!t.Format) throw validationError('[Thumbnails:Format is required.]');
  if (!t.Interval || Number(t.Interval) < 1) throw validationError('[Thumbnails:Interval must be at least 1 second.]');
  if (t.Resolution && (t.MaxWidth || t.MaxHeight)) {
    throw validationError('[Thumbnails:Resolution and Thumbnails:MaxWidth/MaxHeight are mutually exclusive.]');
  }
  checkEvenSize('Thumbnails:MaxWidth', t.MaxWidth, 32, 4096);
  checkEvenSize('Thumbnails:MaxHeight', t.MaxHeight, 32, 3072);
}

function checkEvenSize(member: string, value: string | undefined, min: number, max: number): void {
  if (value === undefined || value === 'auto') return;
  const n = Number(value);
  if (n % 2 !== 0 || n < min || n > max)
    throw validationError(`[${member} must be an even number between ${min} and ${max}.]`);
}
