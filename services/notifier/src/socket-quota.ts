/**
 * Open sockets per user on this process, counted at the handshake. take() checks and counts in one step,
 * so handshakes at the same moment cannot pass the limit together. Pure: no I/O.
 */
export class SocketQuota {
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Counts one more socket for the user; false (nothing counted) when they have `limit` already. */
  take(userId: string): boolean {
    const n = this.open.get(userId) ?? 0;
    if (n >= this.limit) return false;
    this.open.set(userId, n + 1);
    return true;
  }

  /** Gives one back. */
  release(userId: string): void {
    const n = (this.open.get(userId) ?? 0) - 1;
    if (n > 0) this.open.set(userId, n);
    else this.open.delete(userId);
  }

  count(userId: string): number {
    return this.open.get(userId) ?? 0;
  }
}
