/**
 * The kernel's send queues of the instance's connections (service/kernel-queues.ts), read from Linux's /proc for a
 * real connection whose peer does not read, on IPv4 and on a dual-stack (IPv6) listener.
 */
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { peerKey, sendQueues } from "../../service/kernel-queues";

test("an address is keyed the same whichever way Node writes it", () => {
  expect(peerKey("127.0.0.1", 80)).toBe(peerKey("::ffff:127.0.0.1", 80));
  expect(peerKey("::1", 80)).toBe("00000000000000000000000000000001:80");
  expect(peerKey("2001:db8::8:800:200c:417a", 1)).toBe("20010db80000000000080800200c417a:1");
  expect(peerKey("2001:DB8:0:0:8:800:200C:417A", 1)).toBe(peerKey("2001:db8::8:800:200c:417a", 1));
});

test.each(["127.0.0.1", "::"])(
  "a peer that does not read leaves bytes in the kernel's send queue, found by its address (listening on %s)",
  async (host) => {
    let accepted: Socket | undefined;
    const server = createServer((socket) => (accepted = socket));
    server.listen(0, host);
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const client = connect(port, "127.0.0.1");
    client.pause();
    await once(client, "connect");
    try {
      while (!accepted) await new Promise((resolve) => setTimeout(resolve, 10));
      // More than any kernel takes at once: what it did not take waits in the process.
      accepted.write(Buffer.alloc(32 * 1024 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const queued = sendQueues(new Set([port])).get(peerKey(accepted.remoteAddress!, accepted.remotePort!));
      expect(queued).toBeGreaterThan(64 * 1024);
      expect(accepted.writableLength).toBeGreaterThan(0);
      expect(sendQueues(new Set([port + 1])).size).toBe(0);
    } finally {
      client.destroy();
      accepted?.destroy();
      server.close();
    }
  },
);
