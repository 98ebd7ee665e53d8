import { readFile } from 'node:fs/promises';
import { ReadPresetCommand, paginateListPresets, type Preset } from '@aws-sdk/client-elastic-transcoder';
import { createTestEnv, type TestEnv } from '@mp/testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from './support';

// Every system preset, read through the API, against the values found in real service answers
// (test/fixtures/system-presets.json names the source of each member).

interface FoundPreset {
  Id: string;
  source: Record<string, string>;
  /** The whole Preset (all but Arn) is a real answer. */
  complete: boolean;
  /** Members no answer shows: a top-level member, or "Member.Key" for one key inside it. */
  unconfirmed?: string[];
  Preset: Record<string, unknown>;
}

const fixture = JSON.parse(await readFile(new URL('./fixtures/system-presets.json', import.meta.url), 'utf8')) as {
  sources: Record<string, string>;
  presets: FoundPreset[];
};

const ACCOUNT = '123456789012';
const arnOf = (id: string) => `arn:aws:elastictranscoder:us-east-1:${ACCOUNT}:preset/${id}`;

/** The served preset cut down to what the fixture confirms for it. */
function confirmedPart(found: FoundPreset, served: Preset): Record<string, unknown> {
  const unconfirmed = found.unconfirmed ?? [];
  const out: Record<string, unknown> = {};
  for (const [member, value] of Object.entries(served as Record<string, unknown>)) {
    if (member === 'Arn' || unconfirmed.includes(member)) continue;
    const hidden = unconfirmed.filter((u) => u.startsWith(`${member}.`)).map((u) => u.slice(member.length + 1));
    out[member] =
      hidden.length && value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).filter(([k]) => !hidden.includes(k)))
        : value;
  }
  return out;
}

let t: TestEnv;
let svc: RunningApi;

beforeAll(async () => {
  t = await createTestEnv();
  svc = await startApi(t);
});
afterAll(async () => {
  await svc?.close();
  await t?.cleanup();
});

describe('system presets as the service served them', () => {
  it('has a found entry, with known sources, for every system preset ListPresets returns', async () => {
    const listed: string[] = [];
    for await (const page of paginateListPresets({ client: svc.client }, {})) {
      for (const p of page.Presets ?? []) if (p.Type === 'System') listed.push(p.Id!);
    }
    expect(listed).toEqual(fixture.presets.map((p) => p.Id));
    for (const p of fixture.presets) {
      for (const names of Object.values(p.source)) {
        for (const name of names.split(' + '))
          expect(fixture.sources, `${p.Id}: ${name}`).toHaveProperty(name.split(/[ ,]/)[0]!);
      }
    }
  });

  it.each(fixture.presets.map((p) => [p.Id, p.Preset.Name as string, p] as const))(
    'ReadPreset %s (%s) matches the service field by field',
    async (id, _name, found) => {
      const { Preset } = await svc.client.send(new ReadPresetCommand({ Id: id }));
      expect(Preset!.Arn).toBe(arnOf(id));
      if (found.complete) {
        expect(Preset).toEqual({ ...found.Preset, Arn: arnOf(id) });
      } else {
        expect(confirmedPart(found, Preset!)).toEqual(found.Preset);
      }
    },
  );

  it('lists each system preset exactly as ReadPreset answers it', async () => {
    for await (const page of paginateListPresets({ client: svc.client }, {})) {
      for (const listed of (page.Presets ?? []).filter((p) => p.Type === 'System')) {
        const { Preset } = await svc.client.send(new ReadPresetCommand({ Id: listed.Id }));
        expect(listed).toEqual(Preset);
      }
    }
  });
});
