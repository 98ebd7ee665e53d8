import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
export const FFPROBE = process.env.FFPROBE_PATH ?? 'ffprobe';

/** Runs ffmpeg quietly, overwriting its output: `args` are the inputs, the options and the output. */
export async function ffmpeg(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/** A lavfi (generated) input, such as `sine=frequency=440:duration=2`. */
export const lavfi = (source: string): string[] => ['-f', 'lavfi', '-i', source];

/** Generates a small real media file with ffmpeg (lavfi sources), for tests. */
export async function generateMedia(
  kind: 'mp3' | 'wav' | 'mp4' | 'png' | 'jpg',
  outPath: string,
  opts: {
    seconds?: number;
    width?: number;
    height?: number;
    /** testsrc2, whose pictures move, instead of the still testsrc pattern. */
    motion?: boolean;
    sampleRate?: number;
  } = {},
): Promise<string> {
  const s = String(opts.seconds ?? 2);
  const tone = `sine=frequency=440:sample_rate=${opts.sampleRate ?? 44100}:duration=${s}`;
  const size = `${opts.width ?? 320}x${opts.height ?? 240}`;
  const args: Record<typeof kind, string[]> = {
    mp3: [
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:duration=${s}:sample_rate=44100`,
      '-ac',
      '2',
      '-c:a',
      'libmp3lame',
      '-b:a',
      '128k',
    ],
    wav: ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${s}:sample_rate=44100`, '-ac', '2', '-c:a', 'pcm_s16le'],
    mp4: [
      '-f',
      'lavfi',
      '-i',
      `${opts.motion ? 'testsrc2' : 'testsrc'}=size=${size}:rate=25:duration=${s}`,
      '-f',
      'lavfi',
      '-i',
      tone,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-shortest',
    ],
    png: ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=1`, '-frames:v', '1'],
    jpg: ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=1`, '-frames:v', '1'],
  };
  await run(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args[kind], outPath]);
  return outPath;
}

export interface ProbeResult {
  format: { format_name: string; duration?: string; bit_rate?: string };
  streams: Array<{
    codec_type: string;
    codec_name: string;
    profile?: string;
    sample_rate?: string;
    channels?: number;
    bits_per_sample?: number;
    bits_per_raw_sample?: string;
    sample_fmt?: string;
    width?: number;
    height?: number;
    bit_rate?: string;
    r_frame_rate?: string;
  }>;
}

export async function ffprobe(file: string): Promise<ProbeResult> {
  const { stdout } = await run(FFPROBE, [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    file,
  ]);
  return JSON.parse(stdout) as ProbeResult;
}
