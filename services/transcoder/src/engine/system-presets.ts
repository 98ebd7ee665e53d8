import type { EtAudioParameters, EtPreset, EtThumbnails, EtVideoParameters } from './types';

// The Elastic Transcoder system presets (AWS docs "System presets", ids 1351620000001-*), as ReadPreset
// served them. test/fixtures/system-presets.json holds the values found in real service answers, with
// their source; test/system-presets.test.ts compares every ReadPreset with it. The Video settings of
// every video preset are confirmed; the audio and thumbnail settings of presets no answer shows are
// filled by analogy with their nearest confirmed siblings (marked "inferred" below).

const WATERMARK_SLOTS = (['Top', 'Bottom'] as const).flatMap((v) =>
  (['Left', 'Right'] as const).map((h) => ({
    Id: `${v}${h}`,
    MaxWidth: '10%',
    MaxHeight: '10%',
    SizingPolicy: 'ShrinkToFit',
    HorizontalAlign: h,
    HorizontalOffset: '10%',
    VerticalAlign: v,
    VerticalOffset: '10%',
    Opacity: '100',
    Target: 'Content',
  })),
);

interface H264 {
  profile: 'baseline' | 'main' | 'high';
  level: string;
  bitRate: string;
  maxWidth: string;
  maxHeight: string;
  frameRate: string;
  keyframes: string;
  fixedGop: boolean;
  refs?: string;
  /** MaxBitRate defaults to the bit rate when a buffer size is set. */
  bufferSize?: string;
  maxFrameRate?: string;
  interlaced?: 'TopFirst';
  fill?: boolean;
  aspectRatio?: string;
}

function h264(o: H264): EtVideoParameters {
  const CodecOptions: Record<string, string> = {
    Profile: o.profile,
    Level: o.level,
    MaxReferenceFrames: o.refs ?? '3',
    ...(o.bufferSize ? { MaxBitRate: o.bitRate, BufferSize: o.bufferSize } : {}),
    InterlacedMode: o.interlaced ?? 'Progressive',
    ColorSpaceConversionMode: o.interlaced || o.fill ? 'Auto' : 'None',
  };
  return {
    Codec: 'H.264',
    CodecOptions,
    KeyframesMaxDist: o.keyframes,
    FixedGOP: String(o.fixedGop),
    BitRate: o.bitRate,
    FrameRate: o.frameRate,
    ...(o.maxFrameRate ? { MaxFrameRate: o.maxFrameRate } : {}),
    ...(o.aspectRatio ? { AspectRatio: o.aspectRatio } : {}),
    MaxWidth: o.maxWidth,
    MaxHeight: o.maxHeight,
    DisplayAspectRatio: o.fill ? '16:9' : 'auto',
    SizingPolicy: o.fill ? 'ShrinkToFill' : 'ShrinkToFit',
    PaddingPolicy: o.fill ? 'Pad' : 'NoPad',
    Watermarks: WATERMARK_SLOTS,
  };
}

function mpeg2(o: {
  chroma: string;
  bitRate: string;
  bufferSize: string;
  maxWidth: string;
  maxHeight: string;
  frameRate: string;
  keyframes: string;
}): EtVideoParameters {
  return {
    Codec: 'mpeg2',
    CodecOptions: {
      ChromaSubsampling: o.chroma,
      MaxBitRate: o.bitRate,
      BufferSize: o.bufferSize,
      InterlacedMode: 'TopFirst',
      ColorSpaceConversionMode: 'Auto',
    },
    KeyframesMaxDist: o.keyframes,
    FixedGOP: 'true',
    BitRate: o.bitRate,
    FrameRate: o.frameRate,
    MaxWidth: o.maxWidth,
    MaxHeight: o.maxHeight,
    DisplayAspectRatio: '16:9',
    SizingPolicy: 'ShrinkToFill',
    PaddingPolicy: 'Pad',
    Watermarks: WATERMARK_SLOTS,
  };
}

function vpx(
  codec: 'vp8' | 'vp9',
  bitRate: string,
  maxWidth: string,
  maxHeight: string,
  frameRate: string,
): EtVideoParameters {
  return {
    Codec: codec,
    CodecOptions: codec === 'vp8' ? { Profile: '0' } : {},
    KeyframesMaxDist: '90',
    FixedGOP: 'false',
    BitRate: bitRate,
    FrameRate: frameRate,
    MaxWidth: maxWidth,
    MaxHeight: maxHeight,
    DisplayAspectRatio: 'auto',
    SizingPolicy: 'ShrinkToFit',
    PaddingPolicy: 'NoPad',
    Watermarks: WATERMARK_SLOTS,
  };
}

