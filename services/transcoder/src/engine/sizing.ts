// Elastic Transcoder SizingPolicy / PaddingPolicy → output frame geometry (AWS docs, "Preset settings":
// MaxWidth, MaxHeight, SizingPolicy, PaddingPolicy). Pure; all results are even so 4:2:0 encoders accept them.

export type SizingPolicy = 'Fit' | 'Fill' | 'Stretch' | 'Keep' | 'ShrinkToFit' | 'ShrinkToFill';

export interface Geometry {
  /** Size the picture is scaled to. */
  scaled: { width: number; height: number };
  /** Centre crop applied after scaling, when the scaled picture exceeds the box. */
  crop?: { width: number; height: number };
  /** Frame size after padding with black, when PaddingPolicy is Pad. */
  pad?: { width: number; height: number };
  /** The frame the encoder gets. */
  width: number;
  height: number;
}

const evenDown = (n: number) => Math.max(2, Math.floor(n / 2) * 2);
const evenNear = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/**
 * Geometry of a picture of `source` size (in square pixels) inside a `max` box. `auto` maxima are the
 * service's defaults, 1920x1080.
 */
export function fitGeometry(
  source: { width: number; height: number },
  max: { width?: string | undefined; height?: string | undefined },
  sizing: string | undefined,
  padding: string | undefined,
): Geometry {
  const { width: boxW, height: boxH } = boxSize(max);
  const sw = source.width;
  const sh = source.height;
  const fit = Math.min(boxW / sw, boxH / sh);
  const fill = Math.max(boxW / sw, boxH / sh);
  const policy = (sizing ?? 'ShrinkToFit') as SizingPolicy;
  let scale: number | undefined;
  let stretch = false;
  let fitsInside = false;
  switch (policy) {
    case 'Fit':
      scale = fit;
      fitsInside = true;
      break;
    case 'Fill':
      scale = fill;
      break;
    case 'ShrinkToFill':
      scale = Math.min(1, fill);
      break;
    case 'Keep':
      scale = 1;
      break;
    case 'Stretch':
      stretch = true;
      break;
    case 'ShrinkToFit':
    default:
      scale = Math.min(1, fit);
      fitsInside = true;
  }
  const scaled = stretch
    ? { width: boxW, height: boxH }
    : { width: evenNear(sw * scale!), height: evenNear(sh * scale!) };
  // Fit-like policies never exceed the box, even after rounding to even sizes.
  if (fitsInside) {
    scaled.width = Math.min(scaled.width, boxW);
    scaled.height = Math.min(scaled.height, boxH);
  }
  const geometry: Geometry = { scaled, width: scaled.width, height: scaled.height };
  if (scaled.width > boxW || scaled.height > boxH) {
    geometry.crop = { width: Math.min(scaled.width, boxW), height: Math.min(scaled.height, boxH) };
    geometry.width = geometry.crop.width;
    geometry.height = geometry.crop.height;
  }
  if (padding === 'Pad' && (geometry.width < boxW || geometry.height < boxH)) {
    geometry.pad = { width: boxW, height: boxH };
    geometry.width = boxW;
    geometry.height = boxH;
  }
  return geometry;
}

/** The MaxWidth x MaxHeight box, even-sized. */
export function boxSize(max: { width?: string | undefined; height?: string | undefined }): {
  width: number;
  height: number;
} {
  return { width: evenDown(dimension(max.width, 1920)), height: evenDown(dimension(max.height, 1080)) };
}

function dimension(value: string | undefined, auto: number): number {
  const n = Number(value);
  return value && value !== 'auto' && Number.isFinite(n) && n > 0 ? n : auto;
}

/** The ffmpeg filters that produce a geometry, in order (scale, crop, pad). */
export function geometryFilters(source: { width: number; height: number }, g: Geometry): string[] {
  const filters: string[] = [];
  if (g.scaled.width !== source.width || g.scaled.height !== source.height)
    filters.push(`scale=${g.scaled.width}:${g.scaled.height}`);
  if (g.crop) filters.push(`crop=${g.crop.width}:${g.crop.height}`);
  if (g.pad) filters.push(`pad=${g.pad.width}:${g.pad.height}:(ow-iw)/2:(oh-ih)/2`);
  return filters;
}
