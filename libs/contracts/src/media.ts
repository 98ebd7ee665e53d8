export const MediaKind = ['audio', 'video', 'image'] as const;
export type MediaKind = (typeof MediaKind)[number];

/** uploaded → queued → processing → complete | failed */
export const MediaStatus = ['uploaded', 'queued', 'processing', 'complete', 'failed'] as const;
export type MediaStatus = (typeof MediaStatus)[number];

export const OutputStatus = ['pending', 'progressing', 'complete', 'error'] as const;
export type OutputStatus = (typeof OutputStatus)[number];
