// Which client addresses count as one for per-address limits (sockets per address on the relay,
// STUN requests per second). An IPv6 host usually holds a whole /64 and can use any address in
// it, so counting single IPv6 addresses would be no limit at all: a /64 counts as one, like one
// IPv4 address (one home behind its NAT).

import { parseIpAddress, type IpAddress } from "./stun/message.js";

export function sourceKey(ip: IpAddress): string {
  if (ip.family === 4) return ip.bytes.join(".");
  return `${Buffer.from(ip.bytes.subarray(0, 8)).toString("hex")}/64`;
}

/** The limit key of a socket's remote address as Node reports it (IPv4-mapped IPv6 counts as IPv4). */
export function addressKey(address: string): string {
  const ip = parseIpAddress(address);
  // Not an IP (a test's fake address): counted as given.
  return ip === null ? address : sourceKey(ip);
}
