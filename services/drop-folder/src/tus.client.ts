import { createReadStream } from 'node:fs';
import * as tus from 'tus-js-client';
import { GatewayError } from '@mp/contracts';

type UrlStorage = NonNullable<tus.UploadOptions['urlStorage']>;
// Exported by tus-js-client for Node, but missing from its type declarations.
const { FileUrlStorage } = tus as unknown as { FileUrlStorage: new (file: string) => UrlStorage };

export interface ResumableUploadOptions {
  gatewayUrl: string;
  token: string;
  /** Where upload URLs are kept between runs (tus-js-client's file URL storage), keyed by checksum. */
  urlFile: string;
}

/**
 * Sends a file through the gateway's resumable (tus) endpoint. An upload of the same bytes begun before, by this
 * process or one before a restart, is found by checksum in the URL file and resumed from where the gateway
 * stands; one the gateway no longer has is started anew. Resolves with the id of the media it became. Cut short
 * (the signal), the upload stays on the gateway for the next attempt; refused, it fails with the gateway's error.
 */
export function uploadResumable(
  o: ResumableUploadOptions,
  file: string,
  name: string,
  sha256: string,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let mediaId: string | null = null;
    const upload = new tus.Upload(createReadStream(file), {
      endpoint: `${o.gatewayUrl.replace(/\/$/, '')}/v1/uploads`,
      headers: { authorization: `Bearer ${o.token}` },
      metadata: { filename: name },
      urlStorage: new FileUrlStorage(o.urlFile),
      fingerprint: async () => `drop-folder:${sha256}:${o.gatewayUrl}`,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      // The drop folder's own retry policy tries again; each try resumes.
      retryDelays: [],
      onAfterResponse: (_req, res) => {
        mediaId = res.getHeader('Media-Id') ?? mediaId;
      },
      onSuccess: () => {
        if (mediaId) resolve(mediaId);
        else reject(new GatewayError(null, 'NO_MEDIA_ID', 'the gateway did not name the media of the upload'));
      },
      onError: (err) => reject(asGatewayError(err)),
    });
    const onAbort = () => {
      void upload.abort(false);
      reject(new GatewayError(null, 'ABORTED', 'upload cut short; it resumes on the next try'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    upload
      .findPreviousUploads()
      .then((previous) => {
        if (previous[0]) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      })
      .catch((err: unknown) => reject(asGatewayError(err)));
  });
}

/** tus-js-client's error as the gateway client's: the status and the project's `{ error: { code, message } }`. */
function asGatewayError(err: unknown): GatewayError {
  const res = err instanceof tus.DetailedError ? err.originalResponse : null;
  if (!res) return new GatewayError(null, 'NETWORK', (err as Error).message);
  const status = res.getStatus();
  let code = `HTTP_${status}`;
  let message = `the gateway answered ${status}`;
  try {
    const body = JSON.parse(res.getBody()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not the JSON error shape: keep the status
  }
  return new GatewayError(status, code, message);
}
