// The upload-gateway's HTTP API as its clients see it (services/upload-gateway/src/routes). The gateway's
// own answers are typed with these, so a change to them is a compile error in every client.
import type { MediaKind, MediaStatus, OutputStatus } from './media';

/** POST /v1/users (admin token). */
export interface CreateUserRequest {
  name: string;
}

/** The answer to POST /v1/users: the token is shown this once; the server keeps only its hash. */
export interface CreatedUser {
  id: string;
  name: string;
  token: string;
}

export interface OutputDto {
  id: string;
  format: string;
  status: OutputStatus;
  statusDetail: string | null;
  contentType: string | null;
  size: number | null;
  durationMs: number | null;
  width: number | null;
  height: number | null;
}

/** A media as GET /v1/media lists it. */
export interface MediaDto {
  id: string;
  name: string;
  kind: MediaKind;
  contentType: string;
  size: number;
  sha256: string | null;
  status: MediaStatus;
  statusDetail: string | null;
  progress: number | null;
  createdAt: string;
  updatedAt: string;
}

/** A media with its outputs, as GET /v1/media/:id and POST /v1/media answer it. */
export interface MediaWithOutputs extends MediaDto {
  outputs: OutputDto[];
}

/** GET /v1/media?cursor=&limit=: newest first. */
export interface MediaPage {
  items: MediaDto[];
  nextCursor: string | null;
}

/** GET /v1/media/:id/outputs/:outputId/download?redirect=false */
export interface DownloadLink {
  url: string;
}
