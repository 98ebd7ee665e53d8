// Every variable a service reads is listed in .env.example and described in that service's README, so the
// two stay true as settings are added.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from '@mp/config';
import { NotifierConfigSchema } from '@mp/notifier';
import { configSchema as snsIngest } from '@mp/sns-ingest/src/config';
import { configSchema as dispatch } from '@mp/transcode-dispatch/src/config';
import { configSchema as transcoder } from '../../../services/transcoder/src/config';
import { configSchema as gateway } from '@mp/upload-gateway/src/config';
import { configSchema as dropFolder } from '../../../services/drop-folder/src/config';
import { configSchema as composeInit } from '../src/config';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** The variable names of a config schema, through refinements and transforms. */
function variables(schema: z.ZodType): string[] {
  const def = schema._zod.def as { shape?: Record<string, unknown>; in?: z.ZodType };
  if (def.shape) return Object.keys(def.shape);
  if (def.in) return variables(def.in);
  throw new Error(`not an object schema: ${def.constructor.name}`);
}

/** Each service with the document that describes its settings (compose-init's are in docker-compose.yml). */
const services: Array<{ name: string; schema: z.ZodType; docs: string }> = [
  { name: 'upload-gateway', schema: gateway, docs: 'services/upload-gateway/README.md' },
  { name: 'transcoder', schema: transcoder, docs: 'services/transcoder/README.md' },
  { name: 'transcode-dispatch', schema: dispatch, docs: 'services/transcode-dispatch/README.md' },
  { name: 'sns-ingest', schema: snsIngest, docs: 'services/sns-ingest/README.md' },
  { name: 'notifier', schema: NotifierConfigSchema, docs: 'services/notifier/README.md' },
  { name: 'drop-folder', schema: dropFolder, docs: 'services/drop-folder/README.md' },
  { name: 'compose-init', schema: composeInit, docs: 'docker-compose.yml' },
];

/** Names set (`NAME=`) or shown commented out (`# NAME=`) in .env.example. */
const listed = new Set([...read('.env.example').matchAll(/^(?:# )?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));

describe('.env.example and the READMEs', () => {
  it.each(services)('list every variable of $name', ({ schema, docs }) => {
    const names = variables(schema);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !listed.has(n))).toEqual([]);
    const text = read(docs);
    expect(names.filter((n) => !text.includes(n))).toEqual([]);
  });

  it('name the shutdown bound SHUTDOWN_TIMEOUT_MS wherever a service has one', () => {
    const all = services.flatMap((s) => variables(s.schema));
    expect(all.filter((n) => /^SHUTDOWN_/.test(n) && n !== 'SHUTDOWN_TIMEOUT_MS')).toEqual([]);
    expect(all).toContain('SHUTDOWN_TIMEOUT_MS');
  });
});
