import type { FastifyInstance } from 'fastify';
import { EtError, validationError } from '../et/errors';
import { newId } from '../et/ids';
import { pageQuery } from '../et/paging';
import {
  CreatePipelineRequest,
  UpdatePipelineNotificationsRequest,
  UpdatePipelineRequest,
  UpdatePipelineStatusRequest,
  parseRequest,
  type PipelineNotifications,
  type PipelineOutputConfig,
} from '../et/shapes';
import { pipelineToWire } from '../et/wire';
import type { PipelineChanges } from '../pipelines.repository';
import { jsonBody, pathId, query, type ApiContext } from './context';

export function pipelineRoutes(app: FastifyInstance, ctx: ApiContext) {
  const notFound = (id: string) =>
    new EtError(
      'ResourceNotFoundException',
      `The specified pipeline was not found: account=${ctx.scope.accountId}, pipelineId=${id}.`,
    );
  const wire = (p: Parameters<typeof pipelineToWire>[0]) => pipelineToWire(p, ctx.scope);

  // CreatePipeline
  app.post('/pipelines', async (req, reply) => {
    const body = parseRequest(CreatePipelineRequest, jsonBody(req));
    checkOutputConfig(body.OutputBucket, body.ContentConfig, body.ThumbnailConfig);
    const pipeline = await ctx.pipelines.create({
      id: newId(),
      name: body.Name,
      status: 'Active',
      inputBucket: body.InputBucket,
      outputBucket: body.OutputBucket ?? body.ContentConfig?.Bucket ?? null,
      role: body.Role,
      awsKmsKeyArn: body.AwsKmsKeyArn ?? null,
      notifications: notifications(body.Notifications),
      contentConfig: body.ContentConfig ?? { Bucket: body.OutputBucket },
      thumbnailConfig: { ...body.ThumbnailConfig, Bucket: body.ThumbnailConfig?.Bucket ?? body.OutputBucket },
    });
    return reply.code(201).send({ Pipeline: wire(pipeline), Warnings: [] });
  });

  // ListPipelines
  app.get('/pipelines', async (req) => {
    const { rows, next } = await ctx.pipelines.list(pageQuery(query(req), true));
    return { Pipelines: rows.map(wire), ...(next ? { NextPageToken: next } : {}) };
  });

  // ReadPipeline
  app.get('/pipelines/:Id', async (req) => {
    const id = pathId(req);
    const pipeline = await ctx.pipelines.get(id);
    if (!pipeline) throw notFound(id);
    return { Pipeline: wire(pipeline), Warnings: [] };
  });

  // UpdatePipeline
  app.put('/pipelines/:Id', async (req) => {
    const id = pathId(req);
    const body = parseRequest(UpdatePipelineRequest, jsonBody(req));
    const current = await ctx.pipelines.get(id);
    if (!current) throw notFound(id);
    const changes: PipelineChanges = {};
    if (body.Name !== undefined) changes.name = body.Name;
    if (body.InputBucket !== undefined) changes.inputBucket = body.InputBucket;
    if (body.Role !== undefined) changes.role = body.Role;
    if (body.AwsKmsKeyArn !== undefined) changes.awsKmsKeyArn = body.AwsKmsKeyArn;
    if (body.Notifications !== undefined) changes.notifications = notifications(body.Notifications);
    if (body.ContentConfig !== undefined) {
      if (!body.ContentConfig.Bucket) throw validationError('[ContentConfig:Bucket is not allowed to be null.]');
      changes.contentConfig = body.ContentConfig;
      changes.outputBucket = body.ContentConfig.Bucket;
    }
    if (body.ThumbnailConfig !== undefined) {
      if (!body.ThumbnailConfig.Bucket) throw validationError('[ThumbnailConfig:Bucket is not allowed to be null.]');
      changes.thumbnailConfig = body.ThumbnailConfig;
    }
    const updated = await ctx.pipelines.update(id, changes);
    if (!updated) throw notFound(id);
    return { Pipeline: wire(updated), Warnings: [] };
  });

  // DeletePipeline
  app.delete('/pipelines/:Id', async (req, reply) => {
    const id = pathId(req);
    const outcome = await ctx.pipelines.deleteIfIdle(id);
    if (outcome === 'missing') throw notFound(id);
    if (outcome === 'in-use') {
      throw new EtError(
        'ResourceInUseException',
        `The pipeline ${id} has jobs that are Submitted or Progressing; it cannot be deleted until they finish.`,
      );
    }
    return reply.code(202).send({});
  });

  // UpdatePipelineNotifications
  app.post('/pipelines/:Id/notifications', async (req) => {
    const id = pathId(req);
    const body = parseRequest(UpdatePipelineNotificationsRequest, jsonBody(req));
    const updated = await ctx.pipelines.update(id, { notifications: notifications(body.Notifications) });
    if (!updated) throw notFound(id);
    return { Pipeline: wire(updated) };
  });

  // UpdatePipelineStatus
  app.post('/pipelines/:Id/status', async (req) => {
    const id = pathId(req);
    const body = parseRequest(UpdatePipelineStatusRequest, jsonBody(req));
    const updated = await ctx.pipelines.update(id, { status: body.Status });
    if (!updated) throw notFound(id);
    return { Pipeline: wire(updated) };
  });
}

/** All four topics, "" for off, as the service returns them. */
function notifications(n: Partial<PipelineNotifications> | undefined): PipelineNotifications {
  return {
    Progressing: n?.Progressing ?? '',
    Completed: n?.Completed ?? '',
    Warning: n?.Warning ?? '',
    Error: n?.Error ?? '',
  };
}

// The service's rules on where outputs go (moto mirrors the same messages).
function checkOutputConfig(outputBucket?: string, content?: PipelineOutputConfig, thumbnails?: PipelineOutputConfig) {
  if (outputBucket && content) throw validationError('[OutputBucket and ContentConfig are mutually exclusive.]');
  if (content && !thumbnails?.Bucket)
    throw validationError('[ThumbnailConfig:Bucket is not allowed to be null if ContentConfig is specified.]');
  if (!outputBucket && !content?.Bucket)
    throw validationError('[OutputBucket and ContentConfig:Bucket are not allowed to both be null.]');
}
