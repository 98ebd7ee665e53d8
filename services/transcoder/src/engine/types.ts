// Elastic Transcoder preset shapes, API version 2012-09-25. Every value is a string, as on the wire.

export interface EtAudioCodecOptions {
  Profile?: string;
  BitDepth?: string;
  BitOrder?: string;
  Signed?: string;
}

export interface EtAudioParameters {
  Codec?: string;
  SampleRate?: string;
  BitRate?: string;
  Channels?: string;
  AudioPackingMode?: string;
  CodecOptions?: EtAudioCodecOptions;
}

export interface EtPresetWatermark {
  Id?: string;
  MaxWidth?: string;
  MaxHeight?: string;
  SizingPolicy?: string;
  HorizontalAlign?: string;
  HorizontalOffset?: string;
  VerticalAlign?: string;
  VerticalOffset?: string;
  Opacity?: string;
  Target?: string;
}

export interface EtVideoParameters {
  Codec?: string;
  CodecOptions?: Record<string, string>;
  KeyframesMaxDist?: string;
  FixedGOP?: string;
  BitRate?: string;
  FrameRate?: string;
  MaxFrameRate?: string;
  Resolution?: string;
  AspectRatio?: string;
  MaxWidth?: string;
  MaxHeight?: string;
  DisplayAspectRatio?: string;
  SizingPolicy?: string;
  PaddingPolicy?: string;
  Watermarks?: EtPresetWatermark[];
}

export interface EtThumbnails {
  Format?: string;
  Interval?: string;
  Resolution?: string;
  AspectRatio?: string;
  MaxWidth?: string;
  MaxHeight?: string;
  SizingPolicy?: string;
  PaddingPolicy?: string;
}

export interface EtPreset {
  Id?: string;
  Arn?: string;
  Name?: string;
  Description?: string;
  Container?: string;
  Audio?: EtAudioParameters;
  Video?: EtVideoParameters;
  Thumbnails?: EtThumbnails;
  Type?: 'System' | 'Custom' | string;
}

/** What the input turned out to be (JobInput.DetectedProperties). */
export interface DetectedProperties {
  Width?: number;
  Height?: number;
  FrameRate?: string;
  FileSize?: number;
  DurationMillis?: number;
}
