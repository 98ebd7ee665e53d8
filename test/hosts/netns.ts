import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ip = (...args: string[]) => run('ip', args).then((r) => r.stdout);

/** One host of the test network: a network namespace with one address on the shared bridge. */
export interface NetHost {
  name: 'a' | 'b' | 'c';
  netns: string;
  address: string;
}

export interface TestNetwork {
  hosts: Record<NetHost['name'], NetHost>;
  /** This process's own address on the bridge (it plays the user, and the operator who creates the bucket). */
  hostAddress: string;
  subnet: string;
  destroy(): Promise<void>;
}

/** Why this machine cannot run the test, or null when it can (root, and `ip netns` works). */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'needs root: it makes network namespaces, veth pairs and a bridge';
  // Root without CAP_SYS_ADMIN (some containers) lists namespaces but cannot make one: try making one.
  const probe = `mp-hosts-probe-${randomBytes(3).toString('hex')}`;
  try {
    await ip('netns', 'add', probe);
  } catch (err) {
    return `\`ip netns\` is unavailable here: ${(err as Error).message.split('\n')[0]}`;
  }
  await ip('netns', 'del', probe);
  return null;
}

/** A /24 of 10.77.0.0/16 that no interface or route of this machine uses yet. */
async function freeSubnet(): Promise<number> {
  const used = (await ip('-4', 'route', 'show')) + (await ip('-4', 'addr', 'show'));
  for (let attempt = 0; attempt < 50; attempt++) {
    const n = 1 + Math.floor(Math.random() * 250);
    if (!used.includes(`10.77.${n}.`)) return n;
  }
  throw new Error('no free /24 in 10.77.0.0/16');
}

/**
 * Three hosts (a, b, c) as network namespaces, each with its own loopback and one veth into a bridge. The bridge
 * is in a fourth namespace of its own, so that no firewall of this machine sees the traffic between hosts (with
 * br_netfilter, bridged frames cross the bridge namespace's FORWARD chain, which Docker sets to DROP); one more
 * veth gives this process an address on the network. Everything made here is named with one random id, and
 * destroy() removes exactly that.
 */
export async function createTestNetwork(): Promise<TestNetwork> {
  const id = randomBytes(3).toString('hex');
  const n = await freeSubnet();
  const subnet = `10.77.${n}.0/24`;
  const sw = `mp-hosts-${id}-net`;
  const hosts = {
    a: { name: 'a', netns: `mp-hosts-${id}-a`, address: `10.77.${n}.1` },
    b: { name: 'b', netns: `mp-hosts-${id}-b`, address: `10.77.${n}.2` },
    c: { name: 'c', netns: `mp-hosts-${id}-c`, address: `10.77.${n}.3` },
  } satisfies Record<string, NetHost>;
  const hostAddress = `10.77.${n}.254`;
  const here = `mph${id}`;
  const made = { netns: [] as string[], links: [] as string[] };

  // Should this process end without destroy(), the namespaces and links go with it.
  const destroySync = () => {
    for (const args of [
      ...made.netns.map((ns) => ['netns', 'del', ns]),
      ...made.links.map((l) => ['link', 'del', l]),
    ]) {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {
        // Already gone (a veth goes with its namespace).
      }
    }
  };
  process.once('exit', destroySync);
  const destroy = async () => {
    for (const ns of made.netns) await ip('netns', 'del', ns).catch(() => {});
    for (const link of made.links) await ip('link', 'del', link).catch(() => {});
    process.off('exit', destroySync);
  };
  try {
    await ip('netns', 'add', sw);
    made.netns.push(sw);
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', sw, 'link', 'set', 'br0', 'up');
    // This process's own port on the switch.
    await ip('link', 'add', here, 'type', 'veth', 'peer', 'name', 'up0', 'netns', sw);
    made.links.push(here);
    await ip('addr', 'add', `${hostAddress}/24`, 'dev', here);
    await ip('link', 'set', here, 'up');
    await ip('-n', sw, 'link', 'set', 'up0', 'master', 'br0', 'up');
    for (const h of Object.values(hosts)) {
      await ip('netns', 'add', h.netns);
      made.netns.push(h.netns);
      await ip('-n', sw, 'link', 'add', `to-${h.name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns);
      await ip('-n', sw, 'link', 'set', `to-${h.name}`, 'master', 'br0', 'up');
      await ip('-n', h.netns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
      await ip('-n', h.netns, 'link', 'set', 'eth0', 'up');
      await ip('-n', h.netns, 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    await destroy();
    throw err;
  }
  return { hosts, hostAddress, subnet, destroy };
}
