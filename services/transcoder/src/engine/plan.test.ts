import { describe, expect, it } from 'vitest';
import { SeedPresets } from '@mp/contracts';
import {
  decodedBytesPerSecond,
  encoderCost,
  losslessPcm,
  pcmCodec,
  planAudioFanOut,
  planJob,
  thumbnailName,
} from './plan';
import type { MediaProbe } from './probe';
import { systemPreset } from './system-presets';
import type { EtPreset } from './types';

const preset = (id: string): EtPreset => systemPreset(id, 'us-east-1', '000000000000')!;
const ANY_INPUT = [
  '-protocol_whitelist',
  'file',
  '-format_whitelist',
  'mov,aac,asf,avi,flv,matroska,mp3,mpeg,mpegts,mxf,ogg,wav,flac',
];
const HEAD = [
  '-hide_banner',
  '-nostdin',
  '-loglevel',
  'error',
  '-nostats',
  '-progress',
  'pipe:1',
  '-y',
  ...ANY_INPUT,
  '-i',
  '/j/input',
];

const mp3: MediaProbe = {
  formatName: 'mp3',
  fileSize: 2_880_000,
  durationMillis: 180_000,
  audio: { index: 0, codec: 'mp3', sampleRate: 44100, channels: 2 },
};
const hdMovie: MediaProbe = {
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
  fileSize: 10_000_000,
  durationMillis: 12_000,
  video: { index: 0, codec: 'h264', width: 1920, height: 1080, frameRate: 25, rotation: 0, sampleAspectRatio: 1 },
  audio: { index: 1, codec: 'aac', sampleRate: 48000, channels: 2 },
};

describe('planJob: the seed presets', () => {
  it('makes WAV, FLAC and AAC/MP4 from one ffmpeg that decodes the input once', () => {
    const plan = planJob({
      inputPath: '/j/input',
      probe: mp3,
      outputs: [
        { preset: preset(SeedPresets.wav), localPath: '/j/o0.wav' },
        { preset: preset(SeedPresets.flac), localPath: '/j/o1.flac' },
        { preset: preset(SeedPresets.aacMp4), localPath: '/j/o2.mp4' },
      ],
    });
    expect(plan.argv).toEqual([
      [
        ...HEAD,
        '-map',
        '0:0',
        '-c:a',
        'pcm_s16le',
        '-ar',
        '44100',
        '-ac',
        '2',
        '-f',
        'wav',
        '-rf64',
        'auto',
        '/j/o0.wav',
        '-map',
        '0:0',
        '-c:a',
        'flac',
        '-sample_fmt',
        's16',
        '-ar',
        '44100',
        '-ac',
        '2',
        '-f',
        'flac',
        '/j/o1.flac',
        '-map',
        '0:0',
        '-c:a',
        'aac',
        '-profile:a',
        'aac_low',
        '-b:a',
        '256k',
        '-ar',
        '44100',
        '-ac',
        '2',
        '-f',
        'mp4',
        '-movflags',
        '+faststart',
        '/j/o2.mp4',
      ],
    ]);
    expect(plan.outputs.map((o) => o.expected)).toEqual([
      {
        container: 'wav',
        format: 'wav',
        contentType: 'audio/wav',
        audio: { codec: 'pcm_s16le', sampleRate: 44100, channels: 2, tracks: 1 },
      },
      {
        container: 'flac',
        format: 'flac',
        contentType: 'audio/flac',
        audio: { codec: 'flac', sampleRate: 44100, channels: 2, tracks: 1 },
      },
      {
        container: 'mp4',
        format: 'mp4',
        contentType: 'audio/mp4',
        audio: { codec: 'aac', sampleRate: 44100, channels: 2, tracks: 1 },
      },
    ]);
    // WAV and FLAC can be uploaded while written; a faststart MP4 is rewritten whole at the end.
    expect(plan.outputs.map((o) => o.sequential)).toEqual([true, true, false]);
  });

  it('gives each output a command line of its own as well', () => {
    const plan = planJob({
      inputPath: '/j/input',
      probe: mp3,
      outputs: [{ preset: preset(SeedPresets.flac), localPath: '/j/o.flac' }],
    });
    expect(plan.outputs[0]!.argv).toEqual(plan.argv[0]);
  });
});

