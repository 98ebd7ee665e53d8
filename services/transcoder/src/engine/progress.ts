/**
 * The one progress throttle: whole percentages from 0 to 99 (100 is the caller's, once the outputs are
 * stored), each passed on only when it is above the last one passed and at least `minIntervalMs` after it.
 */
export function progressThrottle(
  onProgress: (pct: number) => void,
  opts: { minIntervalMs?: number; now?: () => number } = {},
): (pct: number) => void {
  const minIntervalMs = opts.minIntervalMs ?? 0;
  const now = opts.now ?? Date.now;
  let lastPct = -1;
  let lastAt = -Infinity;
  return (pct) => {
    const rounded = Math.max(0, Math.min(99, Math.floor(pct)));
    if (!Number.isFinite(rounded) || rounded <= lastPct) return;
    const at = now();
    if (at - lastAt < minIntervalMs) return;
    lastPct = rounded;
    lastAt = at;
    onProgress(rounded);
  };
}