const aac = (bitRate: string, profile = 'AAC-LC', sampleRate = '44100', channels = '2'): EtAudioParameters => ({
  Codec: 'AAC',
  SampleRate: sampleRate,
  BitRate: bitRate,
  Channels: channels,
  CodecOptions: { Profile: profile },
});
const mp3 = (bitRate: string): EtAudioParameters => ({
  Codec: 'mp3',
  SampleRate: '44100',
  BitRate: bitRate,
  Channels: '2',
});
const pcm = (
  bitDepth: string,
  signed: 'Signed' | 'Unsigned',
  sampleRate = '44100',
  packing?: string,
): EtAudioParameters => ({
  Codec: 'pcm',
  SampleRate: sampleRate,
  Channels: '2',
  ...(packing ? { AudioPackingMode: packing } : {}),
  CodecOptions: { BitDepth: bitDepth, BitOrder: 'LittleEndian', Signed: signed },
});

const thumbs = (interval: '60' | '300', maxHeight = '108'): EtThumbnails => ({
  Format: 'png',
  Interval: interval,
  MaxWidth: '192',
  MaxHeight: maxHeight,
  SizingPolicy: 'ShrinkToFit',
  PaddingPolicy: 'NoPad',
});

interface Row {
  id: string;
  name: string;
  description: string;
  container: string;
  audio?: EtAudioParameters;
  video?: EtVideoParameters;
  thumbnails?: EtThumbnails;
}

const P = '1351620000001-';
const generic = (name: string) => `System preset generic ${name}`;
const sys = (text: string) => `System preset: ${text}`;

// Known: Generic 1080p, Generic 720p and Web carry AAC-LC 160k 44.1 kHz stereo and png thumbnails every
// 60 s; the other device presets are inferred to do the same. Generic 480p 16:9 carries 128k, and the
// smaller Generic presets are inferred to do the same (genericSdAudio).
const deviceAudio = aac('160');
const genericSdAudio = aac('128');
const deviceThumbs = thumbs('60');
// Known for HLS 600k and HLS 400k; inferred for HLS 2M, 1.5M and 1M.
const hlsAudio = aac('128');
// Known for Smooth 3M and Smooth 2M; inferred for the rest of the Smooth ladder.
const smoothAudio = aac('160');
const streamThumbs = thumbs('300');