describe('planJob: video presets', () => {
  it('Generic 720p with thumbnails', () => {
    const plan = planJob({
      inputPath: '/j/input',
      probe: hdMovie,
      outputs: [
        {
          preset: preset('1351620000001-000010'),
          localPath: '/j/o0.mp4',
          thumbnailDir: '/j/t0',
          thumbnailPattern: 'thumbs/{resolution}/v-{count}',
        },
      ],
    });
    expect(plan.argv[0]).toEqual([
      ...HEAD,
      '-map',
      '0:0',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-profile:v',
      'baseline',
      '-level:v',
      '3.1',
      '-refs',
      '3',
      '-b:v',
      '2400k',
      '-g',
      '90',
      '-pix_fmt',
      'yuv420p',
      '-vf',
      'fps=30000/1001,scale=1280:720,setsar=1',
      '-map',
      '0:1',
      '-c:a',
      'aac',
      '-profile:a',
      'aac_low',
      '-b:a',
      '160k',
      '-ar',
      '44100',
      '-ac',
      '2',
      '-f',
      'mp4',
      '-movflags',
      '+faststart',
      '/j/o0.mp4',
      '-map',
      '0:0',
      '-vf',
      "select='isnan(prev_selected_t)+gte(t-prev_selected_t,60)',scale=192:108,setsar=1",
      '-fps_mode',
      'vfr',
      '-c:v',
      'png',
      '-f',
      'image2',
      '-start_number',
      '1',
      '/j/t0/%05d.png',
    ]);
    expect(plan.outputs[0]!.expected!.video).toEqual({ codec: 'h264', width: 1280, height: 720, frameRate: '29.97' });
    expect(plan.outputs[0]!.thumbnails).toEqual({
      dir: '/j/t0',
      format: 'png',
      width: 192,
      height: 108,
      localTemplate: '/j/t0/%05d.png',
      pattern: 'thumbs/192x108/v-{count}',
    });
  });

  it('HLS Video - 400k: fixed GOP, VBV, one reference frame, no audio, input frame rate kept', () => {
    const plan = planJob({
      inputPath: '/j/input',
      probe: hdMovie,
      outputs: [{ preset: preset('1351620000001-200055'), localPath: '/j/o.ts' }],
    });
    expect(plan.argv[0]!.slice(HEAD.length)).toEqual([
      '-map',
      '0:0',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-profile:v',
      'baseline',
      '-level:v',
      '3',
      '-refs',
      '1',
      '-b:v',
      '272k',
      '-maxrate',
      '272k',
      '-bufsize',
      '2448k',
      '-g',
      '90',
      '-keyint_min',
      '90',
      '-sc_threshold',
      '0',
      '-pix_fmt',
      'yuv420p',
      '-vf',
      'scale=400:226,setsar=1',
      '-f',
      'mpegts',
      '/j/o.ts',
    ]);
    expect(plan.outputs[0]!.expected!.video).toEqual({ codec: 'h264', width: 400, height: 226, frameRate: '25' });
    expect(plan.outputs[0]!.expected!.audio).toBeUndefined();
  });

  it('NTSC - MPG: interlaced MPEG-2, padded 720x480 frame displayed 16:9 without distortion', () => {
    const sd: MediaProbe = { ...hdMovie, video: { ...hdMovie.video!, width: 320, height: 240 } };
    const plan = planJob({
      inputPath: '/j/input',
      probe: sd,
      outputs: [{ preset: preset('1351620000001-100160'), localPath: '/j/o.mpg' }],
    });
    expect(plan.argv[0]!.slice(HEAD.length)).toEqual([
      '-map',
      '0:0',
      '-c:v',
      'mpeg2video',
      '-b:v',
      '6500k',
      '-maxrate',
      '6500k',
      '-bufsize',
      '65000k',
      '-g',
      '15',
      '-bf',
      '2',
      '-sc_threshold',
      '1000000000',
      '-flags',
      '+cgop+ildct+ilme',
      '-field_order',
      'tt',
      '-top',
      '1',
      '-pix_fmt',
      'yuv420p',
      '-vf',
      'fps=30000/1001,scale=270:240,pad=720:480:(ow-iw)/2:(oh-ih)/2,setdar=16/9',
      '-map',
      '0:1',
      '-c:a',
      'mp2',
      '-b:a',
      '224k',
      '-ar',
      '48000',
      '-ac',
      '2',
      '-f',
      'vob',
      '/j/o.mpg',
    ]);
  });

  it('XDCAM: one mono PCM track per channel through one filter graph', () => {
    const plan = planJob({
      inputPath: '/j/input',
      probe: hdMovie,
      outputs: [
        { preset: preset(SeedPresets.flac), localPath: '/j/o0.flac' },
        { preset: preset('1351620000001-100220'), localPath: '/j/o1.mxf' },
      ],
    });
    const argv = plan.argv[0]!;
    expect(argv.slice(HEAD.length, HEAD.length + 2)).toEqual([
      '-filter_complex',
      '[0:1]aresample=48000,aformat=channel_layouts=stereo,channelsplit=channel_layout=stereo[o1c0][o1c1]',
    ]);
    expect(argv.join(' ')).toContain('-map [o1c0] -map [o1c1] -c:a pcm_s24le -f mxf /j/o1.mxf');
    expect(plan.outputs[1]!.expected!.audio).toEqual({ codec: 'pcm_s24le', sampleRate: 48000, channels: 1, tracks: 2 });
  });

  it('Gif: 15 fps, infinite loop, no audio', () => {
    const plan = planJob({
      inputPath: '/j/input',
      probe: hdMovie,
      outputs: [{ preset: preset('1351620000001-100200'), localPath: '/j/o.gif' }],
    });
    expect(plan.argv[0]!.slice(HEAD.length)).toEqual([
      '-map',
      '0:0',
      '-c:v',
      'gif',
      '-vf',
      'fps=15,setsar=1',
      '-f',
      'gif',
      '-loop',
      '0',
      '/j/o.gif',
    ]);
  });

  it('caps an automatic frame rate at MaxFrameRate', () => {
    const fast: MediaProbe = { ...hdMovie, video: { ...hdMovie.video!, frameRate: 120 } };
    const plan = planJob({
      inputPath: '/j/input',
      probe: fast,
      outputs: [{ preset: preset('1351620000001-200015'), localPath: '/j/o.ts' }],
    });
    expect(plan.argv[0]!.join(' ')).toContain('-vf fps=60,scale=1024:576,setsar=1');
    expect(plan.outputs[0]!.expected!.video!.frameRate).toBe('60');
  });

  it('rotates on request', () => {
    const plan = planJob({
      inputPath: '/j/input',
      probe: hdMovie,
      outputs: [{ preset: preset('1351620000001-000010'), localPath: '/j/o.mp4', rotate: '90' }],
    });
    expect(plan.argv[0]!.join(' ')).toContain('-vf fps=30000/1001,transpose=clock,scale=406:720,setsar=1');
    expect(plan.outputs[0]!.expected!.video).toMatchObject({ width: 406, height: 720 });
  });
});

