import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { JobPlaylist } from '../db/schema';
import { EtError, constraintViolation, validationError } from '../et/errors';
import { newId } from '../et/ids';
import { pageQuery } from '../et/paging';
import { checkPlaylists, checkSegments, type OutputWithContainer } from '../et/playlist-rules';
import {
  CreateJobRequest,
  JobStatus,
  parseRequest,
  type CreateJobOutputSpec,
  type CreateJobPlaylistSpec,
  type JobInputSpec,
} from '../et/shapes';
import { jobToWire } from '../et/wire';
import { jsonBody, pathId, query, type ApiContext } from './context';
import { presetNotFound } from './presets.routes';

// S3 limits a key to 1024 bytes; control characters have no place in one.
const MAX_KEY_BYTES = 1024;
const CONTROL = /[\u0000-\u001f\u007f]/;

export function jobRoutes(app: FastifyInstance, ctx: ApiContext) {
  const wire = (j: Parameters<typeof jobToWire>[0]) => jobToWire(j, ctx.scope);
  const pipelineNotFound = (id: string) =>
    new EtError(
      'ResourceNotFoundException',
      `The specified pipeline was not found: account=${ctx.scope.accountId}, pipelineId=${id}.`,
    );

  // CreateJob: validate, record as Submitted, queue. The work happens in a worker.
  app.post('/jobs', async (req, reply) => {
    const body = parseRequest(CreateJobRequest, jsonBody(req));
    const input = singleInput(body);
    const outputs = outputList(body);
    checkKeys(body.OutputKeyPrefix, input, outputs);
    refuseUnsupported(input, outputs);
    if (!(await ctx.pipelines.get(body.PipelineId))) throw pipelineNotFound(body.PipelineId);
    const withContainers: OutputWithContainer[] = [];
    for (const o of outputs) {
      const preset = await ctx.presets.find(o.PresetId, ctx.scope);
      if (!preset) throw presetNotFound(ctx.scope.accountId, o.PresetId);
      withContainers.push({ spec: o, container: preset.Container ?? 'mp4', preset });
    }
    checkSegments(withContainers, body.OutputKeyPrefix);
    checkPlaylists(body.Playlists ?? [], withContainers, body.OutputKeyPrefix);
    const now = Date.now();
    const job = await ctx.jobs.create(
      {
        id: newId(now),
        pipelineId: body.PipelineId,
        status: 'Submitted',
        input,
        outputKeyPrefix: body.OutputKeyPrefix ?? null,
        userMetadata: body.UserMetadata ?? null,
        playlists: (body.Playlists ?? []).map(jobPlaylist),
        submitTimeMillis: now,
      },
      outputs.map((o, i) => ({ outputId: String(i + 1), position: i, spec: o, key: o.Key, presetId: o.PresetId })),
    );
    if (!job) throw pipelineNotFound(body.PipelineId);
    // A lost enqueue is not lost work: the worker's sweep queues every Submitted job it finds.
    await ctx.queues
      .enqueueJob(job.id)
      .catch((err: Error) =>
        req.log.warn({ err: err.message, etJobId: job.id }, 'enqueue failed; the sweep will queue it'),
      );
    return reply.code(201).send({ Job: withoutGeneratedKeys(wire(job), job.playlists) });
  });

  // ReadJob
  app.get('/jobs/:Id', async (req) => {
    const id = pathId(req);
    const job = await ctx.jobs.get(id);
    if (!job)
      throw new EtError(
        'ResourceNotFoundException',
        `The specified job was not found: account=${ctx.scope.accountId}, jobId=${id}.`,
      );
    return { Job: wire(job) };
  });

  // CancelJob: only while Submitted.
  app.delete('/jobs/:Id', async (req, reply) => {
    const id = pathId(req);
    const outcome = await ctx.jobs.cancel(id, Date.now());
    if (outcome === 'missing') {
      throw new EtError(
        'ResourceNotFoundException',
        `The specified job was not found: account=${ctx.scope.accountId}, jobId=${id}.`,
      );
    }
    if (outcome !== 'canceled') {
      throw new EtError(
        'ResourceInUseException',
        `The job ${id} cannot be canceled because its status is ${outcome}; only a Submitted job can be canceled.`,
      );
    }
    return reply.code(202).send({});
  });

  // ListJobsByPipeline: newest first unless Ascending=true.
  app.get('/jobsByPipeline/:PipelineId', async (req) => {
    const pipelineId = pathId(req, 'PipelineId');
    const page = pageQuery(query(req), false);
    if (!(await ctx.pipelines.get(pipelineId))) throw pipelineNotFound(pipelineId);
    const { rows, next } = await ctx.jobs.listByPipeline(pipelineId, page);
    return { Jobs: rows.map(wire), ...(next ? { NextPageToken: next } : {}) };
  });

  // ListJobsByStatus
  app.get('/jobsByStatus/:Status', async (req) => {
    const { Status: status } = parseRequest(z.object({ Status: JobStatus }), {
      Status: (req.params as { Status: string }).Status,
    });
    const { rows, next } = await ctx.jobs.listByStatus(status, pageQuery(query(req), false));
    return { Jobs: rows.map(wire), ...(next ? { NextPageToken: next } : {}) };
  });
}