const ROWS: Row[] = [
  // Thumbnails 192x144, unlike every other preset an answer shows (192x108).
  {
    id: `${P}000001`,
    name: 'Generic 1080p',
    description: generic('1080p'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: thumbs('60', '144'),
    video: h264({
      profile: 'baseline',
      level: '4',
      bitRate: '5400',
      maxWidth: '1920',
      maxHeight: '1080',
      frameRate: '29.97',
      keyframes: '90',
      fixedGop: false,
      aspectRatio: '16:9',
    }),
  },
  {
    id: `${P}000010`,
    name: 'Generic 720p',
    description: generic('720p'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'baseline',
      level: '3.1',
      bitRate: '2400',
      maxWidth: '1280',
      maxHeight: '720',
      frameRate: '29.97',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}000020`,
    name: 'Generic 480p 16:9',
    description: generic('480p 16:9'),
    container: 'mp4',
    audio: genericSdAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'baseline',
      level: '3.1',
      bitRate: '1200',
      maxWidth: '854',
      maxHeight: '480',
      frameRate: '29.97',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}000030`,
    name: 'Generic 480p 4:3',
    description: generic('480p 4:3'),
    container: 'mp4',
    audio: genericSdAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'baseline',
      level: '3',
      bitRate: '900',
      maxWidth: '640',
      maxHeight: '480',
      frameRate: '29.97',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}000040`,
    name: 'Generic 360p 16:9',
    description: generic('360p 16:9'),
    container: 'mp4',
    audio: genericSdAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'baseline',
      level: '3',
      bitRate: '720',
      maxWidth: '640',
      maxHeight: '360',
      frameRate: '29.97',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}000050`,
    name: 'Generic 360p 4:3',
    description: generic('360p 4:3'),
    container: 'mp4',
    audio: genericSdAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'baseline',
      level: '3',
      bitRate: '600',
      maxWidth: '480',
      maxHeight: '360',
      frameRate: '29.97',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  // The docs: the one Generic preset whose AAC profile is auto (as the 64k presets).
  {
    id: `${P}000061`,
    name: 'Generic 320x240',
    description: generic('320x240'),
    container: 'mp4',
    audio: aac('128', 'auto'),
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'baseline',
      level: '1.3',
      bitRate: '300',
      maxWidth: '320',
      maxHeight: '240',
      frameRate: '15',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}100020`,
    name: 'iPhone4S',
    description: sys('iPhone 4s and above, iPad 3G and above, iPad mini, Samsung Galaxy S2/S3/Tab 2'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'high',
      level: '4.1',
      bitRate: '5000',
      maxWidth: '1920',
      maxHeight: '1080',
      frameRate: '30',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}100040`,
    name: 'iPod Touch',
    description: sys('iPhone 1, 3, iPod classic'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'baseline',
      level: '3',
      bitRate: '1500',
      maxWidth: '640',
      maxHeight: '480',
      frameRate: '30',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}100050`,
    name: 'Apple TV 2G',
    description: sys('Apple TV 2G'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'main',
      level: '3.1',
      bitRate: '5000',
      maxWidth: '1280',
      maxHeight: '720',
      frameRate: '30',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}100060`,
    name: 'Apple TV 3G',
    description: sys('Apple TV 3G, Roku HD/2 XD'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'high',
      level: '4',
      bitRate: '5000',
      maxWidth: '1920',
      maxHeight: '1080',
      frameRate: '30',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}100070`,
    name: 'Web',
    description: sys('Facebook, SmugMug, Vimeo, YouTube'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'main',
      level: '3.1',
      bitRate: '2200',
      maxWidth: '1280',
      maxHeight: '720',
      frameRate: '30',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}100080`,
    name: 'KindleFireHD',
    description: sys('Kindle Fire HD'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'main',
      level: '4',
      bitRate: '2200',
      maxWidth: '1280',
      maxHeight: '720',
      frameRate: '30',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}100090`,
    name: 'KindleFireHD8.9',
    description: sys('Kindle Fire HD 8.9'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'main',
      level: '4',
      bitRate: '5400',
      maxWidth: '1920',
      maxHeight: '1080',
      frameRate: '30',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  {
    id: `${P}100110`,
    name: 'Audio AAC - 256k',
    description: sys('Audio AAC - 256 kilobits/second'),
    container: 'mp4',
    audio: aac('256'),
  },
  {
    id: `${P}100120`,
    name: 'Audio AAC - 160k',
    description: sys('Audio AAC - 160 kilobits/second'),
    container: 'mp4',
    audio: aac('160'),
  },
  {
    id: `${P}100130`,
    name: 'Audio AAC - 128k',
    description: sys('Audio AAC - 128 kilobits/second'),
    container: 'mp4',
    audio: aac('128'),
  },
  {
    id: `${P}100141`,
    name: 'Audio AAC - 64k',
    description: sys('Audio AAC - 64 kilobits/second'),
    container: 'mp4',
    audio: aac('64', 'auto', '44100', '1'),
  },
  {
    id: `${P}100150`,
    name: 'KindleFireHDX',
    description: sys('Kindle Fire HDX, Kindle Fire HDX 8.9'),
    container: 'mp4',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'main',
      level: '4.1',
      bitRate: '5000',
      maxWidth: '1920',
      maxHeight: '1080',
      frameRate: '30',
      keyframes: '90',
      fixedGop: false,
    }),
  },
  // Inferred audio: MPEG-2 program streams carry mp2 (the only codec the mpg container allows).
  {
    id: `${P}100160`,
    name: 'NTSC - MPG',
    description: sys('NTSC - MPG'),
    container: 'mpg',
    audio: { Codec: 'mp2', SampleRate: '48000', BitRate: '224', Channels: '2' },
    thumbnails: deviceThumbs,
    video: mpeg2({
      chroma: 'yuv420p',
      bitRate: '6500',
      bufferSize: '65000',
      maxWidth: '720',
      maxHeight: '480',
      frameRate: '29.97',
      keyframes: '15',
    }),
  },
  {
    id: `${P}100170`,
    name: 'PAL - MPG',
    description: sys('PAL - MPG'),
    container: 'mpg',
    audio: { Codec: 'mp2', SampleRate: '48000', BitRate: '224', Channels: '2' },
    thumbnails: deviceThumbs,
    video: mpeg2({
      chroma: 'yuv420p',
      bitRate: '6500',
      bufferSize: '65000',
      maxWidth: '720',
      maxHeight: '576',
      frameRate: '25',
      keyframes: '12',
    }),
  },
  // The AWS docs table swaps 100180 and 100190; the API names and settings say i60 is 100180.
  {
    id: `${P}100180`,
    name: 'Full HD 1080i60 - MP4',
    description: sys('Full HD 1080i60 - MP4'),
    container: 'mp4',
    audio: aac('160', 'AAC-LC', '48000'),
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'main',
      level: '4.1',
      bitRate: '10000',
      bufferSize: '100000',
      maxWidth: '1920',
      maxHeight: '1080',
      frameRate: '29.97',
      keyframes: '15',
      fixedGop: true,
      interlaced: 'TopFirst',
      fill: true,
    }),
  },
  {
    id: `${P}100190`,
    name: 'Full HD 1080i50 - MP4',
    description: sys('Full HD 1080i50 - MP4'),
    container: 'mp4',
    audio: aac('160', 'AAC-LC', '48000'),
    thumbnails: deviceThumbs,
    video: h264({
      profile: 'main',
      level: '4.1',
      bitRate: '10000',
      bufferSize: '100000',
      maxWidth: '1920',
      maxHeight: '1080',
      frameRate: '25',
      keyframes: '12',
      fixedGop: true,
      interlaced: 'TopFirst',
      fill: true,
    }),
  },
  {
    id: `${P}100200`,
    name: 'Gif (Animated)',
    description: sys('Gif (Animated)'),
    container: 'gif',
    video: {
      Codec: 'gif',
      CodecOptions: { LoopCount: 'Infinite' },
      BitRate: '400',
      FrameRate: '15',
      MaxWidth: 'auto',
      MaxHeight: 'auto',
      DisplayAspectRatio: 'auto',
      SizingPolicy: 'ShrinkToFit',
      PaddingPolicy: 'NoPad',
      Watermarks: WATERMARK_SLOTS,
    },
  },
  {
    id: `${P}100210`,
    name: 'Web: Flash Video',
    description: sys('Web: Flash Video'),
    container: 'flv',
    audio: deviceAudio,
    thumbnails: deviceThumbs,
    video: {
      ...h264({
        profile: 'main',
        level: '3.1',
        bitRate: '2200',
        bufferSize: '22000',
        maxWidth: '1280',
        maxHeight: '720',
        frameRate: '30',
        keyframes: '90',
        fixedGop: false,
      }),
      CodecOptions: {
        Profile: 'main',
        Level: '3.1',
        MaxReferenceFrames: '3',
        MaxBitRate: '2200',
        BufferSize: '22000',
        InterlacedMode: 'TopFirst',
        ColorSpaceConversionMode: 'Auto',
      },
    },
  },
  // Inferred audio: XDCAM HD422 carries 24-bit 48 kHz PCM, one channel per track.
  {
    id: `${P}100220`,
    name: 'Full HD 1080i60 - XDCAM422',
    description: sys('Full HD 1080i60 - XDCAM422'),
    container: 'mxf',
    audio: pcm('24', 'Signed', '48000', 'OneChannelPerTrack'),
    thumbnails: deviceThumbs,
    video: mpeg2({
      chroma: 'yuv422p',
      bitRate: '50000',
      bufferSize: '100000',
      maxWidth: '1920',
      maxHeight: '1080',
      frameRate: '29.97',
      keyframes: '15',
    }),
  },
  {
    id: `${P}100230`,
    name: 'Full HD 1080i50 - XDCAM422',
    description: sys('Full HD 1080i50 - XDCAM422'),
    container: 'mxf',
    audio: pcm('24', 'Signed', '48000', 'OneChannelPerTrack'),
    thumbnails: deviceThumbs,
    video: mpeg2({
      chroma: 'yuv422p',
      bitRate: '50000',
      bufferSize: '100000',
      maxWidth: '1920',
      maxHeight: '1080',
      frameRate: '25',
      keyframes: '12',
    }),
  },
  // Inferred audio: webm carries vorbis.
  {
    id: `${P}100240`,
    name: 'Webm 720p',
    description: sys('Webm 720p'),
    container: 'webm',
    audio: { Codec: 'vorbis', SampleRate: '44100', BitRate: '160', Channels: '2' },
    thumbnails: deviceThumbs,
    video: vpx('vp8', '2400', '1280', '720', '29.97'),
  },
  {
    id: `${P}100250`,
    name: 'Webm VP9 720p',
    description: sys('Webm VP9 720p'),
    container: 'webm',
    audio: { Codec: 'vorbis', SampleRate: '44100', BitRate: '160', Channels: '2' },
    thumbnails: deviceThumbs,
    video: vpx('vp9', '1200', '1280', '720', '30'),
  },
  {
    id: `${P}100260`,
    name: 'Webm VP9 360p',
    description: sys('Webm VP9 360p'),
    container: 'webm',
    audio: { Codec: 'vorbis', SampleRate: '44100', BitRate: '160', Channels: '2' },
    thumbnails: deviceThumbs,
    video: vpx('vp9', '600', '640', '360', '30'),
  },
  {
    id: `${P}200010`,
    name: 'HLS 2M',
    description: sys('HLS 2M'),
    container: 'ts',
    audio: hlsAudio,
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3.1',
      bitRate: '1872',
      maxWidth: '1024',
      maxHeight: '768',
      frameRate: 'auto',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200015`,
    name: 'HLS Video - 2M',
    description: sys('HLS Video - 2M'),
    container: 'ts',
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3.1',
      bitRate: '1872',
      bufferSize: '16848',
      maxWidth: '1024',
      maxHeight: '768',
      frameRate: 'auto',
      maxFrameRate: '60',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200020`,
    name: 'HLS 1.5M',
    description: sys('HLS 1.5M'),
    container: 'ts',
    audio: hlsAudio,
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3.1',
      bitRate: '1372',
      maxWidth: '960',
      maxHeight: '640',
      frameRate: 'auto',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200025`,
    name: 'HLS Video - 1.5M',
    description: sys('HLS Video - 1.5M'),
    container: 'ts',
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3.1',
      bitRate: '1372',
      bufferSize: '12348',
      maxWidth: '960',
      maxHeight: '640',
      frameRate: 'auto',
      maxFrameRate: '60',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200030`,
    name: 'HLS 1M',
    description: sys('HLS 1M'),
    container: 'ts',
    audio: hlsAudio,
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3.1',
      bitRate: '872',
      maxWidth: '640',
      maxHeight: '432',
      frameRate: 'auto',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200035`,
    name: 'HLS Video - 1M',
    description: sys('HLS Video - 1M'),
    container: 'ts',
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3',
      bitRate: '872',
      bufferSize: '7848',
      maxWidth: '640',
      maxHeight: '432',
      frameRate: 'auto',
      maxFrameRate: '60',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200040`,
    name: 'HLS 600k',
    description: sys('HLS 600k'),
    container: 'ts',
    audio: hlsAudio,
    thumbnails: streamThumbs,
    video: h264({
      profile: 'baseline',
      level: '3',
      bitRate: '472',
      maxWidth: '480',
      maxHeight: '320',
      frameRate: 'auto',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200045`,
    name: 'HLS Video - 600k',
    description: sys('HLS Video - 600k'),
    container: 'ts',
    thumbnails: streamThumbs,
    video: h264({
      profile: 'baseline',
      level: '3',
      bitRate: '472',
      bufferSize: '4248',
      maxWidth: '480',
      maxHeight: '320',
      frameRate: 'auto',
      maxFrameRate: '60',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200050`,
    name: 'HLS 400k',
    description: sys('HLS 400k'),
    container: 'ts',
    audio: hlsAudio,
    thumbnails: streamThumbs,
    video: h264({
      profile: 'baseline',
      level: '3',
      bitRate: '272',
      refs: '1',
      maxWidth: '400',
      maxHeight: '288',
      frameRate: 'auto',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200055`,
    name: 'HLS Video - 400k',
    description: sys('HLS Video - 400k'),
    container: 'ts',
    thumbnails: streamThumbs,
    video: h264({
      profile: 'baseline',
      level: '3',
      bitRate: '272',
      refs: '1',
      bufferSize: '2448',
      maxWidth: '400',
      maxHeight: '288',
      frameRate: 'auto',
      maxFrameRate: '60',
      keyframes: '90',
      fixedGop: true,
    }),
  },
  {
    id: `${P}200060`,
    name: 'HLS Audio - 160k',
    description: 'System Preset: HLS Audio 160 kilobits/second',
    container: 'ts',
    audio: aac('160'),
  },
  {
    id: `${P}200071`,
    name: 'HLS Audio - 64k',
    description: sys('HLS Audio 64 kilobits/second'),
    container: 'ts',
    audio: aac('64', 'auto'),
  },
  {
    id: `${P}300010`,
    name: 'Audio MP3 - 320k',
    description: sys('Audio MP3 - 320 kilobits/second'),
    container: 'mp3',
    audio: mp3('320'),
  },
  {
    id: `${P}300020`,
    name: 'Audio MP3 - 192k',
    description: sys('Audio MP3 - 192 kilobits/second'),
    container: 'mp3',
    audio: mp3('192'),
  },
  {
    id: `${P}300030`,
    name: 'Audio MP3 - 160k',
    description: sys('Audio MP3 - 160 kilobits/second'),
    container: 'mp3',
    audio: mp3('160'),
  },
  {
    id: `${P}300040`,
    name: 'Audio MP3 - 128k',
    description: sys('Audio MP3 - 128 kilobits/second'),
    container: 'mp3',
    audio: mp3('128'),
  },
  {
    id: `${P}300110`,
    name: 'Audio FLAC - CD',
    description: sys('Audio FLAC - CD'),
    container: 'flac',
    audio: { Codec: 'flac', SampleRate: '44100', Channels: '2', CodecOptions: { BitDepth: '16' } },
  },
  // 8-bit WAV samples are unsigned by definition of the format.
  {
    id: `${P}300200`,
    name: 'Audio WAV 44100 Hz, 8 bit',
    description: sys('Audio WAV 44100 Hz, 8 bit'),
    container: 'wav',
    audio: pcm('8', 'Unsigned'),
  },
  {
    id: `${P}300300`,
    name: 'Audio WAV 44100 Hz, 16 bit - CD Quality',
    description: sys('Audio WAV 44100 Hz, 16 bit - CD Quality'),
    container: 'wav',
    audio: pcm('16', 'Signed'),
  },
  ...smooth(),
  {
    id: `${P}500020`,
    name: 'MPEG-Dash Video - 4.8M',
    description: sys('MPEG-Dash Video - 4.8M'),
    container: 'fmp4',
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3.1',
      bitRate: '4800',
      bufferSize: '9600',
      maxWidth: '1280',
      maxHeight: '720',
      frameRate: '30',
      keyframes: '60',
      fixedGop: true,
    }),
  },
  {
    id: `${P}500030`,
    name: 'MPEG-Dash Video - 2.4M',
    description: sys('MPEG-Dash Video - 2.4M'),
    container: 'fmp4',
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3.1',
      bitRate: '2400',
      bufferSize: '4800',
      maxWidth: '854',
      maxHeight: '480',
      frameRate: '30',
      keyframes: '60',
      fixedGop: true,
    }),
  },
  {
    id: `${P}500040`,
    name: 'MPEG-Dash Video - 1.2M',
    description: sys('MPEG-Dash Video - 1.2M'),
    container: 'fmp4',
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3',
      bitRate: '1200',
      bufferSize: '2400',
      maxWidth: '640',
      maxHeight: '360',
      frameRate: '30',
      keyframes: '60',
      fixedGop: true,
    }),
  },
  {
    id: `${P}500050`,
    name: 'MPEG-Dash Video - 600k',
    description: sys('MPEG-Dash Video - 600k'),
    container: 'fmp4',
    thumbnails: streamThumbs,
    video: h264({
      profile: 'main',
      level: '3',
      bitRate: '600',
      refs: '1',
      bufferSize: '1200',
      maxWidth: '426',
      maxHeight: '240',
      frameRate: '30',
      keyframes: '60',
      fixedGop: true,
    }),
  },
  {
    id: `${P}500060`,
    name: 'MPEG-Dash Audio - 128k',
    description: sys('MPEG-Dash Audio - 128k'),
    container: 'fmp4',
    audio: aac('128', 'AAC-LC', '48000'),
  },
];

