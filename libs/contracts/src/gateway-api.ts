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

/**
 * What an output is for the page: a file to play or view and download (`audio`, `video`, `image`), or a
 * rendition of the HLS stream (`stream`: played through GET /v1/media/:id/stream, not downloaded).
 */
export type OutputKind = 'audio' | 'video' | 'image' | 'stream';

export interface OutputDto {
  id: string;
  format: string;
  kind: OutputKind;
  /** The format in words ("AAC audio", "MP4 video, 480p", "Half-size image"). */
  label: string;
  status: OutputStatus;
  statusDetail: string | null;
  contentType: string | null;
  size: number | null;
  durationMs: number | null;
  width: number | null;
  height: number | null;
}

/** A media as GET /v1/media lists it. */
/** Why a media failed, in words: `message` says what happened and what to do; `detail` is the engine's text. */
export interface MediaFailure {
  message: string;
  detail: string | null;
}

export interface MediaDto {
  id: string;
  /** The name as stored (sanitised for object keys and file names). */
  name: string;
  /** The file name exactly as it was uploaded, for display; `name` when it was not kept. */
  originalName: string;
  kind: MediaKind;
  contentType: string;
  size: number;
  sha256: string | null;
  status: MediaStatus;
  statusDetail: string | null;
  progress: number | null;
  createdAt: string;
  updatedAt: string;
  /** Set when status is failed. */
  failure: MediaFailure | null;
}

/** A media with its outputs, as GET /v1/media/:id and POST /v1/media answer it. */
export interface MediaWithOutputs extends MediaDto {
  outputs: OutputDto[];
  /** A short-lived URL of a picture of it (an image's small copy, a video's poster), when there is one. */
  previewUrl: string | null;
  /** True when the video's HLS stream is ready: GET /v1/media/:id/stream gives its address. */
  streamable: boolean;
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

/**
 * GET /v1/media/:id/stream: where a player starts. `masterUrl` carries a short-lived signed playback token, so it
 * and the variant playlists it names load without an Authorization header; their segments are presigned S3 GETs.
 * Another user's or an unknown media answers 404 NOT_FOUND; one with no stream (yet) 409 STREAM_NOT_READY.
 */
export interface StreamLink {
  masterUrl: string;
  /** After this the playlists answer 403 PLAYBACK_TOKEN_EXPIRED: ask for a new link. */
  expiresAt: string;
}

/** The codes of a refused playback token (403), beside NOT_FOUND (404) for another user's or a missing media. */
export type PlaybackErrorCode = 'BAD_PLAYBACK_TOKEN' | 'PLAYBACK_TOKEN_EXPIRED';

/** GET /config.json (no auth): the public base URLs the page talks to, resolved for the host it was loaded from. */
export interface PublicConfig {
  gatewayUrl: string;
  notifierUrl: string;
}