describe('planJob: input and preset mismatches', () => {
  it('an audio-only input with a video preset that has audio gives an audio-only output', () => {
    const plan = planJob({
      inputPath: '/j/input',
      probe: mp3,
      outputs: [
        {
          preset: preset('1351620000001-000010'),
          localPath: '/j/o.mp4',
          thumbnailDir: '/j/t',
          thumbnailPattern: '{count}',
        },
      ],
    });
    expect(plan.outputs[0]!.error).toBeUndefined();
    expect(plan.outputs[0]!.expected).toMatchObject({ contentType: 'audio/mp4', audio: { codec: 'aac' } });
    expect(plan.outputs[0]!.expected!.video).toBeUndefined();
    expect(plan.outputs[0]!.thumbnails).toBeUndefined();
    expect(plan.outputs[0]!.notes).toHaveLength(2);
  });

  it('an audio-only input with a video-only preset fails that output with 4008, the others still run', () => {
    const plan = planJob({
      inputPath: '/j/input',
      probe: mp3,
      outputs: [
        { preset: preset('1351620000001-500030'), localPath: '/j/o0.mp4' },
        { preset: preset(SeedPresets.wav), localPath: '/j/o1.wav' },
      ],
    });
    expect(plan.outputs[0]!.error).toEqual({
      code: 4008,
      message: 'The preset requires video, but the input file has no video stream.',
    });
    expect(plan.argv).toHaveLength(1);
    expect(plan.argv[0]).not.toContain('/j/o0.mp4');
    expect(plan.argv[0]).toContain('/j/o1.wav');
  });

  it('a silent video with an audio-only preset fails with 4008; nothing to run', () => {
    const silent: MediaProbe = { ...hdMovie, audio: undefined };
    const plan = planJob({
      inputPath: '/j/input',
      probe: silent,
      outputs: [{ preset: preset(SeedPresets.wav), localPath: '/j/o.wav' }],
    });
    expect(plan.outputs[0]!.error?.code).toBe(4008);
    expect(plan.argv).toEqual([]);
  });

  it('keeps preset values that are not plain numbers or known names out of the command line', () => {
    const base = preset('1351620000001-000010');
    const hostile: EtPreset = {
      ...base,
      Video: {
        ...base.Video,
        FrameRate: '30,drawtext=text=x',
        MaxFrameRate: '60;movie=/etc/passwd',
        DisplayAspectRatio: '16:9,drawbox',
        MaxWidth: '1280:force_original_aspect_ratio=1',
        CodecOptions: { Profile: 'main -i /etc/passwd', Level: '3.1 x', MaxReferenceFrames: '3,4' },
      },
    };
    const argv = planJob({
      inputPath: '/j/input',
      probe: hdMovie,
      outputs: [{ preset: hostile, localPath: '/j/o.mp4' }],
    }).argv[0]!;
    expect(argv.join(' ')).not.toMatch(/drawtext|movie|drawbox|passwd|force_original|3,4/);
    expect(argv.join(' ')).toContain('-vf scale=1280:720,setsar=1');
  });

  it('HE-AAC is made as AAC-LC, with a note, when ffmpeg has no HE-AAC encoder', () => {
    const he: EtPreset = {
      Container: 'mp4',
      Audio: { Codec: 'AAC', SampleRate: '44100', BitRate: '64', Channels: '2', CodecOptions: { Profile: 'HE-AAC' } },
    };
    const plan = planJob({ inputPath: '/j/input', probe: mp3, outputs: [{ preset: he, localPath: '/j/o.mp4' }] });
    expect(plan.argv[0]).toContain('aac_low');
    expect(plan.outputs[0]!.notes[0]).toMatch(/HE-AAC is made as AAC-LC/);
    const withFdk = planJob({
      inputPath: '/j/input',
      probe: mp3,
      outputs: [{ preset: he, localPath: '/j/o.mp4' }],
      options: { heAac: true },
    });
    expect(withFdk.argv[0]!.join(' ')).toContain('-c:a libfdk_aac -profile:a aac_he -b:a 64k');
    const fast = planJob({
      inputPath: '/j/input',
      probe: mp3,
      outputs: [{ preset: he, localPath: '/j/o.mp4' }],
      options: { aacCoder: 'fast' },
    });
    expect(fast.argv[0]!.join(' ')).toContain('-c:a aac -profile:a aac_low -aac_coder fast -b:a 64k');
  });
});

