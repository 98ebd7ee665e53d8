/**
 * Open connections per client address. take() checks and counts in one step, so connections arriving at
 * the same moment cannot pass the limit together. Pure: no I/O.
 */
export class ConnectionQuota {
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Counts one more connection from the address; false (nothing counted) when it has `limit` already. */
  take(address: string): boolean {
    const n = this.open.get(address) ?? 0;
    if (n >= this.limit) return false;
    this.open.set(address, n + 1);
    return true;
  }

  /** Gives one back. */
  release(address: string): void {
    const n = (this.open.get(address) ?? 0) - 1;
    if (n > 0) this.open.set(address, n);
    else this.open.delete(address);
  }

  count(address: string): number {
    return this.open.get(address) ?? 0;
  }
}

/** The address a connection is counted under: an IPv4 client is one address whether it came over IPv4 or IPv6. Pure. */
export function clientAddressKey(remoteAddress: string): string {
  return remoteAddress.startsWith('::ffff:') && remoteAddress.includes('.')
    ? remoteAddress.slice('::ffff:'.length)
    : remoteAddress;
}
