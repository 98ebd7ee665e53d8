import type { EtAudioParameters, EtPreset, EtThumbnails, EtVideoParameters } from './types';
import table from './system-presets.json' with { type: 'json' };

// The Elastic Transcoder system presets are data: system-presets.json holds every one as ReadPreset served it
// (where each value comes from is in its "about" and "notes"), without the four watermark slots that every
// video preset has, added here.

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

interface Row {
  id: string;
  name: string;
  description: string;
  container: string;
  audio?: EtAudioParameters;
  video?: Omit<EtVideoParameters, 'Watermarks'>;
  thumbnails?: EtThumbnails;
}

const P = '1351620000001-';
const sys = (text: string) => `System preset: ${text}`;

// The JSON is checked against the fixture of real answers by test/system-presets.test.ts.
const ROWS = table.presets as Row[];

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
    ...(row.video ? { Video: { ...row.video, Watermarks: WATERMARK_SLOTS } } : {}),
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