function smooth(): Row[] {
  const table: Array<[string, string, string, string, string, string, string]> = [
    // id, name, level, bit rate, buffer, width, height
    ['400010', '3M', '3.1', '2962', '17772', '1280', '720'],
    ['400020', '2M', '3.1', '2056', '12336', '992', '560'],
    ['400030', '1.5M', '3', '1427', '8562', '768', '432'],
    ['400040', '1M', '2.1', '991', '5946', '592', '332'],
    ['400050', '800k', '2.1', '688', '4128', '448', '252'],
    ['400060', '600k', '1.3', '477', '2862', '368', '208'],
    ['400070', '500k', '1.3', '331', '1986', '284', '160'],
    ['400080', '400k', '1.3', '230', '1380', '224', '128'],
  ];
  return table.map(([id, label, level, bitRate, bufferSize, maxWidth, maxHeight]) => ({
    id: `${P}${id}`,
    name: `Smooth ${label}`,
    description: sys(`Smooth ${label}`),
    container: 'fmp4',
    audio: smoothAudio,
    thumbnails: streamThumbs,
    video: h264({
      profile: 'high',
      level,
      bitRate,
      bufferSize,
      maxWidth,
      maxHeight,
      frameRate: '30',
      keyframes: '60',
      fixedGop: true,
    }),
  }));
}

