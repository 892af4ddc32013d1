/**
 * What the kernel holds for each of the instance's TCP connections: its send queue, the bytes it took from the
 * process and its peer has not acknowledged yet (`tx_queue` in Linux's /proc/net/tcp and /proc/net/tcp6). A peer that
 * does not read leaves up to the kernel's largest send buffer there (tcp_wmem's maximum: 4 MiB with Linux's defaults),
 * memory that counts against a Cloud Run instance's (a second-generation instance is a VM with its own kernel) but
 * not in the process's RSS. Read where /proc has them; elsewhere nothing is known and every queue reads as empty.
 */
import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";

const ESTABLISHED = "01";

/** A connection's peer, as the key of {@link sendQueues}: its address as 16 bytes (IPv4 mapped) in hex, and port. */
export function peerKey(address: string, port: number): string {
  return `${addressBytes(address)}:${port}`;
}

/** The send queue of every established connection to one of `localPorts`, by {@link peerKey} of its peer. */
export function sendQueues(localPorts: ReadonlySet<number>): Map<string, number> {
  const queues = new Map<string, number>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "latin1");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue ...
      const [, local, remote, state, queue] = line.trim().split(/\s+/);
      if (state !== ESTABLISHED || !local || !remote || !queue) continue;
      if (!localPorts.has(parseInt(local.slice(local.indexOf(":") + 1), 16))) continue;
      const [remoteHex = "", remotePort = ""] = remote.split(":");
      const key = `${procAddressBytes(remoteHex)}:${parseInt(remotePort, 16)}`;
      queues.set(key, parseInt(queue.slice(0, queue.indexOf(":")), 16));
    }
  }
  return queues;
}

/** /proc's address: 4 (IPv4) or 16 (IPv6) bytes in hex, each 32-bit word in the machine's (little-endian) order. */
function procAddressBytes(hex: string): string {
  let bytes = "";
  for (let word = 0; word < hex.length; word += 8) {
    for (let byte = 6; byte >= 0; byte -= 2) bytes += hex.slice(word + byte, word + byte + 2);
  }
  return (bytes.length === 8 ? `00000000000000000000ffff${bytes}` : bytes).toLowerCase();
}

/** An address as Node gives it (`1.2.3.4`, `::ffff:1.2.3.4`, `2001:db8::1`): its 16 bytes in hex, IPv4 mapped. */
function addressBytes(address: string): string {
  const v4 = (text: string) =>
    text
      .split(".")
      .map((part) => Number(part).toString(16).padStart(2, "0"))
      .join("");
  if (isIPv4(address)) return `00000000000000000000ffff${v4(address)}`;
  const [head = "", tail] = address.toLowerCase().split("::");
  const groups = (text: string | undefined) =>
    (text ? text.split(":") : []).flatMap((group) =>
      group.includes(".") ? [v4(group).slice(0, 4), v4(group).slice(4)] : [group.padStart(4, "0")],
    );
  const [left, right] = [groups(head), groups(tail)];
  return [...left, ...Array<string>(8 - left.length - right.length).fill("0000"), ...right].join("");
}
