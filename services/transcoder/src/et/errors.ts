// The error shapes of the Elastic Transcoder model, with their HTTP status. SDKs read the type from the
// x-amzn-ErrorType header and the text from the body's `message`.
export const EtErrorStatus = {
  ValidationException: 400,
  IncompatibleVersionException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ResourceInUseException: 409,
  LimitExceededException: 429,
  InternalServiceException: 500,
} as const;

export type EtErrorType = keyof typeof EtErrorStatus;

export class EtError extends Error {
  constructor(
    readonly type: EtErrorType,
    message: string,
  ) {
    super(message);
    this.name = type;
  }

  get statusCode(): number {
    return EtErrorStatus[this.type];
  }
}

export const validationError = (message: string) => new EtError('ValidationException', message);

/** The service's "1 validation error detected" sentence, naming the member at fault. */
export function constraintViolation(path: string, value: unknown, constraint: string): EtError {
  return validationError(
    `1 validation error detected: Value ${describeValue(value)} at '${path}' failed to satisfy constraint: ${constraint}`,
  );
}

function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `'${text.length > 200 ? `${text.slice(0, 200)}…` : text}'`;
}