/** Retired ids that still resolve, each to the preset AWS recommends instead (docs "System presets"). */
export const deprecatedSystemPresetIds: Readonly<Record<string, string>> = {
  '1351620000001-100140': `${P}100141`,
  '1351620000000-100090': `${P}100090`,
  '1351620000000-100080': `${P}100080`,
  '1351620000000-100100': `${P}100080`,
  '1351620000001-100100': `${P}100080`,
  '1351620000000-100060': `${P}100060`,
  '1351620000000-100050': `${P}100050`,
  '1351620000000-000001': `${P}000001`,
  '1351620000000-000010': `${P}000010`,
  '1351620000000-000020': `${P}000020`,
  '1351620000000-000030': `${P}000030`,
  '1351620000000-000040': `${P}000040`,
  '1351620000000-000050': `${P}000050`,
  '1351620000001-000060': `${P}000061`,
  '1351620000000-000060': `${P}000061`,
  '1351620000001-200070': `${P}200071`,
  '1351620000001-100010': `${P}100020`,
  '1351620000000-100020': `${P}100020`,
  '1351620000000-100010': `${P}100020`,
  '1351620000001-100030': `${P}100020`,
  '1351620000000-100030': `${P}100020`,
  '1351620000000-100040': `${P}100040`,
  '1351620000000-100070': `${P}100070`,
};

