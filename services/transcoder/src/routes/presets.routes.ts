import type { FastifyInstance } from 'fastify';
import { isSystemPresetId, systemPresets } from '../engine/system-presets';
import { EtError } from '../et/errors';
import { newId } from '../et/ids';
import { pageOf, pageQuery } from '../et/paging';
import { checkPresetRules } from '../et/preset-rules';
import { CreatePresetRequest, parseRequest } from '../et/shapes';
import { customPresetToWire } from '../et/wire';
import { jsonBody, pathId, query, type ApiContext } from './context';

/** Custom presets an account may hold (limits.md). */
const MAX_CUSTOM_PRESETS = 50;

export const presetNotFound = (accountId: string, id: string) =>
  new EtError('ResourceNotFoundException', `The specified preset was not found: account=${accountId}, presetId=${id}.`);

export function presetRoutes(app: FastifyInstance, ctx: ApiContext) {
  // CreatePreset
  app.post('/presets', async (req, reply) => {
    const body = parseRequest(CreatePresetRequest, jsonBody(req));
    checkPresetRules(body);
    if ((await ctx.presets.count()) >= MAX_CUSTOM_PRESETS) {
      throw new EtError(
        'LimitExceededException',
        `You have reached the limit of ${MAX_CUSTOM_PRESETS} custom presets; delete one first.`,
      );
    }
    const row = await ctx.presets.create({
      id: newId(),
      name: body.Name,
      description: body.Description ?? null,
      container: body.Container,
      audio: body.Audio ?? null,
      video: body.Video ?? null,
      thumbnails: body.Thumbnails ?? null,
    });
    return reply.code(201).send({ Preset: customPresetToWire(row, ctx.scope) });
  });

  // ListPresets: system presets, then custom ones, in Id order.
  app.get('/presets', async (req) => {
    const custom = (await ctx.presets.all()).map((p) => customPresetToWire(p, ctx.scope));
    const all = [...systemPresets(ctx.scope.region, ctx.scope.accountId), ...custom];
    const { page, next } = pageOf(all, pageQuery(query(req), true));
    return { Presets: page, ...(next ? { NextPageToken: next } : {}) };
  });

  // ReadPreset
  app.get('/presets/:Id', async (req) => {
    const id = pathId(req);
    const preset = await ctx.presets.find(id, ctx.scope);
    if (!preset) throw presetNotFound(ctx.scope.accountId, id);
    return { Preset: preset };
  });

  // DeletePreset
  app.delete('/presets/:Id', async (req, reply) => {
    const id = pathId(req);
    if (isSystemPresetId(id)) {
      throw new EtError(
        'AccessDeniedException',
        `You attempted to delete a system preset, which is not allowed: presetId=${id}.`,
      );
    }
    if (!(await ctx.presets.delete(id))) throw presetNotFound(ctx.scope.accountId, id);
    return reply.code(202).send({});
  });
}
