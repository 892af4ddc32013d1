/**
 * The text of text elements and notes as the protocol carries it (`d`): base64url of its UTF-8 bytes, so that
 * stored records never hold quotes, backslashes or brackets (docs/protocol.md).
 */
import { MAX_TEXT_LENGTH } from "../../protocol/events";

export function encodeText(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode([...text].slice(0, MAX_TEXT_LENGTH).join("")))
    binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The text of `d`; "" when it is not valid base64url of UTF-8 (never the case for what the store accepted). */
export function decodeText(d: string): string {
  try {
    const binary = atob(d.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(binary, (character) => character.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return "";
  }
}