describe('planAudioFanOut', () => {
  const seed = [
    { preset: preset(SeedPresets.wav), localPath: '/j/o0.wav' },
    { preset: preset(SeedPresets.flac), localPath: '/j/o1.flac' },
    { preset: preset(SeedPresets.aacMp4), localPath: '/j/o2.mp4' },
  ];

  it('decodes the input once to lossless PCM, then encodes each output from it as its own command would', () => {
    const input = {
      inputPath: '/j/input',
      probe: { ...mp3, audio: { ...mp3.audio!, sampleFormat: 'fltp' } },
      outputs: seed,
    };
    const plan = planJob(input);
    const fan = planAudioFanOut(input, plan, '/j/decoded.nut')!;
    expect(fan.decoder).toEqual([...HEAD, '-map', '0:0', '-c:a', 'pcm_f32le', '-f', 'nut', '/j/decoded.nut']);
    expect(fan.encoders.map((e) => e.output)).toEqual(plan.outputs);
    // WAV and FLAC yield the cores to the AAC encoder, the slowest.
    expect(fan.encoders.map((e) => e.nice)).toEqual([10, 10, 0]);
    // Only the nut demuxer opens the engine's own scratch file.
    const fromDecoded = [
      ...HEAD.slice(0, -6),
      '-protocol_whitelist',
      'file',
      '-format_whitelist',
      'nut',
      '-f',
      'nut',
      '-i',
      '/j/decoded.nut',
    ];
    for (const [n, e] of fan.encoders.entries()) {
      // The output's own command line, reading the decoded file's stream 0 instead of the input.
      expect(e.argv).toEqual([...fromDecoded, ...plan.outputs[n]!.argv.slice(HEAD.length)]);
    }
  });

  it('maps the audio stream of a file with video too, and skips outputs that cannot be made', () => {
    const input = {
      inputPath: '/j/input',
      probe: hdMovie,
      outputs: [...seed.slice(0, 2), { preset: preset('1351620000001-000010'), localPath: '/j/v.mp4' }],
    };
    expect(planAudioFanOut(input, planJob(input), '/j/d.nut')).toBeUndefined(); // a video output
    const audioOnly = { ...input, outputs: seed.slice(0, 2) };
    const fan = planAudioFanOut(audioOnly, planJob(audioOnly), '/j/d.nut')!;
    expect(fan.decoder.slice(HEAD.length)).toEqual(['-map', '0:1', '-c:a', 'pcm_f32le', '-f', 'nut', '/j/d.nut']);
    expect(fan.encoders.every((e) => e.argv.includes('0:0') && !e.argv.includes('0:1'))).toBe(true);
  });

  it('lets the cheaper encoders yield to the costliest ones', () => {
    expect(['pcm_s16le', 'flac', 'alac', 'aac', 'mp3', 'vorbis', 'opus'].map(encoderCost)).toEqual([
      0, 1, 1, 2, 2, 2, 2,
    ]);
    const lossless = { inputPath: '/j/input', probe: mp3, outputs: seed.slice(0, 2) };
    expect(planAudioFanOut(lossless, planJob(lossless), '/j/d.nut')!.encoders.map((e) => e.nice)).toEqual([10, 0]);
    const twoLossy = {
      inputPath: '/j/input',
      probe: mp3,
      outputs: [seed[2]!, { preset: preset('1351620000001-300040'), localPath: '/j/o.mp3' }],
    };
    expect(planAudioFanOut(twoLossy, planJob(twoLossy), '/j/d.nut')!.encoders.map((e) => e.nice)).toEqual([0, 0]);
  });

  it('is not for a single output', () => {
    const one = { inputPath: '/j/input', probe: mp3, outputs: seed.slice(0, 1) };
    expect(planAudioFanOut(one, planJob(one), '/j/d.nut')).toBeUndefined();
  });

  it("keeps every sample exactly: the PCM codec follows the decoder's sample format", () => {
    expect(
      ['u8', 's16', 's16p', 's32', 's32p', 's64', 'flt', 'fltp', 'dbl', 'dblp', undefined].map(losslessPcm),
    ).toEqual([
      'pcm_u8',
      'pcm_s16le',
      'pcm_s16le',
      'pcm_s32le',
      'pcm_s32le',
      'pcm_s64le',
      'pcm_f32le',
      'pcm_f32le',
      'pcm_f64le',
      'pcm_f64le',
      'pcm_f32le',
    ]);
    expect(decodedBytesPerSecond({ sampleRate: 44100, channels: 2, sampleFormat: 'fltp' })).toBe(352_800);
    expect(decodedBytesPerSecond({ sampleRate: 48000, channels: 6, sampleFormat: 's16' })).toBe(576_000);
  });
});

describe('helpers', () => {
  it.each([
    ['8', 'Unsigned', 'LittleEndian', 'pcm_u8'],
    ['8', 'Signed', 'LittleEndian', 'pcm_s8'],
    ['16', 'Signed', 'LittleEndian', 'pcm_s16le'],
    ['24', 'Signed', 'BigEndian', 'pcm_s24be'],
    ['32', 'Signed', 'LittleEndian', 'pcm_s32le'],
  ])('pcm %s bit %s %s → %s', (depth, signed, order, codec) => {
    expect(pcmCodec(depth, signed, order)).toBe(codec);
  });

  it('names thumbnails with a five-digit counter and the format', () => {
    expect(thumbnailName('out/thumbs/192x108/v-{count}', 1, 'png')).toBe('out/thumbs/192x108/v-00001.png');
    expect(thumbnailName('{count}', 123, 'jpg')).toBe('00123.jpg');
  });
});
