/**
 * How an instance verifies the Redis server over TLS.
 *
 * Memorystore for Redis (in-transit encryption) presents a certificate signed by a CA unique to the instance, whose
 * subject CN is the instance's IP address and which has no subject alternative names. Node's default identity
 * check accepts an IP address only from an IP entry in the SAN list, so it refuses every Memorystore certificate.
 * This check applies to an IP address the rule Node already applies to a DNS name: the SAN list when the certificate
 * has one, the subject CN only when it has none. The chain is still verified against the configured CA alone.
 */
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";

export function checkRedisServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
  if (cert.subjectaltname || isIP(host) === 0) return checkServerIdentity(host, cert);
  const commonName: unknown = cert.subject?.CN;
  if (commonName === host) return undefined;
  const reason = `IP: ${host} is not the certificate's subject CN (${String(commonName)}), and it has no subject alternative names`;
  return Object.assign(new Error(`Hostname/IP does not match certificate's subject: ${reason}`), {
    code: "ERR_TLS_CERT_ALTNAME_INVALID",
    reason,
    host,
    cert,
  });
}

/**
 * The TLS part of node-redis's socket options. `ca` replaces Node's public roots, so a certificate signed by any
 * other CA is refused; without a CA (a rediss:// URL to a server with a public certificate) the public roots apply.
 */
export function redisTlsOptions(caCert: string | undefined) {
  return { tls: true as const, ca: caCert, checkServerIdentity: checkRedisServerIdentity };
}
