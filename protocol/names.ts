/**
 * Display names as others see them, shared by the service (which normalizes every name it is sent: ./schema.ts) and
 * the page (which normalizes a name when it is typed, so that it never sends one the service would refuse). No zod
 * here: the page's bundle takes this module alone.
 */

/**
 * The names of invisible characters a name may not hold besides the control, format and separator categories:
 * Hangul fillers, the Braille blank, the combining grapheme joiner, Khmer's inherent vowels and Mongolian's
 * variation selectors: each renders as nothing, so a name of them looks empty or like someone else's.
 */
const INVISIBLE =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800]|\u034F|\u17B4|\u17B5|\u180B|\u180C|\u180D|\u180E|\u180F/gu;
/** More than two combining marks on one character (zalgo): the third and later are dropped. */
const MARK_PILES = /(\p{M}{2})\p{M}+/gu;
/** Most characters (code points) of a normalized name. */
export const MAX_NAME_LENGTH = 40;

/**
 * A display name as others see it: NFC, whitespace runs as one space and none at either end, no control, format or
 * invisible filler characters, at most two combining marks on one character. Empty when nothing visible is left.
 */
export function normalizeName(raw: string): string {
  // Marks are counted decomposed (é is e and one mark), then composed again.
  return raw
    .normalize("NFD")
    .replace(/\s+/gu, " ")
    .replace(INVISIBLE, "")
    .replace(MARK_PILES, "$1")
    .replace(/ {2,}/g, " ")
    .trim()
    .normalize("NFC");
}