/**
 * Settings the engine cannot honour yet are refused rather than ignored: an output asked to be encrypted
 * must never be written in the clear, and a clip must not silently become the whole input.
 */
function refuseUnsupported(input: JobInputSpec, outputs: CreateJobOutputSpec[]) {
  const refuse = (member: string) =>
    validationError(`[${member} is not supported by this engine yet; submit the job without it.]`);
  for (const member of ['Encryption', 'TimeSpan', 'InputCaptions'] as const)
    if (input[member] !== undefined) throw refuse(`Input:${member}`);
  outputs.forEach((o, i) => {
    for (const member of [
      'Encryption',
      'ThumbnailEncryption',
      'Watermarks',
      'AlbumArt',
      'Composition',
      'Captions',
    ] as const) {
      if (o[member] !== undefined) throw refuse(`Outputs:${i + 1}:${member}`);
    }
  });
}

/** A playlist as recorded: Submitted, with the content protection key the job gave or a new random one. */
function jobPlaylist(p: CreateJobPlaylistSpec): JobPlaylist {
  const base: JobPlaylist = { Name: p.Name, Format: p.Format, OutputKeys: p.OutputKeys, Status: 'Submitted' };
  const cp = p.HlsContentProtection;
  if (!cp) return base;
  const generated = !cp.Key;
  const key = generated ? randomBytes(16) : Buffer.from(cp.Key!, 'base64');
  const policy = (cp.KeyStoragePolicy ?? 'NoStore') as 'NoStore' | 'WithVariantPlaylists';
  return {
    ...base,
    HlsContentProtection: {
      Method: 'aes-128',
      Key: key.toString('base64'),
      KeyMd5: createHash('md5').update(key).digest('base64'),
      InitializationVector: generated ? randomBytes(16).toString('base64') : cp.InitializationVector!,
      ...(cp.LicenseAcquisitionUrl ? { LicenseAcquisitionUrl: cp.LicenseAcquisitionUrl } : {}),
      KeyStoragePolicy: policy,
    },
    ...(generated ? { KeyGenerated: true } : {}),
  };
}

/** CreateJob leaves out a generated key; ReadJob shows it (job-settings.md, "Key"). */
function withoutGeneratedKeys<T extends { Playlists?: Array<{ HlsContentProtection?: object }> }>(
  job: T,
  playlists: JobPlaylist[],
): T {
  return {
    ...job,
    Playlists: job.Playlists?.map((p, i) => {
      if (!playlists[i]?.KeyGenerated || !p.HlsContentProtection) return p;
      const {
        Key: _key,
        KeyMd5: _md5,
        InitializationVector: _iv,
        ...rest
      } = p.HlsContentProtection as Record<string, unknown>;
      return { ...p, HlsContentProtection: rest };
    }),
  };
}

function singleInput(body: CreateJobRequest): JobInputSpec {
  if (body.Input && body.Inputs?.length)
    throw validationError('[Input and Inputs are mutually exclusive; specify one.]');
  const inputs = body.Inputs ?? (body.Input ? [body.Input] : []);
  if (inputs.length === 0) throw constraintViolation('input', undefined, 'Member must not be null');
  if (inputs.length > 1)
    throw validationError(
      '[Only one input per job is supported by this engine; clip stitching (several Inputs) is not.]',
    );
  return inputs[0]!;
}

function outputList(body: CreateJobRequest): CreateJobOutputSpec[] {
  if (body.Output && body.Outputs?.length)
    throw validationError('[Output and Outputs are mutually exclusive; specify one.]');
  const outputs = body.Outputs ?? (body.Output ? [body.Output] : []);
  if (outputs.length === 0) throw constraintViolation('outputs', undefined, 'Member must not be null');
  return outputs;
}

function checkKeys(prefix: string | undefined, input: JobInputSpec, outputs: CreateJobOutputSpec[]) {
  if (CONTROL.test(input.Key))
    throw constraintViolation('input.key', input.Key, 'Member must not contain control characters');
  if (prefix !== undefined && CONTROL.test(prefix))
    throw constraintViolation('outputKeyPrefix', prefix, 'Member must not contain control characters');
  const seen = new Set<string>();
  outputs.forEach((o, i) => {
    const path = `outputs.${i + 1}.member.key`;
    if (CONTROL.test(o.Key)) throw constraintViolation(path, o.Key, 'Member must not contain control characters');
    if (Buffer.byteLength(`${prefix ?? ''}${o.Key}`) > MAX_KEY_BYTES) {
      throw constraintViolation(path, o.Key, `OutputKeyPrefix + Key must be at most ${MAX_KEY_BYTES} bytes`);
    }
    if (seen.has(o.Key))
      throw validationError(`[Outputs must have unique keys: the key '${o.Key}' appears more than once (${path}).]`);
    seen.add(o.Key);
    if (o.ThumbnailPattern && CONTROL.test(o.ThumbnailPattern)) {
      throw constraintViolation(
        `outputs.${i + 1}.member.thumbnailPattern`,
        o.ThumbnailPattern,
        'Member must not contain control characters',
      );
    }
  });
}
