/**
 * Who this browser draws as: a secret key (the service derives the user's id from it), a name and a colour, chosen
 * on the first visit and kept in localStorage, so the same person keeps their undo history and their cursor's name
 * across reloads and boards. Where storage is unavailable (some private modes) the identity lasts as long as the
 * page. A name is normalized as the service normalizes it (protocol/names.ts), so that the page never sends one the
 * service would refuse: a join refused for its name would be retried, and refused, for ever.
 */
import type { UserInput } from "../../protocol/events";
import { COLOR_PATTERN, KEY_PATTERN } from "../../protocol/events";
import { MAX_NAME_LENGTH, normalizeName } from "../../protocol/names";
import { randomId } from "../../protocol/random-id";

const STORAGE_KEY = "whiteboard.user";
/** Cursor colours: distinct from each other and readable under white text (contrast 4.5:1 or more). */
const USER_COLORS = ["#c5221f", "#b05a00", "#137333", "#007b83", "#1967d2", "#8430ce", "#a50e0e", "#5f6368"];
const ADJECTIVES = [
  "Amber",
  "Brisk",
  "Calm",
  "Deft",
  "Eager",
  "Fond",
  "Glad",
  "Keen",
  "Merry",
  "Quick",
  "Sunny",
  "Witty",
];
const ANIMALS = ["Otter", "Heron", "Lynx", "Panda", "Robin", "Fox", "Koala", "Wren", "Seal", "Ibex", "Finch", "Hare"];

/**
 * The browser's localStorage, looked up when used: typed here rather than through the DOM library, as the unit tests
 * run this module in Node.js, where there is none (reads and writes then fail, as in a private mode, and are caught).
 */
interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}
const storage = () => (globalThis as { localStorage?: KeyValueStorage }).localStorage;

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)] as T;

const randomName = () => `${pick(ADJECTIVES)} ${pick(ANIMALS)}`;

/** The stored identity, or a new one (stored at once). */
export function loadUser(): UserInput {
  const stored = read();
  if (stored) return stored;
  // 16 random bytes: 22 characters, 128 bits.
  const user = { key: randomId(16), name: randomName(), color: pick(USER_COLORS) };
  saveUser(user);
  return user;
}

/** A new name or colour for the same key; returns the identity as kept. */
export function renameUser(user: UserInput, name: string, color: string): UserInput {
  const updated = {
    key: user.key,
    name: shownName(name) || user.name,
    color: COLOR_PATTERN.test(color) ? color : user.color,
  };
  saveUser(updated);
  return updated;
}

/** A name as others will see it, cut to its most characters: "" when nothing visible is left. */
function shownName(name: string): string {
  return [...normalizeName(name)].slice(0, MAX_NAME_LENGTH).join("").trim();
}

function saveUser(user: UserInput): void {
  try {
    storage()?.setItem(STORAGE_KEY, JSON.stringify(user));
  } catch {
    // Storage refused: the identity lives with this page.
  }
}

function read(): UserInput | undefined {
  try {
    const value: unknown = JSON.parse(storage()?.getItem(STORAGE_KEY) ?? "null");
    if (typeof value !== "object" || value === null) return undefined;
    // Protocol 1 kept a random `id` where protocol 2 keeps a secret `key`: one that fits a key is kept as it.
    const { key, id, name, color } = value as Record<string, unknown>;
    const secret = typeof key === "string" ? key : id;
    if (typeof secret !== "string" || !KEY_PATTERN.test(secret)) return undefined;
    // A name kept before names were normalized here is normalized now; the key, and so who this is, stays.
    return {
      key: secret,
      name: (typeof name === "string" && shownName(name)) || randomName(),
      color: typeof color === "string" && COLOR_PATTERN.test(color) ? color : pick(USER_COLORS),
    };
  } catch {
    return undefined;
  }
}
