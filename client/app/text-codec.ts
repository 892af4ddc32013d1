/**
 * The text of text elements and notes as the protocol carries it (`d`): base64url of its UTF-8, so that stored
 * records never hold quotes, backslashes or brackets.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeText(text: string): string {
  let binary = "";
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The text, or undefined when `d` is not base64url of UTF-8. */
export function decodeText(data: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(data) || data.length % 4 === 1) return undefined;
  try {
    const binary = atob(data.replace(/-/g, "+").replace(/_/g, "/"));
    return decoder.decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
  } catch {
    return undefined;
  }
}