const BY_ID = new Map(ROWS.map((r) => [r.id, r]));

export function presetArn(region: string, account: string, id: string): string {
  return `arn:aws:elastictranscoder:${region}:${account}:preset/${id}`;
}

function toPreset(row: Row, id: string, region: string, account: string): EtPreset {
  return structuredClone({
    Id: id,
    Arn: presetArn(region, account, id),
    Name: sys(row.name),
    Description: row.description,
    Container: row.container,
    ...(row.audio ? { Audio: row.audio } : {}),
    ...(row.video ? { Video: row.video } : {}),
    ...(row.thumbnails ? { Thumbnails: row.thumbnails } : {}),
    Type: 'System',
  });
}

/** Every current system preset, in ascending Id order as ListPresets returns them. Fresh copies. */
export function systemPresets(region: string, account: string): EtPreset[] {
  return ROWS.map((r) => toPreset(r, r.id, region, account));
}

/** True for a current or a deprecated-but-resolving system preset id. */
export function isSystemPresetId(id: string): boolean {
  return BY_ID.has(id) || id in deprecatedSystemPresetIds;
}

/**
 * The system preset with this id, or undefined. A deprecated id answers with the settings of the
 * preset that replaced it, under the id that was asked for.
 */
export function systemPreset(id: string, region: string, account: string): EtPreset | undefined {
  const row = BY_ID.get(id) ?? BY_ID.get(deprecatedSystemPresetIds[id] ?? '');
  return row ? toPreset(row, id, region, account) : undefined;
}
