/**
 * The two connections a plain @socket.io/redis-adapter server makes (one to publish, one to subscribe), to the Redis
 * the topology gives it in REDIS_HOST, REDIS_PORT, REDIS_PASSWORD and REDIS_CA_CERT, reached as the service reaches it.
 */
import { createClient } from "redis";
import { redisTlsOptions } from "../../service/redis-tls";

export async function connectPlainRedis() {
  const pub = createClient({
    password: process.env.REDIS_PASSWORD,
    socket: {
      host: process.env.REDIS_HOST,
      port: Number(process.env.REDIS_PORT),
      ...redisTlsOptions(process.env.REDIS_CA_CERT),
    },
  });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) client.on("error", (error: Error) => console.error("redis:", error.message));
  await Promise.all([pub.connect(), sub.connect()]);
  return { pub, sub };
}
