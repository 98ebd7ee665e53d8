import type { SnsEnvelope, SnsType } from '@mp/contracts';

export type ParseEnvelopeResult =
  | { ok: true; envelope: SnsEnvelope }
  | { ok: false; code: 'SNS_MALFORMED' | 'SNS_BAD_SIGNATURE_VERSION'; message: string };

const TYPES: readonly SnsType[] = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'];

const REQUIRED = [
  'MessageId',
  'TopicArn',
  'Message',
  'Timestamp',
  'SignatureVersion',
  'Signature',
  'SigningCertURL',
] as const;
const REQUIRED_FOR_CONFIRMATION = ['SubscribeURL', 'Token'] as const;
const OPTIONAL = ['Subject', 'UnsubscribeURL', 'SubscribeURL', 'Token'] as const;

type ParseErrorCode = Extract<ParseEnvelopeResult, { ok: false }>['code'];

class Malformed extends Error {
  constructor(
    message: string,
    readonly code: ParseErrorCode = 'SNS_MALFORMED',
  ) {
    super(message);
  }
}

// SNS writes UTC with milliseconds (2012-04-26T20:45:04.751Z); Date.parse alone accepts far looser text.
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Validates an SNS HTTP body (the parsed JSON, or its text) and returns a typed envelope holding only
 * the known fields. Optional fields sent as null count as absent.
 */
export function parseEnvelope(body: unknown): ParseEnvelopeResult {
  try {
    return { ok: true, envelope: toEnvelope(body) };
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    return { ok: false, code: err.code, message: err.message };
  }
}

function toEnvelope(body: unknown): SnsEnvelope {
  const raw = typeof body === 'string' ? parseJson(body) : body;
  if (!isRecord(raw)) throw new Malformed('body must be a JSON object');

  const type = raw.Type;
  if (type === undefined || type === null) throw new Malformed('Type is required');
  if (!TYPES.includes(type as SnsType)) throw new Malformed(`Type must be one of ${TYPES.join(', ')}`);

  const required = type === 'Notification' ? REQUIRED : [...REQUIRED, ...REQUIRED_FOR_CONFIRMATION];
  for (const field of required) {
    const value = raw[field];
    if (value === undefined || value === null) throw new Malformed(`${field} is required for ${String(type)}`);
    if (typeof value !== 'string') throw new Malformed(`${field} must be a string`);
  }
  for (const field of OPTIONAL) {
    const value = raw[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw new Malformed(`${field} must be a string`);
    }
  }
  if (raw.SignatureVersion !== '1' && raw.SignatureVersion !== '2') {
    const version = JSON.stringify(raw.SignatureVersion);
    throw new Malformed(`SignatureVersion ${version} is not supported (1 or 2)`, 'SNS_BAD_SIGNATURE_VERSION');
  }
  const timestamp = raw.Timestamp as string;
  if (!ISO_UTC.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
    throw new Malformed('Timestamp must be an ISO-8601 UTC date');
  }

  const envelope: Record<string, unknown> = { Type: type };
  for (const field of [...REQUIRED, ...OPTIONAL]) {
    if (raw[field] !== undefined && raw[field] !== null) envelope[field] = raw[field];
  }
  const attributes = raw.MessageAttributes;
  if (attributes !== undefined && attributes !== null) envelope.MessageAttributes = messageAttributes(attributes);
  return envelope as unknown as SnsEnvelope;
}

function messageAttributes(value: unknown): Record<string, { Type: string; Value: string }> {
  if (!isRecord(value)) throw new Malformed('MessageAttributes must be an object');
  // fromEntries defines own properties, so an attribute named __proto__ stays data.
  return Object.fromEntries(
    Object.entries(value).map(([name, attribute]) => {
      if (!isRecord(attribute) || typeof attribute.Type !== 'string' || typeof attribute.Value !== 'string') {
        throw new Malformed(`MessageAttributes.${name} must have string Type and Value`);
      }
      return [name, { Type: attribute.Type, Value: attribute.Value }];
    }),
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Malformed('body is not valid JSON');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
