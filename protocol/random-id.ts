/**
 * Random URL-safe ids (base64url, `[A-Za-z0-9_-]`), from the platform's cryptographic generator: Web Crypto
 * in browsers and in Node alike. Board ids take 16 bytes (128 bits, 22 characters) so that a board cannot be
 * found by guessing its name; stroke and user ids take fewer, being only unique, not secret.
 */
export function randomId(bytes: number): string {
  let binary = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(bytes))) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A new board's id: 128 random bits. */
export const newBoardId = (): string => randomId(16);
