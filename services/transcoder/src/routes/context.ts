import type { S3Client } from '@aws-sdk/client-s3';
import type { FastifyRequest } from 'fastify';
import type { TranscoderConfig } from '../config';
import { constraintViolation, validationError } from '../et/errors';
import { ID_PATTERN, type ArnScope } from '../et/ids';
import type { JobsRepository } from '../jobs.repository';
import type { PipelinesRepository } from '../pipelines.repository';
import type { PresetsRepository } from '../presets.repository';
import type { TranscoderQueues } from '../queues';

/** What the API routes share. */
export interface ApiContext {
  config: TranscoderConfig;
  scope: ArnScope;
  pipelines: PipelinesRepository;
  presets: PresetsRepository;
  jobs: JobsRepository;
  queues: TranscoderQueues;
  s3: S3Client;
}

/** The request body as a JSON object; an unreadable body is the service's ValidationException. */
export function jsonBody(req: FastifyRequest): unknown {
  const raw = req.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw validationError(`The request body is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw validationError(
      'Start of structure or map found where not expected: the request body must be a JSON object.',
    );
  }
  return parsed;
}

/** A path Id, checked against the service's Id pattern. */
export function pathId(req: FastifyRequest, name = 'Id'): string {
  const value = (req.params as Record<string, string>)[name] ?? '';
  if (!ID_PATTERN.test(value)) {
    throw constraintViolation(
      name.charAt(0).toLowerCase() + name.slice(1),
      value,
      'Member must satisfy regular expression pattern: ^\\d{13}-\\w{6}$',
    );
  }
  return value;
}

export const query = (req: FastifyRequest) => req.query as Record<string, unknown>;
