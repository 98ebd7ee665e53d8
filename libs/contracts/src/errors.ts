/** The error body every HTTP service answers: a machine-readable code and a sentence. */
export interface ErrorBody {
  error: { code: string; message: string };
}

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}
